"""Settings of the perfil process (env prefix PERFIL_, e.g. PERFIL_DATABASE_URL, PERFIL_KAFKA_BOOTSTRAP)."""

from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from contracts import topics
from services.platform.settings import ServiceSettings


class PerfilSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PERFIL_", env_file=None, extra="ignore")

    database_url: str = Field(
        "postgresql://bank:bank@127.0.0.1:5432/perfil",
        description="the view's own database; created at start-up when missing",
    )
    db_pool_min: int = Field(1, ge=1)
    db_pool_max: int = Field(10, ge=1)
    db_command_timeout: float = Field(30.0, gt=0)
    topics: list[str] = Field(default_factory=lambda: list(topics.DOMAIN_TOPICS), description="topics folded")
    group_id: str = Field(
        "perfil.proyeccion", description="consumer group of the perfil instances: they share the topics' partitions"
    )
    batch_max_records: int = Field(2000, ge=1, le=50_000, description="records folded per transaction at most")

    def database_password(self) -> str:
        password = urlsplit(self.database_url).password
        return "-" if password is None else password

    @model_validator(mode="after")
    def _pool_bounds(self) -> "PerfilSettings":
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("db_pool_min must not exceed db_pool_max")
        return self
