"""The settings every service process has; each service subclasses it with its own env prefix."""

import os

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.brokers import bootstrap_servers

DEV_PASSWORDS = {"bank", "password", "postgres", "root", "admin", ""}


def is_dev_secret(value: str) -> bool:
    """A development default: the stack's database passwords, or a `*-dev*` password / client secret
    (`admin-dev`, `cli-dev-secret`, ...)."""
    return value in DEV_PASSWORDS or value.endswith("-dev") or "-dev-" in value


def _environment() -> str:
    # CLOUDBANK_ENV is the whole stack's (Keycloak's launcher reads it too); <PREFIX>_ENVIRONMENT still wins.
    return os.environ.get("CLOUDBANK_ENV", "development")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: str = Field(
        default_factory=_environment, description="development | test | production (default: CLOUDBANK_ENV)"
    )
    version: str = "0.1.0"
    kafka_bootstrap: str = Field(
        default_factory=bootstrap_servers, description="default: every broker of KAFKA_BROKERS"
    )
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    run_workers: bool = Field(True, description="run this process's relay and consumers beside the API")
    fault_injection: bool = Field(
        False, description="honour the X-Failpoint request header (crash tests only; services.platform.failpoints)"
    )

    def database_password(self) -> str:
        """Override in services that have a database password, so production refuses dev defaults."""
        return "-"

    def secrets(self) -> list[str]:
        """Every password or client secret this process holds (production refuses development defaults)."""
        return [self.database_password()]

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> "ServiceSettings":
        if self.environment == "production" and any(is_dev_secret(secret) for secret in self.secrets()):
            raise ValueError("a development password or client secret is configured in production")
        if self.environment == "production" and self.fault_injection:
            raise ValueError("fault injection lets any request kill the process: never in production")
        return self
