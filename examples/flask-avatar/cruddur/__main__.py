"""python -m cruddur [--host 127.0.0.1] [--port 8000]: the app on Werkzeug's threaded server."""
import argparse
import os

from . import create_app

p = argparse.ArgumentParser(prog="python -m cruddur")
p.add_argument("--host", default=os.environ.get("APP_HOST", "127.0.0.1"))
p.add_argument("--port", type=int, default=int(os.environ.get("APP_PORT", "8000")))
p.add_argument("--debug", action="store_true")
a = p.parse_args()
create_app().run(host=a.host, port=a.port, threaded=True, debug=a.debug, use_reloader=False)
