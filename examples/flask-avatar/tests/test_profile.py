"""POST /api/profile/update and GET /api/profile/<handle or uuid>."""
import pytest

from conftest import login


def test_update_and_show(client, alice):
    auth, user = alice
    r = client.post("/api/profile/update", headers=auth, json={"display_name": "  Alice Liddell ", "bio": " hi "})
    assert r.status_code == 200
    assert r.get_json() == {"handle": "alice", "display_name": "Alice Liddell", "bio": "hi"}
    for key in ("alice", "ALICE", user["uuid"]):
        p = client.get(f"/api/profile/{key}")
        assert p.status_code == 200
        body = p.get_json()
        assert body["uuid"] == user["uuid"] and body["display_name"] == "Alice Liddell" and body["bio"] == "hi"
        assert body["avatar_url"] is None and body["avatar_version"] is None
    # bio left out: unchanged; bio null: cleared
    r = client.post("/api/profile/update", headers=auth, json={"display_name": "A"})
    assert r.get_json()["bio"] == "hi"
    r = client.post("/api/profile/update", headers=auth, json={"display_name": "A", "bio": None})
    assert r.get_json()["bio"] is None


def test_update_touches_only_the_caller(client, alice):
    auth, _ = alice
    login(client, "bob", display_name="Bob")
    client.post("/api/profile/update", headers=auth, json={"display_name": "Changed", "bio": "x"})
    assert client.get("/api/profile/bob").get_json()["display_name"] == "Bob"


@pytest.mark.parametrize("body,errors", [
    ({"display_name": "   ", "bio": "x"}, ["display_name_blank"]),
    ({"bio": "x"}, ["display_name_blank"]),
    ({"display_name": None}, ["display_name_blank"]),
    ({"display_name": 12}, ["display_name_invalid"]),
    ({"display_name": "n" * 65}, ["display_name_too_long"]),
    ({"display_name": "ok", "bio": "b" * 301}, ["bio_too_long"]),
    ({"display_name": "ok", "bio": ["list"]}, ["bio_invalid"]),
    ({"display_name": "", "bio": "b" * 301}, ["display_name_blank", "bio_too_long"]),
])
def test_update_validation(client, alice, body, errors):
    auth, _ = alice
    r = client.post("/api/profile/update", headers=auth, json=body)
    assert r.status_code == 422 and r.get_json() == {"errors": errors}
    assert client.get("/api/profile/alice").get_json()["display_name"] == "alice"  # nothing written


def test_update_limits_are_inclusive(client, alice):
    auth, _ = alice
    r = client.post("/api/profile/update", headers=auth, json={"display_name": "n" * 64, "bio": "b" * 300})
    assert r.status_code == 200 and len(r.get_json()["bio"]) == 300


def test_update_needs_a_json_object(client, alice):
    auth, _ = alice
    for kw in ({"data": "{", "content_type": "application/json"}, {"json": ["display_name"]}, {"data": "x"}):
        r = client.post("/api/profile/update", headers=auth, **kw)
        assert r.status_code == 400 and r.get_json() == {"error": "invalid_json"}


def test_unknown_profile(client):
    for key in ("nobody", "00000000-0000-4000-8000-000000000000"):
        r = client.get(f"/api/profile/{key}")
        assert r.status_code == 404 and r.get_json() == {"error": "not_found"}


def test_json_errors_for_unknown_routes_and_methods(client):
    assert client.get("/api/nothing").get_json() == {"error": "not_found"}
    r = client.get("/api/profile/update")  # GET of a POST route: the handle 'update' does not exist
    assert r.status_code == 404
    r = client.delete("/api/auth/dev-login")
    assert r.status_code == 405 and r.get_json() == {"error": "method_not_allowed"}
