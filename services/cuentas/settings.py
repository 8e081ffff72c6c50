"""Settings of a cuentas process (env prefix CUENTAS_, e.g. CUENTAS_MYSQL_HOST, CUENTAS_KAFKA_BOOTSTRAP)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.platform.settings import ServiceSettings


class CuentasSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CUENTAS_", env_file=None, extra="ignore")

    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    mysql_user: str = "bank"
    mysql_password: str = "bank"
    mysql_database: str = "cuentas"
    # REST handlers hold a connection for a few round trips; the relay and the two consumers hold one each.
    pool_size: int = Field(20, ge=4, le=200)
    # Commands per transaction (one partition's poll): bigger batches, fewer commits per command.
    command_batch: int = Field(500, ge=1, le=5000)
    # Members of the cuentas.comandos group in this process (6 partitions for both instances). More than one only
    # pays off with spare CPU: it overlaps one batch's database round trips with another's.
    command_consumers: int = Field(1, ge=1, le=6)
    # Outbox rows per relay round (claim, publish, mark): a round costs about one Kafka acknowledgement wait plus
    # two queries, so under load bigger rounds publish more per second.
    relay_batch: int = Field(1000, ge=1, le=10000)
    relay_idle_seconds: float = Field(
        0.5,
        gt=0,
        le=10,
        description="outbox poll interval when idle; this process's own commits wake the relay at once",
    )
    expiry_interval_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="the longest the expiry task sleeps between looks (it also wakes at the next hold's vence)",
    )
    instance: str = Field("cuentas", description="name in logs and Kafka client ids, e.g. cuentas-1")

    def database_password(self) -> str:
        return self.mysql_password
