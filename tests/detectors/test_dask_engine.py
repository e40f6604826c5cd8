"""``riskkit detect --engine dask``: the same findings as the pandas engine,
on a local cluster of two workers and on a cluster started with Dask's own
``dask scheduler`` / ``dask worker`` commands; Dask never imported otherwise.

Every run is a subprocess: Dask's event loop and worker processes stay out of
the pytest process.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskkit import synth

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROWS = 200_000
PARTS = 5
# Outputs that name the engine or hold timings; everything else must match byte for byte.
ENGINE_DEPENDENT = {"summary.json", "report.html"}


def _riskkit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _split_on_orders(orders: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    """Consecutive slices that never cut an order in two, as exports are partitioned."""
    cuts = [0]
    ids = orders["order_id"].to_numpy()
    for k in range(1, parts):
        cut = len(orders) * k // parts
        while cut < len(orders) and ids[cut] == ids[cut - 1]:
            cut += 1
        cuts.append(cut)
    cuts.append(len(orders))
    return [orders.iloc[a:b] for a, b in itertools.pairwise(cuts)]


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A canonical export in five CSV and Parquet files, with bad rows to quarantine."""
    source = tmp_path_factory.mktemp("source")
    synth.write_dataset(source, ROWS, 11, "riskkit")
    orders = pd.read_csv(source / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[orders.index[[17, 90_001]], "unit_price"] = "twelve"
    folder = tmp_path_factory.mktemp("partitioned")
    for index, part in enumerate(_split_on_orders(orders, PARTS)):
        if index % 2:
            part.to_parquet(folder / f"part-{index:03d}.parquet", index=False)
        else:
            part.to_csv(folder / f"part-{index:03d}.csv", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if not p.name.startswith("_"))


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name not in ENGINE_DEPENDENT
    }


def _comparable_summary(out: Path) -> dict[str, object]:
    summary = json.loads((out / "summary.json").read_text())
    for key in ("inputs", "timings_seconds", "engine"):
        summary.pop(key)
    for info in summary["detectors"].values():
        info.pop("seconds")
    return summary


@pytest.fixture(scope="module")
def pandas_run(partitioned: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pandas")
    result = _riskkit("detect", "all", *_files(partitioned), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_dask_engine_on_a_local_cluster_finds_what_pandas_finds(
    partitioned: Path, pandas_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    result = _riskkit(
        "detect", "all", str(partitioned), "--out", str(out), "--engine", "dask", "--workers", "2"
    )
    assert result.returncode == 0, result.stderr
    assert "engine dask: 2 workers (local), 5 partitions" in result.stdout

    expected, got = _outputs(pandas_run), _outputs(out)
    assert sorted(got) == sorted(expected)
    assert "rejected_rows.csv" in got
    differing = [name for name in expected if expected[name] != got[name]]
    assert differing == []
    assert _comparable_summary(out) == _comparable_summary(pandas_run)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"]["name"] == "dask"
    assert summary["engine"]["workers"] == 2
    assert summary["engine"]["partitions"] == PARTS
    assert summary["engine"]["fitted_by_partition"] == ["traffic-drift"]
    assert summary["rejected_rows"] == 2
    assert summary["detectors"]["brushing"]["flagged_orders"] > 0
    assert summary["detectors"]["coupon-abuse"]["flagged_orders"] > 0


def test_orders_split_across_files_are_fitted_whole(
    partitioned: Path, pandas_run: Path, tmp_path: Path
) -> None:
    """A file boundary inside an order: drift cannot add up partitions, so it
    is fitted on the whole data, and still finds what pandas finds."""
    lines = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) if p.endswith(".csv")
         else pd.read_parquet(p) for p in _files(partitioned)],
        ignore_index=True,
    )  # fmt: skip
    multi_line = lines["order_id"].duplicated(keep=False).to_numpy()
    cut = int(np.flatnonzero(multi_line & lines["order_id"].duplicated().to_numpy())[100])
    folder = tmp_path / "split"
    folder.mkdir()
    lines.iloc[:cut].to_csv(folder / "a.csv", index=False)
    lines.iloc[cut:].to_csv(folder / "b.csv", index=False)
    out = tmp_path / "out"
    result = _riskkit(
        "detect", "traffic-drift", str(folder), "--out", str(out), "--engine", "dask", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["engine"]["fitted_by_partition"] == []
    assert "orders are split across input files" in result.stderr
    name = "traffic-drift"
    for table in ("windows.csv", "findings.csv", "findings.jsonl"):
        assert (out / name / table).read_bytes() == (pandas_run / name / table).read_bytes()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two single-thread workers from Dask's own commands (``dask
    scheduler``, ``dask worker``, run as modules of this interpreter), on loopback."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    with (tmp_path / "cluster.log").open("w") as log:
        scheduler = subprocess.Popen(
            [
                sys.executable, "-m", "distributed.cli.dask_scheduler",
                "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL, stderr=log, env=env,
        )  # fmt: skip
        workers = subprocess.Popen(
            [
                sys.executable, "-m", "distributed.cli.dask_worker", address,
                "--nworkers", "2", "--nthreads", "1",
                "--no-dashboard", "--local-directory", str(tmp_path / "workers"),
            ],
            stdout=subprocess.DEVNULL, stderr=log, env=env,
        )  # fmt: skip
    try:
        # Ready when the scheduler has logged both workers' registration.
        deadline = time.monotonic() + 90
        log_file = tmp_path / "cluster.log"
        while log_file.read_text(errors="replace").count("Register worker") < 2:
            assert time.monotonic() < deadline, log_file.read_text(errors="replace")[-2000:]
            assert scheduler.poll() is None and workers.poll() is None
            time.sleep(0.2)
        yield address
    finally:
        for process in (workers, scheduler):
            process.terminate()
        for process in (workers, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_dask_engine_on_an_existing_scheduler(
    partitioned: Path, pandas_run: Path, dask_cluster: str, tmp_path: Path
) -> None:
    out = tmp_path / "remote"
    files = _files(partitioned)
    result = _riskkit(
        "detect", "price-discrimination", *files, "--out", str(out),
        "--engine", "dask", "--scheduler", dask_cluster, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["engine"]["scheduler"] == dask_cluster
    assert summary["engine"]["workers"] == 2
    name = "price-discrimination"
    for table in ("findings.csv", "findings.jsonl"):
        assert (out / name / table).read_bytes() == (pandas_run / name / table).read_bytes()


def test_an_unreachable_scheduler_is_a_usage_error(partitioned: Path, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = _riskkit(
        "detect", "brushing", str(partitioned), "--out", str(tmp_path / "out"),
        "--engine", "dask", "--scheduler", address,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"cannot reach the Dask scheduler at {address}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_partition_names_its_file_row_and_column(partitioned: Path, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for path in _files(partitioned)[:2]:
        (folder / Path(path).name).write_bytes(Path(path).read_bytes())
    (folder / "part-009.csv").write_text("order_id,buyer_id,created_at\nA1,b1,not a time\n")
    result = _riskkit(
        "detect", "brushing", str(folder), "--out", str(tmp_path / "out"), "--engine", "dask"
    )
    assert result.returncode == 2, result.stderr
    assert "part-009.csv" in result.stderr and "row 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_pandas_engine_never_imports_dask(partitioned: Path, tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from riskkit.cli.main import cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "    print('DASK-MODULES', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "detect", "all", _files(partitioned)[0],
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "DASK-MODULES []" in result.stdout
