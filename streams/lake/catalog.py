"""Registers lake tables and their date partitions in the AWS Glue catalog, so Athena sees new data at once
(no crawler). Idempotent: an existing table is updated only when its columns changed; an existing
partition is left alone."""

import contextlib
import logging
from typing import Any, Protocol

from contracts.lake import PARTITION_COLUMN, hive_columns

log = logging.getLogger(__name__)

_PARQUET_SD = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}


class Catalog(Protocol):
    def register(self, table: str, dts: set[str]) -> None: ...


class NoCatalog:
    """Local folder lakes have no catalog: readers glob the folders."""

    def register(self, table: str, dts: set[str]) -> None:
        return None


def table_input(table: str, location: str) -> dict[str, Any]:
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
        "PartitionKeys": [{"Name": PARTITION_COLUMN, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in hive_columns(table)],
            "Location": location,
            **_PARQUET_SD,
        },
    }


class GlueCatalog:
    """`location_of(table)` gives the table's s3:// folder (ending in /)."""

    def __init__(self, client: Any, database: str, location_of: Any) -> None:
        self._glue = client
        self.database = database
        self._location_of = location_of
        self._tables_checked: set[str] = set()
        self._known: dict[str, set[str]] = {}

    def ensure_database(self) -> None:
        with contextlib.suppress(self._glue.exceptions.AlreadyExistsException):
            self._glue.create_database(DatabaseInput={"Name": self.database, "Description": "Cloud Bank event lake"})

    def ensure_table(self, table: str) -> None:
        wanted = table_input(table, self._location_of(table))
        try:
            current = self._glue.get_table(DatabaseName=self.database, Name=table)["Table"]
        except self._glue.exceptions.EntityNotFoundException:
            self.ensure_database()
            self._glue.create_table(DatabaseName=self.database, TableInput=wanted)
            log.info("glue: created table %s.%s", self.database, table)
            return
        if current["StorageDescriptor"].get("Columns") != wanted["StorageDescriptor"]["Columns"]:
            # Additive event fields add columns; old files simply read them as NULL.
            self._glue.update_table(DatabaseName=self.database, TableInput=wanted)
            log.info("glue: updated columns of %s.%s", self.database, table)

    def register(self, table: str, dts: set[str]) -> None:
        if table not in self._tables_checked:
            self.ensure_table(table)
            self._tables_checked.add(table)
        known = self._known.setdefault(table, set())
        new = sorted(dts - known)
        for start in range(0, len(new), 100):  # BatchCreatePartition takes at most 100
            chunk = new[start : start + 100]
            answer = self._glue.batch_create_partition(
                DatabaseName=self.database,
                TableName=table,
                PartitionInputList=[self._partition_input(table, dt) for dt in chunk],
            )
            for error in answer.get("Errors", []):
                if error.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException":
                    raise RuntimeError(f"glue refused partition {table} {error}")
        known.update(new)

    def _partition_input(self, table: str, dt: str) -> dict[str, Any]:
        return {
            "Values": [dt],
            "StorageDescriptor": {
                "Columns": [{"Name": name, "Type": kind} for name, kind in hive_columns(table)],
                "Location": f"{self._location_of(table)}{PARTITION_COLUMN}={dt}/",
                **_PARQUET_SD,
            },
        }
