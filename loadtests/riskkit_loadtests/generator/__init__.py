"""Code that runs INSIDE the Locust subprocess (gevent, monkey-patched).

Never import this package from the riskkit process: gevent patches the standard
library of whatever process imports locust.  The parent talks to it only through
files (``raw/config.json`` in, ``raw/seconds.jsonl`` and ``raw/done.json`` out).
"""
