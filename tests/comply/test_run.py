"""The run end to end: sample evidence, outputs, exit codes, waivers, baseline, escaping, PII."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.comply import RunOptions, load_policies, run_compliance, sample_evidence_dir

from .conftest import AS_OF, write_evidence

# Rules judged on one settings value or one detector file: one subject, one verdict per folder.
SINGLE_SUBJECT = {
    "cn-pipl-art24-non-personalised-option",
    "cn-pipl-art24-price-differences",
    "eu-gdpr-art7-easy-withdrawal",
}
AS_OF_ARG = ["--as-of", "2026-11-22 12:00:00"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _comply_run(evidence: Path, out: Path, *extra: str):
    return invoke(
        "comply", "run", "--evidence", str(evidence), "--out", str(out), *AS_OF_ARG, *extra
    )


def test_sample_evidence_has_a_failing_and_a_passing_case_for_every_rule() -> None:
    result = run_compliance(RunOptions(evidence_dir=sample_evidence_dir(), as_of=AS_OF))
    statuses: dict[str, set[str]] = defaultdict(set)
    for finding in result.findings:
        statuses[finding.rule].add(finding.status)
    assert set(statuses) == {r.rule.id for r in load_policies()}
    for rule, seen in statuses.items():
        assert "fail" in seen, rule
        assert not seen & {"error", "not_checked"}, (rule, seen)
        if rule not in SINGLE_SUBJECT:
            assert "pass" in seen, rule


def test_cli_run_writes_every_output_and_gates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    prom = tmp_path / "comply.prom"
    res = _comply_run(
        sample_evidence_dir(), out, "--fail-on", "high", "--metrics-textfile", str(prom)
    )
    assert res.exit_code == 3, res.output
    assert "non-waived failure(s) at or above high" in res.output
    payload = json.loads(
        (out / "results.json").read_text(encoding="utf-8"),
        parse_constant=lambda name: pytest.fail(f"results.json holds {name}: not strict JSON"),
    )
    assert payload["schema_version"] == "riskkit.comply.results/1"
    assert payload["summary"]["by_status"]["fail"] > 0
    assert "catalog.csv" in payload["evidence_files"]
    assert len(payload["evidence_files"]["catalog.csv"]) == 64
    suites = ET.parse(out / "junit.xml").getroot()
    assert sum(int(s.get("failures")) for s in suites) == payload["summary"]["by_status"]["fail"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "第十六条" in html and "personal data masked" in html
    assert "## Findings needing action" in (out / "report.md").read_text(encoding="utf-8")
    metrics = prom.read_text(encoding="utf-8")
    assert (
        'riskkit_compliance_findings{policy="pricing-labels",run="all",severity="high",status="fail"}'
        in metrics
    )
    assert "riskkit_compliance_duration_seconds" in metrics
    assert "riskkit_comply_last_success_timestamp_seconds" in metrics
    assert _comply_run(sample_evidence_dir(), tmp_path / "o2").exit_code == 0


def test_fail_on_threshold(tmp_path: Path) -> None:
    root = write_evidence(
        tmp_path / "ev", catalog=[{"sku_id": "S1", "price": 60, "unit": "kg", "unit_quantity": 5}]
    )  # low: no unit price
    args = ("--policy", "pricing-labels", "--jurisdiction", "cn")
    assert _comply_run(root, tmp_path / "a", *args, "--fail-on", "medium").exit_code == 0
    assert _comply_run(root, tmp_path / "b", *args, "--fail-on", "low").exit_code == 3


def test_missing_evidence_is_not_checked_never_a_pass(tmp_path: Path) -> None:
    root = write_evidence(tmp_path / "ev", settings={"markets": ["cn", "eu", "us-ca"]})
    result = run_compliance(RunOptions(evidence_dir=root, as_of=AS_OF))
    by_rule = {f.rule: f for f in result.findings if f.subject == "*"}
    assert by_rule["cn-price-art16-reference-price"].status == "not_checked"
    assert "catalog.csv not found" in by_rule["cn-price-art16-reference-price"].message
    assert by_rule["cn-pipl-art29-sensitive-separate"].status == "not_checked"
    assert not [f for f in result.findings if f.status == "pass"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [{"sku_id": "S1", "price": 10}, {"sku_id": "S2", "price": "12,5元"}],
            "catalog.csv, row 3, column 'price': not a number",
        ),
        (
            [{"sku_id": "S1", "promo_start": "next tuesday"}],
            "catalog.csv, row 2, column 'promo_start': not a date",
        ),
        (
            [{"sku_id": "S1", "returnable": "maybe"}],
            "catalog.csv, row 2, column 'returnable': not a boolean",
        ),
    ],
)
def test_malformed_evidence_exits_2_naming_file_row_column(tmp_path: Path, rows, expected) -> None:
    root = write_evidence(tmp_path / "ev", catalog=rows)
    res = _comply_run(root, tmp_path / "out", "--policy", "pricing-labels")
    assert res.exit_code == 2
    assert expected in res.output


def test_missing_required_column_exits_2(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "consents.csv").write_text("user_id,purpose\nu1,ads\n", encoding="utf-8")
    res = _comply_run(root, tmp_path / "out", "--policy", "privacy-consent")
    assert res.exit_code == 2
    assert "consents.csv" in res.output and "'sensitive'" in res.output


def _waivers(path: Path, expires: dt.date, subject: str = "sku:S2") -> Path:
    path.write_text(
        "waivers:\n"
        f"  - rule: cn-price-art20-list-vs-detail\n    subject: '{subject}'\n"
        "    owner: 张经理 (pricing)\n    justification: list page cache refreshes nightly\n"
        f"    ticket: PRICE-142\n    expires: {expires.isoformat()}\n",
        encoding="utf-8",
    )
    return path


def _list_detail_evidence(tmp_path: Path) -> Path:
    return write_evidence(
        tmp_path / "ev",
        catalog=[
            {"sku_id": "S1", "list_page_price": 10, "detail_page_price": 10},
            {"sku_id": "S2", "list_page_price": 9, "detail_page_price": 10},
        ],
    )


def test_valid_waiver_waives_but_stays_visible(tmp_path: Path) -> None:
    root = _list_detail_evidence(tmp_path)
    waivers = _waivers(tmp_path / "w.yaml", AS_OF.date() + dt.timedelta(days=30))
    out = tmp_path / "out"
    res = _comply_run(
        root,
        out,
        "--policy",
        "pricing-labels",
        "--jurisdiction",
        "cn",
        "--waivers",
        str(waivers),
        "--fail-on",
        "medium",
    )
    assert res.exit_code == 0, res.output
    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    waived = [f for f in payload["findings"] if f["status"] == "waived"]
    assert [f["subject"] for f in waived] == ["sku:S2"]
    assert waived[0]["waiver"]["ticket"] == "PRICE-142"
    assert payload["summary"]["by_status"]["waived"] == 1
    assert "PRICE-142" in (out / "report.html").read_text(encoding="utf-8")


def test_expired_waiver_is_a_failure(tmp_path: Path) -> None:
    root = _list_detail_evidence(tmp_path)
    waivers = _waivers(tmp_path / "w.yaml", AS_OF.date() - dt.timedelta(days=1), subject="*")
    out = tmp_path / "out"
    res = _comply_run(
        root,
        out,
        "--policy",
        "pricing-labels",
        "--jurisdiction",
        "cn",
        "--waivers",
        str(waivers),
        "--fail-on",
        "medium",
    )
    assert res.exit_code == 3
    finding = next(
        f
        for f in json.loads((out / "results.json").read_text())["findings"]
        if f["subject"] == "sku:S2"
    )
    assert finding["status"] == "fail" and finding["waiver"]["expired"] is True
    check = invoke("comply", "waivers", "check", str(waivers), "--as-of", "2026-11-22")
    assert check.exit_code == 3 and "EXPIRED" in check.output


def test_waiver_beyond_90_days_is_invalid(tmp_path: Path) -> None:
    today = dt.date(2026, 11, 22)
    ok = _waivers(tmp_path / "ok.yaml", today + dt.timedelta(days=90))
    too_long = _waivers(tmp_path / "long.yaml", today + dt.timedelta(days=91))
    assert invoke("comply", "waivers", "check", str(ok), "--as-of", "2026-11-22").exit_code == 0
    res = invoke("comply", "waivers", "check", str(too_long), "--as-of", "2026-11-22")
    assert res.exit_code == 2
    assert "more than 90 days" in res.output and "long.yaml" in res.output
    missing_owner = tmp_path / "bad.yaml"
    missing_owner.write_text(
        "waivers:\n  - rule: x\n    ticket: T\n    justification: j\n    expires: 2026-12-01\n",
        encoding="utf-8",
    )
    assert invoke("comply", "waivers", "check", str(missing_owner)).exit_code == 2


def test_baseline_marks_new_still_failing_and_fixed(tmp_path: Path) -> None:
    first = write_evidence(
        tmp_path / "m1",
        catalog=[
            {"sku_id": "S1", "list_page_price": 9, "detail_page_price": 10},
            {"sku_id": "S2", "list_page_price": 9, "detail_page_price": 10},
            {"sku_id": "S3", "list_page_price": 10, "detail_page_price": 10},
        ],
    )
    args = ("--policy", "pricing-labels", "--jurisdiction", "cn")
    assert _comply_run(first, tmp_path / "o1", *args).exit_code == 0
    second = write_evidence(
        tmp_path / "m2",
        catalog=[
            {"sku_id": "S1", "list_page_price": 10, "detail_page_price": 10},  # fixed
            {"sku_id": "S2", "list_page_price": 9, "detail_page_price": 10},  # still failing
            {"sku_id": "S3", "list_page_price": 8, "detail_page_price": 10},
        ],
    )  # regressed
    res = _comply_run(
        second, tmp_path / "o2", *args, "--baseline", str(tmp_path / "o1" / "results.json")
    )
    assert res.exit_code == 0, res.output
    payload = json.loads((tmp_path / "o2" / "results.json").read_text(encoding="utf-8"))
    changes = {
        f["subject"]: f["change"]
        for f in payload["findings"]
        if f["rule"] == "cn-price-art20-list-vs-detail"
    }
    assert changes == {"sku:S1": "fixed", "sku:S2": "still_failing", "sku:S3": "new"}
    assert payload["baseline"]["fixed"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": []}', encoding="utf-8")
    assert _comply_run(second, tmp_path / "o3", *args, "--baseline", str(bad)).exit_code == 2


def test_report_escapes_hostile_text(tmp_path: Path) -> None:
    root = write_evidence(
        tmp_path / "ev",
        catalog=[
            {
                "sku_id": "<img src=x onerror=alert(1)>",
                "title": "<script>alert('x')</script>",
                "list_page_price": 9,
                "detail_page_price": 10,
            }
        ],
    )
    out = tmp_path / "out"
    assert _comply_run(root, out, "--policy", "pricing-labels").exit_code == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "<img" not in markdown.split("```json")[0]
    ET.parse(out / "junit.xml")  # still well-formed XML


def test_user_ids_are_pseudonymised_unless_show_pii(tmp_path: Path) -> None:
    root = write_evidence(
        tmp_path / "ev",
        consents=[
            {
                "user_id": "13800138000",
                "purpose": "ads",
                "sensitive": "false",
                "notice_version": "v1",
                "granted_at": "2026-09-01",
                "method": "pre_ticked",
            }
        ],
    )
    args = ("--policy", "privacy-consent", "--jurisdiction", "cn")
    assert _comply_run(root, tmp_path / "a", *args).exit_code == 0
    for name in ("results.json", "report.html", "report.md", "junit.xml"):
        assert "13800138000" not in (tmp_path / "a" / name).read_text(encoding="utf-8"), name
    assert _comply_run(root, tmp_path / "b", *args, "--show-pii").exit_code == 0
    assert "13800138000" in (tmp_path / "b" / "results.json").read_text(encoding="utf-8")


def test_list_explain_schema_commands() -> None:
    listed = json.loads(invoke("comply", "list", "--json").output)
    assert {r["id"] for r in listed} == {r.rule.id for r in load_policies()}
    assert all(r["source"]["url"] for r in listed)
    text = invoke("comply", "list").output
    assert "eu-pid-art6a-prior-price" in text
    explained = invoke("comply", "explain", "eu-pid-art6a-prior-price")
    assert explained.exit_code == 0 and "window_days: 30" in explained.output
    assert invoke("comply", "explain", "no-such-rule").exit_code == 2
    schema = json.loads(invoke("comply", "schema").output)
    assert schema["title"] == "PolicyFile"


def test_unknown_policy_and_missing_evidence_folder(tmp_path: Path) -> None:
    res = _comply_run(sample_evidence_dir(), tmp_path / "o", "--policy", "nope")
    assert res.exit_code == 2 and "unknown policy" in res.output
    assert _comply_run(tmp_path / "absent", tmp_path / "o").exit_code == 2


def test_a_crashing_check_is_an_error_finding_not_a_crash(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "mine.yaml").write_text(
        "policy: in-house\ntitle: In-house rules\nrules:\n"
        "  - id: inhouse-refund-3d\n    title: Refund within 3 days\n    jurisdiction: cn\n"
        "    source: {law: House rule, article: '1', url: 'https://intranet.example/r1',\n"
        "             effective: 2024-01-01, verified: true}\n"
        "    severity: low\n"
        "    check: {template: refund_deadline, params: {days: 3, start_events: [no_such]}}\n"
        "    remediation: Refund faster.\n",
        encoding="utf-8",
    )
    root = write_evidence(
        tmp_path / "ev",
        returns=[
            {
                "order_id": "o1",
                "sku_id": "S1",
                "category": "x",
                "signed_at": "2026-11-01",
                "requested_at": "2026-11-02",
                "status": "refunded",
            }
        ],
    )
    out = tmp_path / "out"
    res = _comply_run(root, out, "--policy", "in-house", "--policies-dir", str(policies))
    assert res.exit_code == 0, res.output
    finding = json.loads((out / "results.json").read_text(encoding="utf-8"))["findings"][0]
    assert finding["status"] == "error" and "no_such" in finding["message"]


def test_many_passes_are_summarised_but_fixes_stay_listed(tmp_path: Path) -> None:
    def catalog(bad: set[str]) -> list[dict[str, object]]:
        return [
            {
                "sku_id": f"S{i}",
                "list_page_price": 9 if f"S{i}" in bad else 10,
                "detail_page_price": 10,
            }
            for i in range(6)
        ]

    first = write_evidence(tmp_path / "m1", catalog=catalog({"S0", "S1"}))
    out1 = tmp_path / "o1"
    assert _comply_run(first, out1, "--policy", "pricing-labels").exit_code == 0
    second = write_evidence(tmp_path / "m2", catalog=catalog({"S1"}))
    result = run_compliance(
        RunOptions(
            evidence_dir=second,
            as_of=AS_OF,
            rule_ids=("cn-price-art20-list-vs-detail",),
            baseline_file=out1 / "results.json",
            pass_detail_limit=2,
        )
    )
    statuses = {(f.subject, f.status, f.change) for f in result.findings}
    assert ("sku:S0", "pass", "fixed") in statuses
    assert ("sku:S1", "fail", "still_failing") in statuses
    summary = next(f for f in result.findings if f.subject == "*")
    assert summary.status == "pass" and summary.evidence["subjects"] == 4


def test_duplicate_sku_in_catalog_is_malformed(tmp_path: Path) -> None:
    root = write_evidence(tmp_path / "ev", catalog=[{"sku_id": "S1"}, {"sku_id": "S1"}])
    res = _comply_run(root, tmp_path / "out", "--policy", "pricing-labels")
    assert res.exit_code == 2 and "row 3, column 'sku_id'" in res.output


def test_every_comply_command_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "compliance.md").read_text(encoding="utf-8")
    for command in (
        "comply run",
        "comply list",
        "comply explain",
        "comply waivers check",
        "comply schema",
    ):
        assert f"riskkit {command}" in docs, command
    for rule in load_policies():
        assert f"`{rule.rule.id}`" in docs, rule.rule.id
