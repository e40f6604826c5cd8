"""riskkit load tests: open-model Locust scenarios of a checkout, with SLO gates.

The riskkit process uses :mod:`riskkit_loadtests.runner` (``run_loadtest``),
:mod:`riskkit_loadtests.capacity` (``run_capacity_search``), the shapes of
:mod:`riskkit_loadtests.shapes`, the API map of :mod:`riskkit_loadtests.apimap` and the
gates of :mod:`riskkit_loadtests.slo`; none of them imports locust or gevent.  Only
:mod:`riskkit_loadtests.locust_main` (run as a subprocess) and
:mod:`riskkit_loadtests.generator` do.
"""
