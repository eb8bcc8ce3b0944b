"""Where bytes live: a local folder or an `s3://` prefix, behind one small interface.

Delta tables go through delta-rs with `storage_options`; plain objects (landing) go through
this module. Writes are atomic: a local write goes to a temporary name and is renamed, an S3
PUT is atomic by nature.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from medlake.errors import LakeError, MissingExtraError


class Storage(Protocol):
    """A root URI and byte-level access below it (keys are `/`-separated)."""

    @property
    def root(self) -> str: ...

    def uri(self, key: str) -> str: ...
    def exists(self, key: str) -> bool: ...
    def read_bytes(self, key: str) -> bytes: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def delta_options(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class LocalStorage:
    root: str

    def uri(self, key: str) -> str:
        return str(Path(self.root) / key) if key else self.root

    def exists(self, key: str) -> bool:
        return Path(self.uri(key)).exists()

    def read_bytes(self, key: str) -> bytes:
        return Path(self.uri(key)).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        target = Path(self.uri(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def list(self, prefix: str) -> Iterator[str]:
        base = Path(self.root)
        start = base / prefix
        if not start.exists():
            return
        for p in sorted(start.rglob("*")):
            if p.is_file() and not p.name.startswith(".tmp-"):
                yield p.relative_to(base).as_posix()

    def delta_options(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class S3Storage:
    root: str  # s3://bucket/prefix
    options: dict[str, str] = field(default_factory=dict)

    def _split(self, key: str) -> tuple[str, str]:
        rest = self.root.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        full = f"{prefix.strip('/')}/{key}".strip("/") if prefix else key
        return bucket, full

    def _client(self) -> Any:
        try:
            import boto3
        except ImportError:
            raise MissingExtraError("boto3", "s3") from None
        opts = self.options
        return boto3.client(
            "s3",
            endpoint_url=opts.get("AWS_ENDPOINT_URL") or opts.get("endpoint_url"),
            region_name=opts.get("AWS_REGION", "us-east-1"),
            aws_access_key_id=opts.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=opts.get("AWS_SECRET_ACCESS_KEY"),
        )

    def uri(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}" if key else self.root

    def exists(self, key: str) -> bool:
        bucket, k = self._split(key)
        client = self._client()
        try:
            client.head_object(Bucket=bucket, Key=k)
            return True
        except client.exceptions.ClientError:
            return False

    def read_bytes(self, key: str) -> bytes:
        bucket, k = self._split(key)
        body = self._client().get_object(Bucket=bucket, Key=k)["Body"]
        data: bytes = body.read()
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        bucket, k = self._split(key)
        self._client().put_object(Bucket=bucket, Key=k, Body=data)

    def list(self, prefix: str) -> Iterator[str]:
        bucket, k = self._split(prefix)
        _, root_prefix = self._split("")
        paginator = self._client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=k):
            for obj in page.get("Contents", []):
                key: str = obj["Key"]
                yield key[len(root_prefix) :].lstrip("/") if root_prefix else key

    def delta_options(self) -> dict[str, str]:
        opts = {"AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true", **self.options}
        if "AWS_REGION" not in opts:
            opts["AWS_REGION"] = "us-east-1"
        return opts


def open_storage(root: str, options: dict[str, str] | None = None) -> Storage:
    """A `Storage` for a local folder or an `s3://` URI."""
    if root.startswith("s3://"):
        return S3Storage(root, dict(options or {}))
    if "://" in root and not root.startswith("file://"):
        raise LakeError(
            f"lake location `{root}` is not supported; use a local folder or `s3://bucket/prefix`",
            uri=root,
        )
    return LocalStorage(root.removeprefix("file://"))
