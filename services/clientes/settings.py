"""Settings of the clientes process (env prefix CLIENTES_, e.g. CLIENTES_DATABASE_URL, CLIENTES_KAFKA_BOOTSTRAP)."""

from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from contracts import topics
from services.clientes.projection import CONSUMER
from services.platform.settings import ServiceSettings


class ClientesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLIENTES_", env_file=None, extra="ignore")

    database_url: str = "postgresql://bank:bank@127.0.0.1:5432/clientes"
    db_pool_min: int = Field(2, ge=1)
    db_pool_max: int = Field(10, ge=1)
    db_command_timeout: float = Field(10.0, gt=0, description="seconds before a query is abandoned (-> 503)")
    relay_idle_seconds: float = Field(
        1.0, gt=0, description="outbox poll interval when idle; this process's own commits wake the relay at once"
    )
    cuentas_topic: str = Field(topics.CUENTAS, description="where the account projection reads cuentas events")
    cuentas_group: str = Field(CONSUMER, description="consumer group of the account projection")

    def database_password(self) -> str:
        password = urlsplit(self.database_url).password
        # No password in the URL means another kind of authentication (certificate, IAM), not a default secret.
        return "-" if password is None else password

    @model_validator(mode="after")
    def _pool_bounds(self) -> "ClientesSettings":
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("db_pool_min must not exceed db_pool_max")
        return self
