"""Settings of the analytics process (env prefix ANALYTICS_)."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.platform.settings import ServiceSettings

# Where the lake sink writes by default (<checkout>/.run/lake); the two processes share only this folder.
DEFAULT_LAKE = Path(__file__).resolve().parents[2] / ".run" / "lake"


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", env_file=None, extra="ignore")

    engine: Literal["duckdb", "athena"] = "duckdb"
    metrics_targets: str = Field(
        "", description="name=url,... of every /metrics for GET /api/operaciones; empty: infra/metrics-targets.txt"
    )
    lake_root: str = Field(str(DEFAULT_LAKE), description="a folder, or s3://bucket/prefix")
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"

    query_timeout_seconds: float = Field(15.0, gt=0, description="every query is interrupted after this")
    custom_max_rows: int = Field(1000, ge=1, le=100_000, description="row limit of POST /api/query/custom")
    max_concurrent_queries: int = Field(4, ge=1)
    # Custom queries run apart (their own DuckDB database, threads and slots) so they cannot starve the
    # dashboards; over these bounds they are refused or interrupted, never left to take the process down.
    custom_max_concurrent: int = Field(2, ge=1, description="custom queries at once; more answer 429")
    custom_max_bytes: int = Field(4_000_000, ge=1_000, description="answer size of a custom query (rows are cut)")
    custom_threads: int = Field(1, ge=1)
    custom_memory_limit: str = "512MB"
    custom_rss_limit_mb: int = Field(
        1536, ge=0, description="a custom query is interrupted when the process's RSS passes this (0: no limit)"
    )

    duckdb_threads: int = Field(2, ge=1)
    duckdb_memory_limit: str = "1GB"
    # The lake is listed this often in the background; when files changed, the materialized
    # current-state views are rebuilt (so answers lag the lake by about this much plus a rebuild).
    listing_ttl_seconds: float = Field(3.0, ge=0)
    # > 0: materialize the current-state views (fast dashboards), rebuilt at most this often when the lake
    # changed; 0: plain views (exact, but every request folds all events: slow on big lakes).
    state_cache_seconds: float = Field(10.0, ge=0)

    athena_database: str = "cloud_bank"
    athena_workgroup: str = "primary"
    athena_output: str | None = Field(None, description="s3:// folder for Athena results (workgroup default if None)")
