"""The Locust subprocess's body; imported by :mod:`riskkit_loadtests.locust_main` only
after locust (and so gevent's monkey-patching) is loaded."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from riskkit_loadtests.generator.executor import Executor

log = logging.getLogger("riskkit_loadtests")

_EXECUTOR: Executor | None = None


class ShopperUser(FastHttpUser):
    """One member of the bounded user pool; work comes from the executor."""

    host = "http://127.0.0.1"
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0

    @task
    def work(self) -> None:
        while _EXECUTOR is None:
            gevent.sleep(0.05)
        _EXECUTOR.serve(self)
        gevent.sleep(3600)  # the run is over: idle until the runner stops us


class _JsonLinesSink:
    def __init__(self, path: str) -> None:
        self.handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115

    def __call__(self, record: dict[str, Any]) -> None:
        self.handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _write_done(path: str, payload: dict[str, Any]) -> None:
    target = Path(path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    tmp.replace(target)


def _wait(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        gevent.sleep(step)
    return bool(predicate())


def _install_stop(executor_getter: Any) -> None:
    def stop() -> None:
        executor = executor_getter()
        if executor is not None:
            executor.stop()

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)


def _slice(config: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    """This worker's configuration: its own users, so no two workers share test data."""
    data = dict(config["data"])
    data["users"] = data["users"][index::count]
    return {**config, "data": data, "worker_index": index, "worker_count": count}


def run_local(config: dict[str, Any]) -> int:
    global _EXECUTOR
    sink = _JsonLinesSink(config["records_path"])
    env = Environment(user_classes=[ShopperUser], events=events, host=config["target"])
    runner = env.create_local_runner()
    _EXECUTOR = Executor(config, 0, 1, sink)
    _install_stop(lambda: _EXECUTOR)
    pool = int(config["pool_size"])
    runner.start(pool, spawn_rate=pool)
    spawned = _wait(lambda: _EXECUTOR is not None and _EXECUTOR.users >= pool, 60.0)
    if not spawned:
        log.error("only %s of %s users spawned", _EXECUTOR.users, pool)
    started_wall = time.time() + 0.3
    _EXECUTOR.start(started_wall)
    _write_done(
        config["done_path"],
        {
            "mode": "local",
            "workers": 1,
            "t0": started_wall,
            "ended": time.time(),
            "pool_size": pool,
            "users_spawned": _EXECUTOR.users_peak,
            "stopped_early": _EXECUTOR.stop_requested,
            "scheduler_lag_max_ms": _EXECUTOR.lag_max_ms,
        },
    )
    sink.close()
    # Everything is on disk: leave now instead of waiting for Locust to wind its
    # greenlets down (a second or more the parent would otherwise wait for).
    logging.shutdown()
    os._exit(0)


def run_master(config: dict[str, Any], expect_workers: int, bind_host: str, bind_port: int) -> int:
    sink = _JsonLinesSink(config["records_path"])
    env = Environment(user_classes=[ShopperUser], events=events, host=config["target"])
    runner = env.create_master_runner(master_bind_host=bind_host, master_bind_port=bind_port)
    done: dict[str, dict[str, Any]] = {}
    state: dict[str, Any] = {"t0": None, "stop": False}

    def on_second(environment: Any, msg: Any, **_: Any) -> None:
        sink(msg.data)

    def on_done(environment: Any, msg: Any, **_: Any) -> None:
        done[msg.node_id] = msg.data

    runner.register_message("riskkit_second", on_second)
    runner.register_message("riskkit_done", on_done)

    def stop_workers() -> None:
        state["stop"] = True
        runner.send_message("riskkit_stop", {})

    gevent.signal_handler(signal.SIGTERM, stop_workers)
    gevent.signal_handler(signal.SIGINT, stop_workers)
    connected = _wait(
        lambda: len(runner.clients.ready) >= expect_workers, float(config["worker_wait_s"]), 0.1
    )
    if not connected:
        log.error("only %d of %d workers connected", len(runner.clients.ready), expect_workers)
        _write_done(config["done_path"], {"mode": "master", "error": "workers did not connect"})
        runner.quit()
        return 4
    clients = sorted(node.id for node in runner.clients.ready)
    for index, client_id in enumerate(clients):
        runner.send_message("riskkit_config", _slice(config, index, len(clients)), client_id)

    def on_spawned(user_count: int, **_: Any) -> None:
        if state["t0"] is None:
            state["t0"] = time.time() + 0.5
            runner.send_message("riskkit_start", {"t0": state["t0"]})

    events.spawning_complete.add_listener(on_spawned)  # type: ignore[no-untyped-call]
    pool = int(config["pool_size"])
    gevent.sleep(0.5)  # let the configuration messages land before the spawn message
    runner.start(pool, spawn_rate=pool)
    budget = float(config["duration_s"]) + float(config["drain_timeout_s"]) + 60.0
    _wait(lambda: len(done) >= len(clients), budget, 0.1)
    _write_done(
        config["done_path"],
        {
            "mode": "master",
            "workers": len(clients),
            "t0": state["t0"],
            "ended": time.time(),
            "pool_size": pool,
            "users_spawned": sum(int(d.get("users_spawned", 0)) for d in done.values()),
            "stopped_early": state["stop"] or any(d.get("stopped_early") for d in done.values()),
            "scheduler_lag_max_ms": max(
                (float(d.get("scheduler_lag_max_ms", 0.0)) for d in done.values()), default=0.0
            ),
            "workers_done": len(done),
        },
    )
    sink.close()
    runner.quit()
    return 0 if len(done) >= len(clients) else 4


def run_worker(master_host: str, master_port: int) -> int:
    global _EXECUTOR
    env = Environment(user_classes=[ShopperUser], events=events)
    runner = env.create_worker_runner(master_host, master_port)

    def send(record: dict[str, Any]) -> None:
        runner.send_message("riskkit_second", record)

    def on_config(environment: Any, msg: Any, **_: Any) -> None:
        global _EXECUTOR
        config = msg.data
        environment.host = config["target"]
        ShopperUser.host = config["target"]
        _EXECUTOR = Executor(config, config["worker_index"], config["worker_count"], send)

    def on_start(environment: Any, msg: Any, **_: Any) -> None:
        def go() -> None:
            if _EXECUTOR is None:
                return
            _wait(lambda: _EXECUTOR is not None and _EXECUTOR.users > 0, 30.0)
            _EXECUTOR.start(float(msg.data["t0"]))
            runner.send_message(
                "riskkit_done",
                {
                    "users_spawned": _EXECUTOR.users_peak,
                    "stopped_early": _EXECUTOR.stop_requested,
                    "scheduler_lag_max_ms": _EXECUTOR.lag_max_ms,
                },
            )

        gevent.spawn(go)

    def on_stop(environment: Any, msg: Any, **_: Any) -> None:
        if _EXECUTOR is not None:
            _EXECUTOR.stop()

    runner.register_message("riskkit_config", on_config)
    runner.register_message("riskkit_start", on_start)
    runner.register_message("riskkit_stop", on_stop)
    _install_stop(lambda: _EXECUTOR)
    runner.greenlet.join()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="riskkit_loadtests.locust_main")
    parser.add_argument("--mode", choices=("local", "master", "worker"), required=True)
    parser.add_argument("--config")
    parser.add_argument("--expect-workers", type=int, default=1)
    parser.add_argument("--bind-host", default="127.0.0.1")
    parser.add_argument("--bind-port", type=int, default=5557)
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.mode == "worker":
        return run_worker(args.master_host, args.master_port)
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    if args.mode == "local":
        return run_local(config)
    return run_master(config, args.expect_workers, args.bind_host, args.bind_port)
