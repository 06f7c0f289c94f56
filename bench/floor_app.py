"""The floor for the project page: a bare Flask view, served by the same gunicorn set-up,
returning a page of the same size (BENCH_FLOOR_BYTES) as the real one.

    gunicorn bench.floor_app:app
"""

import os

from flask import Flask

app = Flask(__name__)
_SIZE = int(os.environ.get("BENCH_FLOOR_BYTES", "20000"))
_HEAD = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head><body>\n'
_TAIL = "\n</body></html>\n"
PAGE = _HEAD + "<p>" + "x" * max(0, _SIZE - len(_HEAD) - len(_TAIL) - 7) + "</p>" + _TAIL


@app.get("/p/<slug>")
def page(slug):
    return PAGE


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
