"""Ways to run the shop: child process, CLI, admin access control."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.shop import ShopConfig, create_app
from riskkit.shop.server import ShopServer, running_shop, start_shop_subprocess

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def shop_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "riskkit.shop" in " ".join(child.cmdline())
    ]


def gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def test_running_shop_serves_and_leaves_no_process(tmp_path: Path) -> None:
    with running_shop(db_path=tmp_path / "shop.db", extra_args=["--hot-stock", "3"]) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{url}/api/products/HOT-001").json()["stock"] == 3
        (child,) = shop_children()
    assert gone(child.pid)
    assert shop_children() == []
    assert (tmp_path / "shop.db").exists()  # a given database is kept


def test_running_shop_stops_the_process_on_exceptions() -> None:
    with pytest.raises(RuntimeError, match="boom"), running_shop() as url:
        (child,) = shop_children()
        workdir = Path(child.cmdline()[child.cmdline().index("--db") + 1]).parent
        assert httpx.get(f"{url}/healthz").status_code == 200
        raise RuntimeError("boom")
    assert gone(child.pid)
    assert not workdir.exists()  # the temporary database went with it


def test_shop_process_ends_when_its_parent_is_killed() -> None:
    script = (
        "from riskkit.shop.server import start_shop_subprocess\n"
        "import sys, time\n"
        "shop = start_shop_subprocess()\n"
        "print(shop.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert parent.stdout is not None
        shop_pid = int(parent.stdout.readline())
        assert psutil.pid_exists(shop_pid)
        command = psutil.Process(shop_pid).cmdline()
        workdir = Path(command[command.index("--cleanup-dir") + 1])
        assert workdir.is_dir()
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    assert gone(shop_pid, timeout_s=10)
    deadline = time.monotonic() + 5
    while workdir.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not workdir.exists()  # the orphaned shop removed its temporary database


def test_start_shop_subprocess_reports_a_failed_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="exited with 2"):
            start_shop_subprocess(port=port, timeout_s=15)
    assert shop_children() == []


def test_cli_serve_on_a_taken_port_exits_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "riskkit.shop", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=30, cwd=REPO,
        )  # fmt: skip
    assert done.returncode == 2
    assert "riskkit: error: cannot serve on 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_serve_handles_sigterm_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "riskkit", "shop", "serve", "--port", "0", "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("riskkit shop listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_cli_lists_the_shop_group() -> None:
    result = CliRunner().invoke(cli, ["shop", "serve", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--db",
        "--seed-catalog",
        "--backup-dir",
        "--backup-interval",
        "--admin-token",
    ):
        assert option in result.output


def test_cli_shop_does_not_import_locust_or_gevent() -> None:
    code = (
        "import sys, riskkit.cli.shop, riskkit.shop.server;"
        "print([m for m in ('locust', 'gevent') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_admin_token_is_required_when_configured() -> None:
    with ShopServer(admin_token="s3cret") as shop, httpx.Client(base_url=shop.url) as client:
        assert client.get("/admin/stats").status_code == 401
        assert client.get("/admin/stats", headers={"X-Admin-Token": "wrong"}).status_code == 401
        assert client.get("/admin/stats", headers={"X-Admin-Token": "s3cret"}).status_code == 200
        assert client.get("/api/products").status_code == 200  # public API needs no token


def test_admin_refuses_non_loopback_clients_without_a_token(tmp_path: Path) -> None:
    app = create_app(ShopConfig(db_path=tmp_path / "shop.db", seed_catalog=5))

    async def ask(client_host: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            return [
                await client.get("/admin/stats"),
                await client.post("/admin/disaster", json={"kind": "db_lost"}),
                await client.get("/api/products/HOT-001"),
            ]

    try:
        remote = asyncio.run(ask("203.0.113.7"))
        assert [a.status_code for a in remote] == [403, 403, 200]
        assert remote[0].json() == {"error": "admin_loopback_only"}
        assert asyncio.run(ask("127.0.0.1"))[0].status_code == 200
    finally:
        app.state.shop.database.close()


def test_shop_server_picks_free_ports_and_stops() -> None:
    first, second = ShopServer().start(), ShopServer().start()
    try:
        assert first.url != second.url
    finally:
        first.stop()
        second.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{first.url}/healthz", timeout=2)
