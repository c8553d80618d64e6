"""Load benchmark: build a large forum with bulk inserts, serve it with gunicorn, measure it.

`python -m bench.run` (or `make bench`); see bench/README.md.
"""
