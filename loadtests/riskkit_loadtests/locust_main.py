"""Entry point of the Locust subprocess: ``python -m riskkit_loadtests.locust_main``.

Modes:

``--mode local --config raw/config.json``
    One process: Locust's LocalRunner spawns the user pool, the executor drives it,
    per-second records go to ``records_path``.
``--mode master --config raw/config.json --expect-workers N``
    Locust's MasterRunner: waits for N workers, sends each its configuration and its
    slice of the test data, starts them at one shared instant, and writes the records
    the workers send back.  It generates no load itself.
``--mode worker --master-host H --master-port P``
    Locust's WorkerRunner: needs nothing but the master's address.

This module imports locust (which monkey-patches the standard library with gevent):
the riskkit process must only ever start it as a subprocess.
"""

# locust first: importing it monkey-patches the standard library with gevent, which must
# happen before anything else imports socket, ssl or threading.
import locust  # noqa: F401

from riskkit_loadtests.generator.main import main

if __name__ == "__main__":
    raise SystemExit(main())
