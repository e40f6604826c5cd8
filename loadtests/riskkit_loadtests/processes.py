"""Start and stop the Locust subprocesses (the riskkit process never imports locust)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import riskkit
import riskkit_loadtests

__all__ = ["GeneratorProcesses", "free_port", "subprocess_env"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def subprocess_env() -> dict[str, str]:
    """The environment of a generator: riskkit and riskkit_loadtests importable from source."""
    roots = [
        str(Path(riskkit_loadtests.__file__).resolve().parents[1]),
        str(Path(riskkit.__file__).resolve().parents[1]),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*roots, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "riskkit_loadtests.locust_main", *args]


class GeneratorProcesses:
    """The local generator processes of one run: one local runner, or master + workers."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.main: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        return subprocess.Popen(
            _command(*args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=subprocess_env(),
        )

    def start_local(self, config_path: Path) -> None:
        self.main = self._spawn("generator", ["--mode", "local", "--config", str(config_path)])

    def start_master(
        self, config_path: Path, expect_workers: int, bind_host: str, bind_port: int
    ) -> None:
        self.main = self._spawn(
            "master",
            [
                "--mode", "master", "--config", str(config_path),
                "--expect-workers", str(expect_workers),
                "--bind-host", bind_host, "--bind-port", str(bind_port),
            ],
        )  # fmt: skip

    def start_workers(self, count: int, master_host: str, master_port: int) -> None:
        for index in range(count):
            self.workers.append(
                self._spawn(
                    f"worker-{index}",
                    [
                        "--mode",
                        "worker",
                        "--master-host",
                        master_host,
                        "--master-port",
                        str(master_port),
                    ],
                )
            )

    def pids(self) -> list[int]:
        return [p.pid for p in [self.main, *self.workers] if p is not None]

    def main_exited(self) -> int | None:
        return None if self.main is None else self.main.poll()

    def request_stop(self) -> None:
        """SIGTERM: the generators stop scheduling, drain, and write their results."""
        for process in [self.main, *self.workers]:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)

    def shutdown(self, grace_s: float = 10.0) -> None:
        """Wait for every process; kill the ones still there after ``grace_s``."""
        deadline = time.monotonic() + grace_s
        for process in [self.main, *self.workers]:
            if process is None:
                continue
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(remaining)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for log in self._logs:
            log.close()
        self._logs.clear()
