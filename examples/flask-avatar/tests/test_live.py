"""The app on Werkzeug's threaded server: concurrent direct uploads (libthumb releases the GIL, each
thread has its own C context) all land, each under its own user."""
import concurrent.futures as cf
import hashlib
import threading

import requests
from werkzeug.serving import make_server

from conftest import AVATAR_PHOTO, corpus

PHOTOS = [AVATAR_PHOTO.read_bytes, lambda: corpus("photos/flowers.jpeg"), lambda: corpus("photos/retina.jpg"),
          lambda: corpus("photos/astronaut.png")]


def test_concurrent_uploads(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        def one(i):
            s = requests.Session()
            login = s.post(base + "/api/auth/dev-login", json={"handle": f"user{i}"}, timeout=30).json()
            auth = {"Authorization": "Bearer " + login["token"]}
            data = PHOTOS[i % len(PHOTOS)]()
            r = s.post(base + "/api/profile/avatar", headers=auth, files={"file": ("p", data)}, timeout=120)
            assert r.status_code == 200, r.text
            body = r.json()
            img = s.get(base + body["avatar_url"], timeout=30)
            assert hashlib.sha256(img.content).hexdigest()[:16] == body["version"]
            prof = s.get(f"{base}/api/profile/user{i}", timeout=30).json()
            assert prof["avatar_url"] == body["avatar_url"] and prof["uuid"] == login["user"]["uuid"]
            return body["version"]

        with cf.ThreadPoolExecutor(8) as pool:
            versions = list(pool.map(one, range(8)))
        # the same photo gives the same version, different photos different ones
        for i in range(8):
            for j in range(8):
                assert (versions[i] == versions[j]) == (i % len(PHOTOS) == j % len(PHOTOS))
    finally:
        server.shutdown()
        server.server_close()
