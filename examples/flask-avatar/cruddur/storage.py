"""S3 access (boto3): presigned uploads, the avatar object, HEADs and the /cdn stand-in."""
from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}


def _client(endpoint: str | None, region: str):
    cfg = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        # presigned PUTs must not ask the browser for SDK checksum headers
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=cfg)


class Storage:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.s3 = _client(cfg["S3_ENDPOINT_URL"], cfg["AWS_REGION"])
        public = cfg.get("S3_PUBLIC_ENDPOINT_URL")
        self.s3_public = _client(public, cfg["AWS_REGION"]) if public else self.s3

    def avatar_key(self, user_uuid: str) -> str:
        out = self.cfg["FOLDER_OUTPUT"]
        return f"{out}/{user_uuid}.jpg" if out else f"{user_uuid}.jpg"

    def upload_key(self, user_uuid: str, ext: str) -> str:
        inp = self.cfg["FOLDER_INPUT"]
        return f"{inp}/{user_uuid}.{ext}" if inp else f"{user_uuid}.{ext}"

    def ensure_buckets(self) -> None:
        for b in (self.cfg["UPLOADS_BUCKET"], self.cfg["ASSETS_BUCKET"]):
            try:
                self.s3.head_bucket(Bucket=b)
            except ClientError:
                self.s3.create_bucket(Bucket=b)

    def presign_put(self, key: str, content_type: str) -> str:
        return self.s3_public.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.cfg["UPLOADS_BUCKET"], "Key": key, "ContentType": content_type},
            ExpiresIn=self.cfg["PRESIGN_EXPIRES_SECONDS"],
            HttpMethod="PUT",
        )

    def put_avatar(self, user_uuid: str, jpeg: bytes, version: str, width: int, height: int) -> str:
        key = self.avatar_key(user_uuid)
        self.s3.put_object(
            Bucket=self.cfg["ASSETS_BUCKET"],
            Key=key,
            Body=jpeg,
            ContentType="image/jpeg",
            CacheControl=CACHE_CONTROL,
            Metadata={"version": version, "width": str(width), "height": str(height)},
        )
        return key

    def head_avatar(self, user_uuid: str) -> dict | None:
        """The avatar object's metadata and LastModified, None when there is none."""
        try:
            r = self.s3.head_object(Bucket=self.cfg["ASSETS_BUCKET"], Key=self.avatar_key(user_uuid))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return {"metadata": r.get("Metadata") or {}, "last_modified": r.get("LastModified")}

    def get_asset(self, key: str):
        """The streaming GetObject response of an assets object, None when missing."""
        try:
            return self.s3.get_object(Bucket=self.cfg["ASSETS_BUCKET"], Key=key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
