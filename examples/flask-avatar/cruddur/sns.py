"""SNS HTTP(S) subscription messages: parsing and signature verification.

Verification (SignatureVersion 1 = SHA1, 2 = SHA256, RSA PKCS#1 v1.5) follows AWS's documented
scheme: the SigningCertURL must be https on sns.<region>.amazonaws.com and end in .pem; the
certificate is fetched (cached), and the signature checked over the canonical string of the
message type's fields. The TopicArn is checked against an allow-list before anything else.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import urllib.request
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


class SnsError(Exception):
    def __init__(self, status: int, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.status, self.code, self.detail = status, code, detail


def parse(body: bytes) -> dict:
    """The SNS envelope (SNS posts JSON with Content-Type text/plain)."""
    try:
        msg = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SnsError(400, "invalid_message", "body is not JSON") from None
    if not isinstance(msg, dict) or msg.get("Type") not in _FIELDS:
        raise SnsError(400, "invalid_message", "not an SNS message")
    for k in ("TopicArn", "MessageId", "Timestamp", "Message"):
        if not isinstance(msg.get(k), str):
            raise SnsError(400, "invalid_message", f"no {k}")
    return msg


def string_to_sign(msg: dict) -> bytes:
    parts = []
    for k in _FIELDS[msg["Type"]]:
        if k in msg and msg[k] is not None:
            parts.append(f"{k}\n{msg[k]}\n")
    return "".join(parts).encode("utf-8")


class CertCache:
    """Fetches and caches signing certificates (by URL)."""

    def __init__(self, base_url: str | None = None, fetch=None):
        self.base_url = base_url.rstrip("/") if base_url else None
        self._fetch = fetch or self._http_get
        self._certs: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _http_get(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (URL checked by the caller)
            return r.read(65536)

    def get(self, url: str) -> x509.Certificate:
        with self._lock:
            cert = self._certs.get(url)
        if cert is not None:
            return cert
        fetch_url = url
        if self.base_url:
            u = urlparse(url)
            fetch_url = self.base_url + u.path
        try:
            cert = x509.load_pem_x509_certificate(self._fetch(fetch_url))
        except Exception as e:
            raise SnsError(403, "invalid_signature", f"signing certificate unavailable: {e}") from e
        with self._lock:
            self._certs[url] = cert
        return cert


def verify(msg: dict, certs: CertCache) -> None:
    """Raise SnsError(403, 'invalid_signature') unless the message is signed by its certificate."""
    version = msg.get("SignatureVersion")
    algo = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algo is None:
        raise SnsError(403, "invalid_signature", f"SignatureVersion {version!r}")
    url = msg.get("SigningCertURL") or ""
    u = urlparse(url)
    if u.scheme != "https" or not _CERT_HOST.match(u.hostname or "") or not u.path.endswith(".pem"):
        raise SnsError(403, "invalid_signature", "SigningCertURL is not an SNS certificate URL")
    try:
        sig = base64.b64decode(msg.get("Signature") or "", validate=True)
    except ValueError:
        raise SnsError(403, "invalid_signature", "Signature is not base64") from None
    cert = certs.get(url)
    try:
        cert.public_key().verify(sig, string_to_sign(msg), padding.PKCS1v15(), algo)
    except (InvalidSignature, TypeError, ValueError) as e:
        raise SnsError(403, "invalid_signature", "signature does not match") from e


def subscribe_url_allowed(url: str, extra_prefixes: list[str]) -> bool:
    u = urlparse(url)
    if u.scheme == "https" and _CERT_HOST.match(u.hostname or ""):
        return True
    return any(url.startswith(p) for p in extra_prefixes)
