"""Where 佐证材料 bytes live: a folder under the instance directory, or an S3-compatible bucket.

Owns only bytes by key (put / get / exists / delete); it knows nothing of units, periods or
permissions (``data/attachments.py`` decides what is stored and who may read it). Keys are made
by the service from the content hash, so writing the same bytes twice is harmless, and a key is
checked against a strict pattern before it touches a path or a bucket.

Configuration (environment, read by ``store_from_env``):

- ``ATTACHMENT_S3_BUCKET`` set → S3-compatible object storage through boto3, with
  ``ATTACHMENT_S3_ENDPOINT_URL`` (MinIO, Ceph, a cloud vendor's S3 endpoint; empty = AWS),
  ``ATTACHMENT_S3_PREFIX`` (default ``attachments/``), ``ATTACHMENT_S3_REGION`` and the standard
  AWS credentials (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` or any boto3 source).
- otherwise a folder: ``ATTACHMENT_DIR``, default ``instance/attachments`` of the application.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from data.db import ROOT

KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}(\.thumb)?\.(pdf|png|jpg|gif|webp|docx|xlsx|bin)$")


class StoreError(Exception):
    """The store could not be read or written (infrastructure fault, not user data)."""


class MissingObject(StoreError):
    """No object under this key."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError(f"invalid attachment key: {key!r}")
    return key


class DiskStore:
    """Objects as files under ``root`` (written to a temp file, then renamed: never half a file)."""

    kind = "disk"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise MissingObject(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Objects in an S3-compatible bucket (boto3). The bucket must exist; ``create_bucket`` is for tests/setup."""

    kind = "s3"

    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "attachments/",
                 region: str | None = None, client=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def create_bucket(self) -> None:
        self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes) -> None:
        # The object's own content type is never what the app serves (the row's detected type is);
        # a neutral one keeps a direct bucket URL from rendering anything either.
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType="application/octet-stream")

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise MissingObject(key) from None
            raise StoreError(str(exc)) from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StoreError(str(exc)) from exc

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def store_from_env(environ=None):
    """The store the environment configures (S3 when ``ATTACHMENT_S3_BUCKET`` is set, else a folder)."""
    env = os.environ if environ is None else environ
    bucket = (env.get("ATTACHMENT_S3_BUCKET") or "").strip()
    if bucket:
        return S3Store(bucket, endpoint_url=(env.get("ATTACHMENT_S3_ENDPOINT_URL") or "").strip() or None,
                       prefix=env.get("ATTACHMENT_S3_PREFIX", "attachments/"),
                       region=(env.get("ATTACHMENT_S3_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip() or None)
    return DiskStore(env.get("ATTACHMENT_DIR") or ROOT / "instance" / "attachments")


_default = None


def default_store():
    """The process's store (built from the environment on first use)."""
    global _default
    if _default is None:
        _default = store_from_env()
    return _default


def set_default_store(store) -> None:
    """Use ``store`` for this process (tests, or an app configured in code); None = from the environment again."""
    global _default
    _default = store
