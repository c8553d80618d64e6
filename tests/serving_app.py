"""A tiny WSGI app for tests/test_serving.py, served by gunicorn: every request burns CPU
for `?ms=` milliseconds without yielding (as a page render does) and answers with its place in
the order the worker served requests."""

from __future__ import annotations

import gc
import itertools
import time

from flask import Flask, request

app = Flask(__name__)
_served = itertools.count(1)


@app.get("/work")
def work():
    end = time.process_time() + request.args.get("ms", 0, type=int) / 1000
    while time.process_time() < end:
        pass
    return f"{request.args.get('who', '')} {next(_served)}"


@app.get("/gc")
def frozen():
    return str(gc.get_freeze_count())
