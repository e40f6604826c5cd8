"""The metrics riskkit really exports: run each exporting command once (small inputs,
a few seconds each) with ``--metrics-textfile`` and parse what it wrote.

Commands that need a server (a load test drives Locust against a shop; a
disaster-recovery drill restores the shop's database) are replaced by the same
library code those commands call to fill their registry, without Locust."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from riskkit import synth
from riskkit.cli.main import cli
from riskkit.metrics import RUN_LABEL, RunMetrics

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = ROOT / "policies" / "riskkit_policies" / "examples" / "evidence"


class Exported:
    """Families parsed from every exposition, by family name."""

    def __init__(self) -> None:
        self.types: dict[str, str] = {}
        self.help: dict[str, str] = {}
        self.labels: dict[str, set[str]] = {}
        self.samples: dict[str, list[Sample]] = {}

    def add(self, exposition: str) -> None:
        for family in text_string_to_metric_families(exposition):
            self.types[family.name] = family.type
            self.help[family.name] = family.documentation
            labels = self.labels.setdefault(family.name, set())
            for sample in family.samples:
                # ``run`` is the run's group label (the Pushgateway's grouping key, or
                # written into a textfile), not a label of the family
                labels.update(k for k in sample.labels if k not in ("le", RUN_LABEL))
                self.samples.setdefault(sample.name, []).append(sample)

    @property
    def sample_names(self) -> set[str]:
        return set(self.samples)


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output  # 3: a gate failed, metrics still written


def _detect_and_orders(work: Path, exported: Exported) -> None:
    export = work / "export"
    synth.write_dataset(export, 3000, 5, "riskkit")
    _invoke(
        "detect", "all", str(export / "orders.csv"), "--out", str(work / "detect"),
        "--metrics-textfile", str(work / "detect.prom"),
    )  # fmt: skip
    _invoke(
        "orders", "check", str(export / "orders.csv"),
        "--metrics-textfile", str(work / "orders.prom"),
    )  # fmt: skip
    exported.add((work / "detect.prom").read_text(encoding="utf-8"))
    exported.add((work / "orders.prom").read_text(encoding="utf-8"))


def _comply(work: Path, exported: Exported) -> None:
    _invoke(
        "comply", "run", "--evidence", str(EVIDENCE), "--out", str(work / "comply"),
        "--as-of", "2026-01-01", "--metrics-textfile", str(work / "comply.prom"),
    )  # fmt: skip
    exported.add((work / "comply.prom").read_text(encoding="utf-8"))


def _drill(work: Path, exported: Exported) -> None:
    _invoke(
        "drill", "run", "checkout-outage", "--tier", "P1", "--mode", "tabletop",
        "--auto-answer", "--out", str(work / "drill"),
        "--metrics-textfile", str(work / "drill.prom"),
    )  # fmt: skip
    exported.add((work / "drill.prom").read_text(encoding="utf-8"))
    # The RPO gauge only exists after a disaster-recovery drill restored the shop:
    # feed the same journal, with an RPO result, through the drill's metrics code.
    from riskkit_drills.drill_metrics import record_drill_metrics
    from riskkit_drills.journal import RpoResult, read_journal

    journal = read_journal(work / "drill" / "journal.json")
    rpo = RpoResult(
        orders_confirmed=10,
        orders_present_after_restore=9,
        orders_lost=1,
        lost_order_ids_sample=["o1"],
        target_orders=0,
        met=False,
    )
    metrics = RunMetrics("drill", textfile=work / "drill-rpo.prom")
    with metrics.run():
        record_drill_metrics(metrics, journal.model_copy(update={"rpo": rpo}))
    exported.add((work / "drill-rpo.prom").read_text(encoding="utf-8"))


def _loadtest(work: Path, exported: Exported) -> None:
    """What ``run_loadtest`` registers and flushes, fed one second of measurements."""
    from riskkit_loadtests.gates import RunTargets, evaluate_gates
    from riskkit_loadtests.histogram import LogHistogram
    from riskkit_loadtests.live import LoadTestCollector
    from riskkit_loadtests.results import RunData
    from riskkit_loadtests.shapes import ConstantRate
    from riskkit_loadtests.slo import load_slo

    histogram = LogHistogram()
    for latency_ms in (12.0, 40.0, 900.0):
        histogram.record(latency_ms)
    data = RunData()
    data.add(
        {
            "w": 0, "s": 0, "scheduled": 3, "started": 3, "dropped": 0, "users": 5,
            "steps": {"pay": {"ok": 2, "fail": 1, "err": {}, "h": histogram.to_json()}},
            "checks": {"order_created": [2, 1]}, "cpu": 20.0,
        }
    )  # fmt: skip
    shape = ConstantRate(3.0, 1.0)
    collector = LoadTestCollector(data, shape, open_model=True)
    collector.gates = evaluate_gates(data, load_slo(None), RunTargets(3, 1.0))
    metrics = RunMetrics("loadtest", textfile=work / "loadtest.prom")
    metrics.registry.register(collector)
    with metrics.run():
        pass
    exported.add((work / "loadtest.prom").read_text(encoding="utf-8"))


def _shop(exported: Exported) -> None:
    from riskkit.shop.metrics import ShopMetrics

    shop = ShopMetrics(lambda: 0, lambda: True, lambda: "primary")
    shop.observe_request("/api/products", "GET", 200, 0.01)
    exported.add(shop.render().decode("utf-8"))


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    work = tmp_path_factory.mktemp("exported")
    found = Exported()
    _detect_and_orders(work, found)
    _comply(work, found)
    _drill(work, found)
    _loadtest(work, found)
    _shop(found)
    yield found
    shutil.rmtree(work, ignore_errors=True)
