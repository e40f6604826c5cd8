"""Open-model (arrival-rate) and closed-model executors for Locust users.

Open model, like k6's ``constant-arrival-rate`` / ``ramping-arrival-rate``: a scheduler
greenlet releases iterations at their INTENDED start times, whatever the shop does.  A
bounded pool of Locust users (``max_users``) picks them up.  When every user is busy an
iteration waits in a backlog of at most one per user; beyond that it is DROPPED and
counted.  Latency is measured from the intended start, so a stalled shop shows up in
p95/p99 instead of silently slowing the generator down (no coordinated omission).

Closed model (``--users N``): N users run iterations back to back, as plain Locust does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
import psutil
from gevent.event import Event
from gevent.queue import Empty, Queue

from riskkit_loadtests.apimap import ApiMap
from riskkit_loadtests.generator.flows import make_flow
from riskkit_loadtests.generator.http import StepCaller
from riskkit_loadtests.generator.recorder import Recorder
from riskkit_loadtests.shapes import Stage, arrival_times

__all__ = ["Executor"]

log = logging.getLogger("riskkit_loadtests")


class Executor:
    """Drives one generator process's share of the load.

    Parameters
    ----------
    config : dict
        The run configuration written by the riskkit process (``raw/config.json``).
    worker_index, worker_count : int
        This process takes arrivals ``k`` with ``k % worker_count == worker_index``.
    sink : callable
        Receives each finished second's record.
    """

    def __init__(
        self,
        config: dict[str, Any],
        worker_index: int,
        worker_count: int,
        sink: Callable[[dict[str, Any]], None],
    ) -> None:
        self.config = config
        self.worker_index = worker_index
        self.worker_count = max(1, worker_count)
        self.recorder = Recorder(sink, worker_index)
        api_map = ApiMap.model_validate(config["api_map"])
        self.flow = make_flow(config, StepCaller(api_map, self.recorder), worker_index)
        self.open_model = config["model"] == "open"
        self.stages = [Stage(*stage) for stage in config["stages"]]
        self.duration_s = float(sum(stage.duration_s for stage in self.stages))
        self.queue: Queue[float] = Queue()
        self.users = 0
        self.users_peak = 0
        self.idle = 0
        self.busy = 0
        self.started_event = Event()
        self.finished = Event()
        self.stop_requested = False
        self.t0_perf = 0.0
        self.lag_max_ms = 0.0
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first reading is always 0: prime it

    # -- called by each Locust user's task ------------------------------------------
    def serve(self, user: Any) -> None:
        """The body of every user: run iterations until the run ends."""
        self.users += 1
        self.users_peak = max(self.users_peak, self.users)
        try:
            self.started_event.wait()
            if self.open_model:
                self._serve_open(user)
            else:
                self._serve_closed(user)
        finally:
            self.users -= 1

    def _serve_open(self, user: Any) -> None:
        while not self.finished.is_set():
            self.idle += 1
            try:
                intended = self.queue.get(timeout=0.25)
            except Empty:
                continue
            finally:
                self.idle -= 1
            self._run_one(user, intended)

    def _serve_closed(self, user: Any) -> None:
        end = self.t0_perf + self.duration_s
        while not self.stop_requested and time.perf_counter() < end:
            self.recorder.scheduled(dropped=False, lag_ms=0.0)
            if not self._run_one(user, time.perf_counter()):
                gevent.sleep(0.05)

    def _run_one(self, user: Any, intended: float) -> bool:
        self.busy += 1
        self.recorder.busy(self.busy)
        try:
            ran = self.flow(user.client, intended)
        except gevent.GreenletExit:
            raise
        except Exception:  # a bug in a flow must not kill the user greenlet silently
            log.exception("iteration failed")
            self.recorder.sample("iteration", 0.0, True, "generator_exception")
            ran = True
        finally:
            self.busy -= 1
        if ran:
            self.recorder.started()
        else:
            self.recorder.count("dropped_no_test_data")
        return ran

    # -- the run -----------------------------------------------------------------------
    def start(self, t0_wall: float) -> None:
        """Begin at the shared wall-clock instant ``t0_wall`` (same on every worker)."""
        self.t0_perf = time.perf_counter() + (t0_wall - time.time())
        self.recorder.start(self.t0_perf)
        gevent.spawn(self._flusher)
        delay = self.t0_perf - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        self.started_event.set()
        if self.open_model:
            self._schedule()
        else:
            while not self.stop_requested and time.perf_counter() < self.t0_perf + self.duration_s:
                gevent.sleep(0.1)
        self._drain()
        self.finished.set()
        self.recorder.flush(final=True, extra=self._health())

    def stop(self) -> None:
        self.stop_requested = True

    def _schedule(self) -> None:
        poisson = bool(self.config.get("poisson", False))
        seed = int(self.config.get("seed", 0))
        backlog_limit = max(1, self.users)
        for k, moment in enumerate(arrival_times(self.stages, poisson=poisson, seed=seed)):
            if self.stop_requested:
                break
            if k % self.worker_count != self.worker_index:
                continue
            intended = self.t0_perf + moment
            wait = intended - time.perf_counter()
            if wait > 0.0005:
                gevent.sleep(wait)
            lag_ms = max(0.0, (time.perf_counter() - intended) * 1000.0)
            self.lag_max_ms = max(self.lag_max_ms, lag_ms)
            pending = self.queue.qsize()
            free = self.idle - pending
            if free > 0 or pending < backlog_limit:
                self.queue.put(intended)
                self.recorder.scheduled(dropped=False, lag_ms=lag_ms)
            else:
                self.recorder.scheduled(dropped=True, lag_ms=lag_ms)
            if wait <= 0.0005 and k % 64 == 0:
                gevent.sleep(0)  # never starve the users when far behind

    def _drain(self) -> None:
        deadline = time.perf_counter() + float(self.config.get("drain_timeout_s", 10.0))
        while time.perf_counter() < deadline and (self.busy or self.queue.qsize()):
            if self.stop_requested and not self.busy:
                break
            gevent.sleep(0.05)
        abandoned = self.queue.qsize()
        while self.queue.qsize():
            self.queue.get_nowait()
        if abandoned:
            self.recorder.count("abandoned_in_backlog", abandoned)

    def _health(self) -> dict[str, Any]:
        return {
            "cpu": self.process.cpu_percent(None),
            "users": self.users,
            "idle": self.idle,
        }

    def _flusher(self) -> None:
        while not self.finished.is_set():
            gevent.sleep(1.0)
            self.recorder.busy(self.busy)
            self.recorder.flush(extra=self._health())
