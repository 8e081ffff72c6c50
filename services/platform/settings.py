"""The settings every service process has; each service subclasses it with its own env prefix."""

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PASSWORDS = {"bank", "password", "postgres", "root", "admin", ""}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: str = Field("development", description="development | test | production")
    version: str = "0.1.0"
    kafka_bootstrap: str = "127.0.0.1:9092"
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    run_workers: bool = Field(True, description="run this process's relay and consumers beside the API")
    fault_injection: bool = Field(
        False, description="honour the X-Failpoint request header (crash tests only; services.platform.failpoints)"
    )

    def database_password(self) -> str:
        """Override in services that have a database password, so production refuses dev defaults."""
        return "-"

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> "ServiceSettings":
        if self.environment == "production" and self.database_password() in DEV_PASSWORDS:
            raise ValueError("a development password is configured in production")
        if self.environment == "production" and self.fault_injection:
            raise ValueError("fault injection lets any request kill the process: never in production")
        return self
