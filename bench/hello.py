"""The bare Flask baseline of the benchmark: one view that returns "hello".

`bench/run.py` serves it with the same gunicorn command as the forum (`… bench.hello:app`
instead of `… wsgi:app`), in the same run, so that every page's req/s and server CPU per
request can be read as a multiple of the least a Flask request costs on this machine and
server. `/healthz` answers too (the runner waits for it before measuring).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
@app.get("/healthz")
def hello() -> str:
    return "hello"
