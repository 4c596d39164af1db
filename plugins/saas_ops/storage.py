"""Object storage for backups and model artifacts (SPEC connection `backup_storage`).

With a `backup_storage` connection (conn type `aws`; its `endpoint_url` extra is honoured, so MinIO or
moto work too) objects go to the S3 bucket named by the setting STORAGE_BUCKET, under STORAGE_PREFIX,
encrypted at rest (SSE-S3) and with a SHA-256 checksum the server verifies on upload. Without it they go
to the local folder <LOCAL_DIR>/storage, which is the local mode and says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONN_ID = "backup_storage"


class StorageError(RuntimeError):
    """Storage could not be reached or did not hold what was asked for; the message says which."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class LocalStorage:
    root: Path

    def uri(self, key: str) -> str:
        return (self.root / key).as_uri()

    def put_bytes(self, key: str, data: bytes) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")  # a reader never sees half a file
        partial.write_bytes(data)
        partial.replace(path)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.uri(key)} does not exist") from None


@dataclass
class S3Storage:
    client: Any
    bucket: str
    prefix: str

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise StorageError(f"{what}: {self.uri(kwargs.get('Key', '')[len(self.prefix):])} does not exist") \
                    from None
            if code == "NoSuchBucket":
                raise StorageError(f"{what}: bucket {self.bucket} does not exist; create it, or set the Variable "
                                   "STORAGE_BUCKET to one that does") from None
            raise StorageError(f"{what} on s3://{self.bucket} failed: {code} {exc}") from None
        except BotoCoreError as exc:  # endpoint unreachable, credentials missing, ...
            raise StorageError(f"{what} on s3://{self.bucket} failed: {exc}") from None

    def put_bytes(self, key: str, data: bytes) -> str:
        self._call("upload", self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data,
                   ServerSideEncryption="AES256", ChecksumAlgorithm="SHA256")
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        body = self._call("download", self.client.get_object, Bucket=self.bucket, Key=self._key(key))["Body"]
        return body.read()


Storage = LocalStorage | S3Storage


def open_storage() -> Storage:
    """S3 when the backup_storage connection exists, else the local folder."""
    from saas_ops import config, db

    conn = db.optional_connection(CONN_ID)
    if conn is None:
        return LocalStorage(config.local_dir() / "storage")
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    prefix = config.setting("STORAGE_PREFIX").strip("/")
    return S3Storage(S3Hook(aws_conn_id=CONN_ID).get_conn(), config.setting("STORAGE_BUCKET"),
                     f"{prefix}/" if prefix else "")
