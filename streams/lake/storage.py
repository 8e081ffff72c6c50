"""Where lake files go: a local folder (fsync + atomic rename) or an S3 bucket (a PUT is atomic).

Paths are relative to the lake root and use `/`. A file is either absent or complete at its final name,
never half-written, so a reader (or a crash) never sees a torn Parquet file.
"""

import io
import os
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "snappy"  # what every Parquet reader (DuckDB, Athena engine v2 and v3, Spark) can read


def parquet_bytes(data: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(data, buffer, compression=COMPRESSION)
    return buffer.getvalue()


class LakeStore(Protocol):
    """Blocking calls (the sink runs them in a worker thread)."""

    def put(self, path: str, content: bytes) -> None: ...
    def get(self, path: str) -> bytes | None: ...
    def delete(self, paths: list[str]) -> None: ...
    def uri(self, path: str = "") -> str: ...


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, path: str, content: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        # A dot-name temp file in the same folder: readers' globs (*.parquet) skip it, and
        # os.replace within one file system is atomic.
        temp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(target.parent)  # makes the rename itself durable

    def get(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, paths: list[str]) -> None:
        folders = set()
        for path in paths:
            (self.root / path).unlink(missing_ok=True)
            folders.add((self.root / path).parent)
        for folder in folders:
            if folder.exists():
                _fsync_dir(folder)

    def uri(self, path: str = "") -> str:
        return str(self.root / path) if path else str(self.root)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Store:
    def __init__(self, url: str, client: Any) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self._s3 = client

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def put(self, path: str, content: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=self.key(path), Body=content)

    def get(self, path: str) -> bytes | None:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=self.key(path))
        except self._s3.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body

    def delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 1000):  # DeleteObjects takes at most 1000 keys
            chunk = paths[start : start + 1000]
            self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": self.key(p)} for p in chunk], "Quiet": True}
            )

    def uri(self, path: str = "") -> str:
        return f"s3://{self.bucket}/{self.key(path)}"


def open_store(root: str, *, endpoint_url: str | None = None, region: str = "us-east-1") -> LakeStore:
    """`s3://bucket/prefix` -> S3Store (any S3 endpoint); anything else is a local folder."""
    if root.startswith("s3://"):
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        return S3Store(root, client)
    folder = Path(root).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)
