"""Run the shop: in the foreground, in a background thread, or as a child process.

Load tests and drills use :func:`running_shop` so the shop gets its own process (and core);
tests use :class:`ShopServer` for speed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import uvicorn

from riskkit.shop.app import create_app
from riskkit.shop.config import DEFAULT_HOST, ShopConfig

__all__ = [
    "ShopProcess",
    "ShopServer",
    "bind_socket",
    "running_shop",
    "serve",
    "start_shop_subprocess",
    "wait_healthy",
]

LISTENING_PREFIX = "riskkit shop listening on "
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so port 0 yields a known free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted
    # sockets whose proto says TCP, and without it every keep-alive response waits ~40 ms
    # for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _uvicorn_config(config: ShopConfig, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(config),
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def wait_healthy(url: str, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Poll ``url/healthz`` until it answers 200; raise TimeoutError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as problem:
            last_problem = str(problem)
        time.sleep(0.05)
    raise TimeoutError(f"shop at {url} not healthy after {timeout_s:g}s: {last_problem}")


def _exit_when_orphaned(parent_pid: int) -> None:
    """End this process when the parent that started it dies (no orphaned shops)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(
    config: ShopConfig,
    host: str = DEFAULT_HOST,
    port: int = 8089,
    *,
    log_level: str = "warning",
    announce: IO[str] | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; prints the URL to ``announce`` once bound."""
    sock = bind_socket(host, port)
    server = uvicorn.Server(_uvicorn_config(config, log_level))
    if announce is not None:
        print(f"{LISTENING_PREFIX}{_url(sock)}", file=announce, flush=True)
    if parent_pid is not None:
        _exit_when_orphaned(parent_pid)
    try:
        with _stop_signals_end_quietly():
            server.run(sockets=[sock])
    finally:
        sock.close()


class _StopRequested(Exception):
    """SIGINT/SIGTERM arrived; uvicorn has already shut down gracefully."""


@contextlib.contextmanager
def _stop_signals_end_quietly() -> Iterator[None]:
    """Turn the stop signal uvicorn re-raises after its graceful shutdown into a clean return.

    uvicorn restores the previous handlers and re-raises the signal it caught; with the
    default handlers that would kill the process before ``finally`` blocks (temporary
    database removal) run, or print a KeyboardInterrupt.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _StopRequested(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _StopRequested:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ShopServer:
    """The shop on a loopback port, served by uvicorn in a background thread.

    Parameters
    ----------
    host : str
        Address to bind.
    port : int
        Port; 0 picks a free one (see :attr:`url` after :meth:`start`).
    db_path : Path or None
        Database file; ``None`` uses a temporary directory removed by :meth:`stop`.
    seed_catalog, hot_stock, backup_dir, backup_interval_s, admin_token, gateway_latency_s, fault_seed
        As in :class:`ShopConfig`.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        db_path: Path | str | None = None,
        *,
        seed_catalog: int = 200,
        hot_stock: int = 100,
        backup_dir: Path | None = None,
        backup_interval_s: float = 0.0,
        admin_token: str | None = None,
        gateway_latency_s: float = 0.0,
        fault_seed: int = 0,
    ) -> None:
        self._tempdir: str | None = None
        if db_path is None:
            self._tempdir = tempfile.mkdtemp(prefix="riskkit-shop-")
            db_path = Path(self._tempdir) / "shop.db"
        self.config = ShopConfig(
            db_path=Path(db_path),
            backup_dir=backup_dir,
            seed_catalog=seed_catalog,
            hot_stock=hot_stock,
            backup_interval_s=backup_interval_s,
            admin_token=admin_token,
            gateway_latency_s=gateway_latency_s,
            fault_seed=fault_seed,
        )
        self._socket = bind_socket(host, port)
        self.url = _url(self._socket)
        self._server = uvicorn.Server(_uvicorn_config(self.config, "warning"))
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> ShopServer:
        """Start serving; returns once ``/healthz`` answers."""
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="riskkit-shop",
            daemon=True,
        )
        self._thread.start()
        try:
            wait_healthy(self.url, timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._thread = None
        self._socket.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> ShopServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ShopProcess:
    """A shop child process started by :func:`start_shop_subprocess`.

    Its stderr (uvicorn's log) goes to :attr:`log_path`, in a temporary directory that
    :meth:`stop` removes together with the temporary database.
    """

    def __init__(
        self, process: subprocess.Popen[str], url: str, workdir: str | None, log_path: Path
    ) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path
        self._workdir = workdir

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM (graceful: the database is closed), then SIGKILL after ``timeout_s``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        return self.process.returncode


def _read_announcement(stream: IO[str], timeout_s: float) -> tuple[str | None, bool]:
    """The URL the child prints once bound, and whether its stdout ended without one."""
    found: list[str] = []

    def read() -> None:
        for line in stream:
            if line.startswith(LISTENING_PREFIX):
                found.append(line[len(LISTENING_PREFIX) :].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    return (found[0] if found else None), not reader.is_alive() and not found


def _tail(path: Path, limit: int = 2_000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:].strip()
    except OSError:
        return ""


def start_shop_subprocess(
    port: int | None = 0,
    db_path: Path | str | None = None,
    *,
    host: str = DEFAULT_HOST,
    extra_args: list[str] | None = None,
    timeout_s: float = STARTUP_TIMEOUT_S,
) -> ShopProcess:
    """Start ``python -m riskkit.shop serve`` and return once it is healthy.

    ``port`` 0 or ``None`` lets the child bind a free port and report it; ``db_path`` ``None``
    puts the database in a temporary directory removed by :meth:`ShopProcess.stop`. The
    child ends itself if this process dies. Raises RuntimeError (with the child's last log
    lines) when it exits or does not listen in time, TimeoutError when it never gets healthy.
    """
    workdir = tempfile.mkdtemp(prefix="riskkit-shop-")
    database = Path(workdir) / "shop.db" if db_path is None else Path(db_path)
    log_path = Path(workdir) / "shop.log"
    command = [
        sys.executable, "-m", "riskkit.shop", "serve",
        "--host", host, "--port", str(port or 0), "--db", str(database),
        "--parent-pid", str(os.getpid()), "--cleanup-dir", workdir, *(extra_args or []),
    ]  # fmt: skip
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    shop = ShopProcess(process, "", workdir, log_path)
    try:
        assert process.stdout is not None
        url, ended = _read_announcement(process.stdout, timeout_s)
        if url is None:
            if ended:  # stdout closed: the child is exiting, let it finish to get its code
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(STOP_TIMEOUT_S)
            state = (
                f"exited with {process.returncode} before listening"
                if process.poll() is not None
                else f"did not start listening within {timeout_s:g}s"
            )
            raise RuntimeError(f"shop process {state}: {_tail(log_path)}")
        shop.url = url
        wait_healthy(url, timeout_s)
    except BaseException:
        shop.stop()
        raise
    return shop


@contextlib.contextmanager
def running_shop(
    port: int | None = 0,
    db_path: Path | str | None = None,
    *,
    host: str = DEFAULT_HOST,
    extra_args: list[str] | None = None,
    timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[str]:
    """Run the shop in a child process for the ``with`` block; yields its base URL.

    The process is stopped on exit, exceptions included, so nothing is left running.
    """
    shop = start_shop_subprocess(
        port, db_path, host=host, extra_args=extra_args, timeout_s=timeout_s
    )
    try:
        yield shop.url
    finally:
        shop.stop()
