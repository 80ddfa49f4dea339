"""Fixtures: a moto_server and a PostgreSQL on 127.0.0.1 (started here, always stopped), the app on
both databases, logins, corpus files."""
from __future__ import annotations

import ctypes
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parent
REPO = APP_DIR.parent.parent
sys.path.insert(0, str(APP_DIR))

CORPUS = Path(os.environ.get("THUMB_CORPUS") or REPO.parent / "shared" / "corpus")
AVATAR_PHOTO = CORPUS / "photos" / "2569067123_aca715a2ee_o.jpg"

for k, v in {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[k] = v
for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "DATABASE_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(k, None)


# run-tests' timeout sends SIGTERM: make it an interrupt, so the fixtures' teardown stops the servers
# and removes their files (the servers also die with this process: _die_with_parent)
signal.signal(signal.SIGTERM, signal.default_int_handler)


def corpus(rel: str) -> bytes:
    return (CORPUS / rel).read_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent(sig=signal.SIGTERM):
    """preexec_fn: the server gets `sig` when the test process dies (also when it is killed)."""

    def fn():
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG

    return fn


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_http(url: str, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout}s")


@pytest.fixture(scope="session")
def moto_url():
    exe = Path(sys.executable).parent / "moto_server"
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/moto-api/data.json", proc, "moto_server")
        yield url
    finally:
        _stop(proc)
        log.close()


def _pg_bin() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[4]))
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (bash scripts/setup-deps app)")
    return Path(dirs[-1])


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway cluster: initdb into a temp dir and postgres on 127.0.0.1:<free port>; as root
    both run as the `postgres` user (initdb refuses root)."""
    bindir = _pg_bin()
    tmp = tempfile.mkdtemp(prefix="cruddur-pg-")
    as_user = {}
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    data = os.path.join(tmp, "data")
    subprocess.run(
        [str(bindir / "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp, **as_user,
    )
    port = free_port()
    log = open(os.path.join(tmp, "postgres.log"), "wb")
    proc = subprocess.Popen(
        [str(bindir / "postgres"), "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", tmp,
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp, preexec_fn=_die_with_parent(signal.SIGQUIT),
        **as_user,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}"
    try:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {proc.returncode}: "
                                   + Path(tmp, "postgres.log").read_text(errors="replace")[-2000:])
            try:
                psycopg.connect(url + "/postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        _stop(proc, signal.SIGINT)  # fast shutdown
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A new empty database of each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cruddur.sqlite3"
        return
    import psycopg

    base = request.getfixturevalue("postgres_url")
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base + "/postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    yield f"{base}/{name}"
    with psycopg.connect(base + "/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:cruddur-avatars"


@pytest.fixture
def app_config(db_url, moto_url):
    tag = uuid.uuid4().hex[:10]
    return {
        "DATABASE_URL": db_url,
        "S3_ENDPOINT_URL": moto_url,
        "S3_PUBLIC_ENDPOINT_URL": None,
        "AWS_REGION": "us-east-1",
        "JWT_SECRET": "test-secret-" + uuid.uuid4().hex,
        "JWT_SECRET_GENERATED": False,
        "UPLOADS_BUCKET": f"uploads-{tag}",
        "ASSETS_BUCKET": f"assets-{tag}",
        "FOLDER_INPUT": "avatars/original",
        "FOLDER_OUTPUT": "avatars",
        "ASSETS_BASE_URL": "/cdn",
        "CREATE_BUCKETS": True,
        "AUTO_MIGRATE": True,
        "DEV_LOGIN": True,
        "SNS_TOPIC_ARNS": [TOPIC_ARN],
        "SNS_VERIFY_SIGNATURES": False,
    }


@pytest.fixture
def make_app(app_config):
    from cruddur import create_app

    def make(**over):
        cfg = dict(app_config)
        cfg.update(over)
        return create_app(cfg)

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def s3(app):
    return app.extensions["cruddur.storage"].s3


def login(client, handle="alice", **extra):
    r = client.post("/api/auth/dev-login", json={"handle": handle, **extra})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return {"Authorization": "Bearer " + body["token"]}, body["user"]


@pytest.fixture
def alice(client):
    return login(client, "alice")
