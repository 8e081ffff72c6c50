"""Settings of the lake sink process (env prefix LAKE_)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.brokers import bootstrap_servers
from contracts.topics import DOMAIN_TOPICS

# <checkout>/.run/lake: beside the local stack's other data, deleted by `make clean`.
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / ".run" / "lake"


class SinkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAKE_", env_file=None, extra="ignore")

    environment: str = "development"
    kafka_bootstrap: str = Field(
        default_factory=bootstrap_servers, description="default: every broker of KAFKA_BROKERS"
    )
    group_id: str = "lake.sink"
    instance: str = Field("lake", description="this sink instance's name (logs; metrics read LAKE_INSTANCE too)")
    # How many event ids per partition are remembered to drop an outbox's re-published copy (see batch.EventWindow);
    # kept in the partition's manifest, so a new owner (rebalance, restart) remembers them too. 0 = no dedupe.
    dedupe_window: int = Field(10_000, ge=0, le=1_000_000)
    topics: list[str] = Field(default_factory=lambda: list(DOMAIN_TOPICS))
    root: str = Field(str(DEFAULT_ROOT), description="a folder, or s3://bucket/prefix")
    s3_endpoint_url: str | None = Field(None, description="any S3 endpoint (MinIO, moto, ...); None = AWS")
    aws_region: str = "us-east-1"
    glue_database: str | None = Field("cloud_bank", description="S3 lakes only; empty/None = no Glue registration")
    flush_records: int = Field(5000, gt=0, description="flush a partition's batch at this many records ...")
    # 30 s: fresh enough for dashboards, and few enough files at low traffic (every file costs readers).
    flush_seconds: float = Field(30.0, gt=0, description="... or when its oldest record waited this long")
    max_poll_records: int = Field(2000, gt=0)
    # Crash drill for tests: SIGKILL ourselves after writing this many data files (mid-flush, before the
    # commit). Refused in production.
    debug_kill_after_files: int | None = None
    # Prometheus /metrics of this process (services.platform.metrics); the second instance takes the next port.
    metrics_host: str = Field("127.0.0.1", description="interface of the /metrics listener (0.0.0.0 in a container)")
    metrics_port: int = Field(9464, ge=0, le=65535, description="port of the /metrics listener; 0 = none")
