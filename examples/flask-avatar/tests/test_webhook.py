"""POST /api/webhooks/avatar-processed: SNS envelopes, the topic allow-list, signatures, and SNS
itself (moto) delivering to the app on a live loopback server."""
import base64
import datetime as dt
import http.server
import json
import threading
import uuid

import boto3
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from conftest import AVATAR_PHOTO, TOPIC_ARN, corpus, login
from cruddur import sns
from test_presigned import lambda_output

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def envelope(event, topic=TOPIC_ARN, **over):
    msg = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(event),
        "Timestamp": "2026-12-03T10:00:00.000Z",
        "SignatureVersion": "2",
        "Signature": "",
        "SigningCertURL": CERT_URL,
    }
    msg.update(over)
    return msg


def event_for(app, user_uuid, version):
    return {"bucket": app.config["ASSETS_BUCKET"], "key": f"avatars/{user_uuid}.jpg", "name": user_uuid,
            "version": version, "width": 512, "height": 512, "bytes": 1234}


def post(client, msg):
    body = msg if isinstance(msg, (bytes, str)) else json.dumps(msg)
    return client.post("/api/webhooks/avatar-processed", data=body, content_type="text/plain; charset=UTF-8")


def test_notification_updates_the_version(client, alice, s3, app):
    auth, user = alice
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"})
    v = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    r = post(client, envelope(event_for(app, user["uuid"], v)))
    assert r.status_code == 200 and r.get_json() == {"status": "updated", "version": v}
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_version"] == v and p["avatar_pending"] is False
    assert p["avatar_url"] == f"/cdn/avatars/{user['uuid']}.jpg?v={v}"


def test_late_or_replayed_messages_do_not_go_back(client, alice, s3, app):
    _, user = alice
    v1 = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    old = envelope(event_for(app, user["uuid"], v1))
    v2 = lambda_output(s3, app, user["uuid"], corpus("photos/flowers.jpeg"))
    assert post(client, envelope(event_for(app, user["uuid"], v2))).get_json()["status"] == "updated"
    r = post(client, old)  # v1's message arrives after v2's object replaced it
    assert r.status_code == 200 and r.get_json()["status"] == "ignored"
    assert client.get("/api/profile/alice").get_json()["avatar_version"] == v2


def test_topic_allow_list(client, alice, s3, app, make_app):
    _, user = alice
    v = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    ev = event_for(app, user["uuid"], v)
    r = post(client, envelope(ev, topic="arn:aws:sns:us-east-1:999999999999:evil"))
    assert r.status_code == 403 and r.get_json()["error"] == "topic_not_allowed"
    assert client.get("/api/profile/alice").get_json()["avatar_version"] is None
    closed = make_app(SNS_TOPIC_ARNS=[]).test_client()  # nothing configured: nothing accepted
    assert post(closed, envelope(ev)).status_code == 403
    anyone = make_app(SNS_TOPIC_ARNS=["*"]).test_client()
    assert post(anyone, envelope(ev, topic="arn:aws:sns:us-east-1:1:other")).get_json()["status"] == "updated"


@pytest.mark.parametrize("bad", [
    b"not json",
    b"[1, 2]",
    {"Type": "Something", "TopicArn": TOPIC_ARN},
    {"Type": "Notification", "TopicArn": TOPIC_ARN, "MessageId": "1", "Timestamp": "t"},
])
def test_bad_envelopes_are_400(client, bad):
    r = post(client, bad)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_message"


def test_bad_messages(client, alice, app):
    _, user = alice
    for message in ("not json", json.dumps([1]), json.dumps({"name": user["uuid"], "version": "XYZ"}),
                    json.dumps({"name": user["uuid"]})):
        r = post(client, envelope({}, Message=message))
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_message", message
    ignored = [
        {"name": "00000000-0000-4000-8000-000000000000", "version": "0123456789abcdef"},  # no such user
        {**event_for(app, user["uuid"], "0123456789abcdef"), "key": "elsewhere/x.jpg"},
        {**event_for(app, user["uuid"], "0123456789abcdef"), "bucket": "other-bucket"},
        event_for(app, user["uuid"], "0123456789abcdef"),  # no such object
    ]
    for ev in ignored:
        r = post(client, envelope(ev))
        assert r.status_code == 200 and r.get_json()["status"] == "ignored", ev
    assert client.get("/api/profile/alice").get_json()["avatar_version"] is None


# ---------------------------------------------------------------- signatures


@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)

    def sign(msg, version="2"):
        msg = dict(msg, SignatureVersion=version)
        algo = hashes.SHA256() if version == "2" else hashes.SHA1()
        msg["Signature"] = base64.b64encode(key.sign(sns.string_to_sign(msg), padding.PKCS1v15(), algo)).decode()
        return msg

    return sign, pem


@pytest.fixture
def verifying(make_app, signer):
    _, pem = signer
    fetched = []

    def fetch(url):
        fetched.append(url)
        if url != CERT_URL:
            raise OSError("no such certificate")
        return pem

    app = make_app(SNS_VERIFY_SIGNATURES=True, SNS_CERT_CACHE=sns.CertCache(fetch=fetch))
    return app, fetched


def test_signed_messages(verifying, signer, s3):
    app, fetched = verifying
    sign, _ = signer
    client = app.test_client()
    _, user = login(client)
    v = lambda_output(app.extensions["cruddur.storage"].s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    msg = envelope(event_for(app, user["uuid"], v))
    assert post(client, msg).status_code == 403  # unsigned

    tampered = sign(msg)
    tampered["Message"] = tampered["Message"].replace(v, "0123456789abcdef")
    r = post(client, tampered)
    assert r.status_code == 403 and r.get_json()["error"] == "invalid_signature"

    for bad_url in ("https://sns.us-east-1.amazonaws.com.evil.example/x.pem", "http://sns.us-east-1.amazonaws.com/x.pem",
                    "https://evil.example/SimpleNotificationService-test.pem"):
        r = post(client, sign(dict(msg, SigningCertURL=bad_url)))
        assert r.status_code == 403 and r.get_json()["error"] == "invalid_signature", bad_url
    assert all(u == CERT_URL for u in fetched)  # a bad URL is refused before anything is fetched

    r = post(client, sign(msg, version="3"))
    assert r.status_code == 403
    r = post(client, sign(msg))
    assert r.status_code == 200 and r.get_json()["status"] == "updated"
    r = post(client, sign(msg, version="1"))  # SHA1 signatures (SignatureVersion 1) are still SNS's default
    assert r.status_code == 200
    assert fetched == [CERT_URL]  # the certificate was fetched once, then cached


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Recorder.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<ConfirmSubscriptionResponse/>")

    def log_message(self, *a):
        pass


@pytest.fixture
def recorder():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    Recorder.seen = []
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def test_subscription_confirmation(make_app, recorder, signer):
    sign, pem = signer
    app = make_app(SNS_VERIFY_SIGNATURES=True, SNS_CERT_CACHE=sns.CertCache(fetch=lambda url: pem),
                   SNS_CONFIRM_URL_PREFIXES=[recorder + "/"])
    client = app.test_client()
    conf = {
        "Type": "SubscriptionConfirmation", "MessageId": "m1", "Token": "tok123", "TopicArn": TOPIC_ARN,
        "Message": "You have chosen to subscribe...", "Timestamp": "2026-12-03T10:00:00.000Z",
        "SubscribeURL": f"{recorder}/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=tok123",
        "SigningCertURL": CERT_URL,
    }
    r = post(client, sign(conf))
    assert r.status_code == 200 and r.get_json() == {"status": "subscribed"}
    assert Recorder.seen == [f"/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=tok123"]
    # a SubscribeURL elsewhere is never fetched
    r = post(client, sign(dict(conf, SubscribeURL="http://127.0.0.2:1/?Action=ConfirmSubscription")))
    assert r.status_code == 400 and len(Recorder.seen) == 1
    # unsigned: refused before anything is fetched
    r = post(client, dict(conf, Signature="AAAA"))
    assert r.status_code == 403 and len(Recorder.seen) == 1


# ---------------------------------------------------------------- SNS (moto) -> the live app


def test_moto_sns_delivers_to_the_live_app(make_app, moto_url):
    """The real path: SNS publishes the Lambda's message, SNS POSTs it to the subscribed endpoint of
    the app running on a threaded server, the signature (moto's own key) is verified."""
    boto_sns = boto3.client("sns", endpoint_url=moto_url, region_name="us-east-1")
    topic = boto_sns.create_topic(Name="avatars-" + uuid.uuid4().hex[:8])["TopicArn"]

    def fetch_from_moto(url):
        # moto_server serves the certificates it signs with, picked by a SigV4-looking header
        path = url.split("amazonaws.com", 1)[1]
        auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x"
        return requests.get(moto_url + path, headers={"Authorization": auth}, timeout=10).content

    app = make_app(SNS_TOPIC_ARNS=[topic], SNS_VERIFY_SIGNATURES=True,
                   SNS_CERT_CACHE=sns.CertCache(fetch=fetch_from_moto))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        login_body = requests.post(base + "/api/auth/dev-login", json={"handle": "dora"}, timeout=10).json()
        user = login_body["user"]
        boto_sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=base + "/api/webhooks/avatar-processed")
        v = lambda_output(app.extensions["cruddur.storage"].s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
        boto_sns.publish(TopicArn=topic, Message=json.dumps(event_for(app, user["uuid"], v)))
        p = requests.get(f"{base}/api/profile/dora", timeout=10).json()
        assert p["avatar_version"] == v
        cdn = requests.get(base + p["avatar_url"], timeout=10)
        assert cdn.status_code == 200 and cdn.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    finally:
        server.shutdown()
        server.server_close()
