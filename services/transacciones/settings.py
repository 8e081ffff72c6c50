"""Settings of the transacciones process (env prefix TRANSACCIONES_)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.platform.settings import ServiceSettings


class TransaccionesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSACCIONES_", env_file=None, extra="ignore")

    instance: str = Field("transacciones", description="name in logs, metrics and Kafka groups, e.g. transacciones-1")
    advertised_url: str | None = Field(
        None,
        description="how the other instances reach this one (a cancellation is forwarded to the instance running "
        "the saga), e.g. http://127.0.0.1:8014; unset: not forwarded (409)",
    )
    fence_grace_seconds: float = Field(
        2.0, ge=0, description="how long a new owner of a saga partition lets the previous owner's last write land"
    )
    fence_check_seconds: float = Field(
        0.5, ge=0, description="how long a check of the held partitions' epochs stands (at most half the grace)"
    )
    mongo_url: str = "mongodb://127.0.0.1:27017/"
    database: str = "transacciones"
    money_bson: Literal["auto", "decimal128", "string"] = Field(
        "auto",
        description="how amounts are stored: Decimal128 (MongoDB) or exact decimal strings (FerretDB 1.x has no "
        "Decimal128); auto asks the server",
    )
    wait_seconds: float = Field(2.0, ge=0, le=30, description="how long POST waits for the saga's final state")
    stuck_after_seconds: float = Field(30.0, gt=0, description="a saga step older than this is re-sent")
    max_resend_interval_seconds: float = Field(300.0, gt=0, description="cap of the re-send backoff")
    sweep_interval_seconds: float = Field(1.0, gt=0)
    recovery_interval_seconds: float = Field(
        300.0, gt=0, description="full re-scan for pending work (start-up always scans)"
    )
    list_index: Literal["auto", "on", "off"] = Field(
        "auto",
        description="answer the list endpoints from an in-memory index (listing.py); auto: on FerretDB 1.x only, "
        "whose queries scan whole collections",
    )
    secondary_indexes: Literal["auto", "on", "off"] = Field(
        "auto",
        description="keep the list queries' indexes in the store (off drops them); auto: off on FerretDB 1.x, which "
        "answers only a bare _id filter by index and pays for every other index on each insert",
    )
    write_batch: int = Field(500, ge=1, le=5000, description="most document writes per database round trip")
    relay_batch: int = Field(1000, ge=1, le=10000, description="most events published per relay round")
    publish_ack_fold_seconds: float = Field(
        5.0,
        ge=0,
        description="how long a published event may stay in its document waiting to be removed by the "
        "document's next write instead of a write of its own",
    )
    cotizacion_seconds: float = Field(
        60.0, gt=0, le=3600, description="how long a quote (POST /cotizaciones) holds its rate for the transfer"
    )
    cache_documents: int = Field(100_000, ge=1000, description="documents the writer keeps in memory")
