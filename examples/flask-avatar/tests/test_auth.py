"""dev-login and the JWT checks of every protected endpoint."""
import time

import jwt
import pytest

from conftest import login

PROTECTED = [
    ("post", "/api/profile/update", {"json": {"display_name": "x"}}),
    ("post", "/api/avatars/key_upload", {"json": {"extension": "jpg"}}),
    ("post", "/api/profile/avatar", {"data": b"\xff\xd8\xff"}),
]


def test_dev_login_creates_then_reuses_the_user(client):
    r = client.post("/api/auth/dev-login", json={"handle": "Alice", "display_name": " Alice A. "})
    assert r.status_code == 200
    body = r.get_json()
    user = body["user"]
    assert user["handle"] == "alice" and user["display_name"] == "Alice A." and user["avatar_url"] is None
    assert len(user["uuid"]) == 36
    again = client.post("/api/auth/dev-login", json={"handle": "alice"}).get_json()
    assert again["user"]["uuid"] == user["uuid"] and again["user"]["display_name"] == "Alice A."
    other = client.post("/api/auth/dev-login", json={"handle": "bob"}).get_json()["user"]
    assert other["display_name"] == "bob" and other["uuid"] != user["uuid"]


def test_token_claims(client, app):
    _, user = login(client)
    token = client.post("/api/auth/dev-login", json={"handle": "alice"}).get_json()["token"]
    claims = jwt.decode(token, app.config["JWT_SECRET"], algorithms=["HS256"], audience="cruddur")
    assert claims["sub"] == user["uuid"] and claims["iss"] == "cruddur-dev"
    assert 3500 <= claims["exp"] - time.time() <= 3601
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


@pytest.mark.parametrize("body", [{"handle": ""}, {"handle": "has space"}, {"handle": 5}, {}, {"handle": "a" * 33}])
def test_dev_login_rejects_bad_handles(client, body):
    r = client.post("/api/auth/dev-login", json=body)
    assert r.status_code == 422 and r.get_json() == {"errors": ["handle_invalid"]}


def test_dev_login_bad_json_and_disabled(client, make_app):
    r = client.post("/api/auth/dev-login", data="nope", content_type="application/json")
    assert r.status_code == 400 and r.get_json() == {"error": "invalid_json"}
    off = make_app(DEV_LOGIN=False).test_client()
    assert off.post("/api/auth/dev-login", json={"handle": "x"}).status_code == 404


def _claims(app, user, **over):
    now = int(time.time())
    c = {"sub": user["uuid"], "iss": "cruddur-dev", "aud": "cruddur", "iat": now, "exp": now + 600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def bad_tokens(app, user):
    secret = app.config["JWT_SECRET"]
    good = _claims(app, user)
    return {
        "missing": None,
        "not a jwt": "Bearer abc.def.ghi",
        "wrong scheme": "Token " + jwt.encode(good, secret, algorithm="HS256"),
        "wrong secret": "Bearer " + jwt.encode(good, "another-secret-of-more-than-32-bytes", algorithm="HS256"),
        "expired": "Bearer " + jwt.encode(_claims(app, user, exp=int(time.time()) - 60), secret, algorithm="HS256"),
        "wrong aud": "Bearer " + jwt.encode(_claims(app, user, aud="elsewhere"), secret, algorithm="HS256"),
        "wrong iss": "Bearer " + jwt.encode(_claims(app, user, iss="evil"), secret, algorithm="HS256"),
        "no exp": "Bearer " + jwt.encode(_claims(app, user, exp=None), secret, algorithm="HS256"),
        "alg none": "Bearer " + jwt.encode(good, None, algorithm="none"),
        "HS512": "Bearer " + jwt.encode(good, secret, algorithm="HS512"),
        "unknown user": "Bearer " + jwt.encode(
            _claims(app, user, sub="00000000-0000-4000-8000-000000000000"), secret, algorithm="HS256"),
    }


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 token
@pytest.mark.parametrize("method,path,kw", PROTECTED)
def test_protected_endpoints_refuse_bad_tokens(client, app, method, path, kw):
    _, user = login(client)
    for what, header in bad_tokens(app, user).items():
        headers = {"Authorization": header} if header else {}
        r = getattr(client, method)(path, headers=headers, **kw)
        assert r.status_code == 401, what
        assert r.get_json() == {"error": "unauthorized"}, what
    # and the same request with a good token is not a 401
    ok = "Bearer " + jwt.encode(_claims(app, user), app.config["JWT_SECRET"], algorithm="HS256")
    assert getattr(client, method)(path, headers={"Authorization": ok}, **kw).status_code != 401
