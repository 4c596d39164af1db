"""Object storage for backups and model artifacts (SPEC connection `backup_storage`).

With a `backup_storage` connection (conn type `aws`; its `endpoint_url` extra is honoured, so MinIO or
moto work too) objects go to the S3 bucket named by the setting STORAGE_BUCKET, under STORAGE_PREFIX,
encrypted at rest (SSE-S3) and with a SHA-256 checksum the server verifies on upload. Without it they go
to the local folder <LOCAL_DIR>/storage, which is the local mode and says so.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONN_ID = "backup_storage"
PART_BYTES = 16 * 1024 * 1024  # S3 multipart part size (5 MiB at least; 10,000 parts: up to 160 GiB)
CHUNK_BYTES = 1024 * 1024


class StorageError(RuntimeError):
    """Storage could not be reached or did not hold what was asked for; the message says which."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def private_folder(path: Path) -> Path:
    """Creates `path` and its missing parents as 0700, whatever the umask: the local mode's dumps, emails and
    alerts hold customers' data."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(0o700)
    return path


def open_private(path: Path, mode: str = "wb") -> Any:
    """Opens `path` for writing ("wb", "w" or "a") as a 0600 file, created so (never readable by others for a
    moment), in a private_folder."""
    private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # a file an older version left 0644
    return os.fdopen(fd, mode)


def write_private(path: Path, data: bytes) -> None:
    with open_private(path) as out:
        out.write(data)


@dataclass
class Stored:
    """What a streamed upload or download moved: its URI, size and SHA-256 (of the bytes themselves; S3's
    own checksum of a multipart upload is a checksum of part checksums, not this)."""
    uri: str
    bytes: int
    sha256: str


class _Tally:
    """Counts and hashes chunks as they pass."""

    def __init__(self) -> None:
        self.hash, self.bytes = hashlib.sha256(), 0

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.hash.update(chunk)
            self.bytes += len(chunk)
            yield chunk

    def stored(self, uri: str) -> Stored:
        return Stored(uri, self.bytes, self.hash.hexdigest())


@dataclass
class LocalStorage:
    root: Path

    def uri(self, key: str) -> str:
        return (self.root / key).as_uri()

    def put_bytes(self, key: str, data: bytes) -> str:
        path = self.root / key
        partial = path.with_name(path.name + ".partial")  # a reader never sees half a file
        write_private(partial, data)
        partial.replace(path)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.uri(key)} does not exist") from None

    def upload_stream(self, key: str, chunks: Iterable[bytes]) -> Stored:
        """Writes the chunks as they come; the object appears only once they all arrived."""
        path = self.root / key
        partial, tally = path.with_name(path.name + ".partial"), _Tally()
        try:
            with open_private(partial) as out:
                for chunk in tally.feed(chunks):
                    out.write(chunk)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return tally.stored(self.uri(key))

    def download_to(self, key: str, target: Path) -> Stored:
        tally = _Tally()
        try:
            with (self.root / key).open("rb") as src, target.open("wb") as out:
                for chunk in tally.feed(iter(lambda: src.read(CHUNK_BYTES), b"")):
                    out.write(chunk)
        except FileNotFoundError:
            raise StorageError(f"{self.uri(key)} does not exist") from None
        return tally.stored(self.uri(key))

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)


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

    def upload_stream(self, key: str, chunks: Iterable[bytes]) -> Stored:
        """A multipart upload fed as the chunks come (one part in memory at a time). Any failure, the
        producer's included, aborts it: no partial object is left behind."""
        target = {"Bucket": self.bucket, "Key": self._key(key)}
        upload_id = self._call("upload", self.client.create_multipart_upload, **target,
                               ServerSideEncryption="AES256", ChecksumAlgorithm="SHA256")["UploadId"]
        tally, parts, buffer = _Tally(), [], bytearray()

        def send(data: bytes) -> None:
            number = len(parts) + 1
            answer = self._call("upload", self.client.upload_part, **target, UploadId=upload_id,
                                PartNumber=number, Body=data, ChecksumAlgorithm="SHA256")
            parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})

        try:
            for chunk in tally.feed(chunks):
                buffer += chunk
                if len(buffer) >= PART_BYTES:
                    send(bytes(buffer))
                    buffer.clear()
            if buffer or not parts:
                send(bytes(buffer))
            self._call("upload", self.client.complete_multipart_upload, **target, UploadId=upload_id,
                       MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.client.abort_multipart_upload(**target, UploadId=upload_id)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
            raise
        return tally.stored(self.uri(key))

    def download_to(self, key: str, target: Path) -> Stored:
        body = self._call("download", self.client.get_object, Bucket=self.bucket, Key=self._key(key))["Body"]
        tally = _Tally()
        with target.open("wb") as out:
            for chunk in tally.feed(body.iter_chunks(CHUNK_BYTES)):
                out.write(chunk)
        return tally.stored(self.uri(key))

    def list_keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        keys: list[str] = []
        try:
            for page in pages:
                keys += [o["Key"][len(self.prefix):] for o in page.get("Contents", [])]
        except Exception as exc:  # noqa: BLE001 - reported as a storage error with the bucket named
            raise StorageError(f"listing s3://{self.bucket}/{self._key(prefix)} failed: {exc}") from None
        return sorted(keys)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self._key(k)} for k in keys[start:start + 1000]]
            self._call("delete", self.client.delete_objects, Bucket=self.bucket, Delete={"Objects": batch})


Storage = LocalStorage | S3Storage


# Executors that run every task on the scheduler's machine, where the local folder is the same for all tasks.
ONE_MACHINE_EXECUTORS = {"LocalExecutor", "SequentialExecutor"}


def open_storage() -> Storage:
    """S3 when the backup_storage connection exists, else the local folder (on one machine only: with the
    Celery or Kubernetes executor a backup or model on one worker's disk is not there for the next task)."""
    from saas_ops import config, db

    conn = db.optional_connection(CONN_ID)
    if conn is None:
        distributed = sorted(set(configured_executors()) - ONE_MACHINE_EXECUTORS)
        if distributed:
            raise StorageError(f"no {CONN_ID} connection, and Airflow runs tasks with {', '.join(distributed)}: "
                               "a backup or model kept on one worker's local disk cannot be read by the task on "
                               f"another worker. Define the {CONN_ID} connection (S3, or MinIO through endpoint_url).")
        return LocalStorage(config.local_dir() / "storage")
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    prefix = config.setting("STORAGE_PREFIX").strip("/")
    return S3Storage(S3Hook(aws_conn_id=CONN_ID).get_conn(), config.setting("STORAGE_BUCKET"),
                     f"{prefix}/" if prefix else "")


def configured_executors() -> list[str]:
    """The executors of Airflow's [core] executor setting, by class name (it may list several, with aliases or
    module paths)."""
    from airflow.configuration import conf

    names = [name.strip() for name in conf.get("core", "executor", fallback="LocalExecutor").split(",")]
    return [name.rsplit(":", 1)[-1].rsplit(".", 1)[-1] for name in names if name]
