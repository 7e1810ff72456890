"""Where sealed attachments live, behind one interface (:class:`BlobStore`).

- :class:`LocalStore`: a folder (the laptop stack, ``make up``: ``.slrt/attachments``). Files are
  written to a temporary name and renamed, so a reader never sees half a file.
- :class:`S3Store`: an S3-compatible object store (Kubernetes: the cloud's object storage, or a
  MinIO/Ceph/versitygw the cluster runs), through boto3 with path-style addressing and
  signature v4.

Both keep only what the owning service hands them: sealed bytes (:mod:`slrt.attachments.sealing`).

**Download links.** A reader is given a short-lived link, never the object store's credentials:
:meth:`BlobStore.delivery_link` answers ``None`` for the local folder (the owning service serves
its own signed link and opens the sealed object as it streams it) and, for S3, a *presigned* GET
URL of a *delivery copy*: the opened (plaintext) file written under ``deliveries/<expiry>-<random>``
for that one read, which the link names with its expiry (SigV4 ``X-Amz-Expires``). The copy is
deleted by :meth:`BlobStore.sweep_deliveries` once its link expired (the owning service runs it
every minute; a bucket lifecycle rule on ``deliveries/`` of one day is the backstop,
docs/deploy.md). The kept object itself is never readable through a link: it is ciphertext.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,400}$")
DELIVERIES = "deliveries/"


class NotStored(LookupError):
    """No object of that name."""


def checked(name: str) -> str:
    if not _NAME.match(name) or ".." in name or name.startswith(DELIVERIES):
        raise ValueError("not a valid object name")
    return name


class BlobStore(Protocol):
    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes: ...

    async def delete(self, name: str) -> None:
        """Idempotent: deleting what is not there is not an error."""

    async def check(self) -> None:
        """Raise when the store cannot be reached (readiness)."""

    async def delivery_link(
        self, data: bytes, *, content_type: str, filename: str, seconds: int
    ) -> str | None:
        """A presigned link to a short-lived plaintext copy, or ``None``: the service serves
        the file itself."""

    async def sweep_deliveries(self) -> int:
        """Delete the delivery copies whose links expired; how many."""


class LocalStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / checked(name)

    async def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        await asyncio.to_thread(self._write, path, data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        scratch = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)

    async def get(self, name: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(name).read_bytes)
        except FileNotFoundError:
            raise NotStored(name) from None

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._path(name).unlink, missing_ok=True)

    async def check(self) -> None:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True, mode=0o700)

    async def delivery_link(
        self, data: bytes, *, content_type: str, filename: str, seconds: int
    ) -> str | None:
        return None

    async def sweep_deliveries(self) -> int:
        return 0


@dataclass(frozen=True)
class S3Config:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    public_endpoint: str | None = None
    """Where readers reach the store, when not at ``endpoint`` (the cluster-internal
    address): presigned links are signed for this host."""


def _client(config: S3Config, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        region_name=config.region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class S3Store:
    def __init__(self, config: S3Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.bucket = config.bucket
        self._client = _client(config, config.endpoint)
        self._signer = (
            _client(config, config.public_endpoint) if config.public_endpoint else self._client
        )
        self._clock = clock

    async def put(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(
            self._client.put_object, Bucket=self.bucket, Key=checked(name), Body=data
        )

    async def get(self, name: str) -> bytes:
        from botocore.exceptions import ClientError

        def read() -> bytes:
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=checked(name))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise NotStored(name) from None
                raise
            body: bytes = answer["Body"].read()
            return body

        return await asyncio.to_thread(read)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=checked(name))

    async def check(self) -> None:
        await asyncio.to_thread(self._client.head_bucket, Bucket=self.bucket)

    async def ensure_bucket(self) -> None:
        """Create the bucket when missing (development and tests; production buckets are made
        by whoever runs the store, with their lifecycle rule)."""
        from botocore.exceptions import ClientError

        def make() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self.bucket)

        await asyncio.to_thread(make)

    async def delivery_link(
        self, data: bytes, *, content_type: str, filename: str, seconds: int
    ) -> str:
        expires = int(self._clock()) + seconds
        key = f"{DELIVERIES}{expires}-{uuid.uuid4().hex}"
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )
        return self.presigned_get(
            key,
            seconds,
            content_type=content_type,
            disposition=f'attachment; filename="{filename}"',
        )

    def presigned_get(
        self,
        key: str,
        seconds: int,
        *,
        content_type: str | None = None,
        disposition: str | None = None,
    ) -> str:
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        if disposition:
            params["ResponseContentDisposition"] = disposition
        url: str = self._signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=seconds
        )
        return url

    async def sweep_deliveries(self, grace_seconds: int = 30) -> int:
        now = self._clock()

        def sweep() -> int:
            gone = 0
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=DELIVERIES):
                for item in page.get("Contents", []):
                    key = str(item["Key"])
                    stamp = key[len(DELIVERIES) :].partition("-")[0]
                    if stamp.isdigit() and int(stamp) + grace_seconds < now:
                        self._client.delete_object(Bucket=self.bucket, Key=key)
                        gone += 1
            return gone

        return await asyncio.to_thread(sweep)
