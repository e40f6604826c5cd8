"""``riskkit comply``: compliance checklists over an evidence folder (thin: parse, call, render)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from riskkit.cli.common import (
    echo_json,
    fail_on_option,
    json_option,
    metrics_options,
    show_pii_option,
)
from riskkit.errors import GateFailed, UsageError

__all__ = ["comply"]

_PATH = click.Path(path_type=Path)


@click.group()
def comply() -> None:
    """Compliance checklists: pricing labels, return policy, privacy consent (CN, EU, US-CA)."""


@comply.command("run")
@click.option(
    "--policy",
    default="all",
    show_default=True,
    help="privacy-consent, pricing-labels, return-policy, a custom policy, or all.",
)
@click.option(
    "--jurisdiction",
    type=click.Choice(["cn", "eu", "us-ca"]),
    default=None,
    help="Only rules of this jurisdiction (default: all).",
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Evidence folder (see docs/compliance.md for its layout).",
)
@click.option("--out", "out_dir", type=_PATH, required=True, help="Output folder.")
@click.option("--waivers", "waivers_file", type=_PATH, default=None, help="Waiver YAML file.")
@click.option(
    "--baseline",
    "baseline_file",
    type=_PATH,
    default=None,
    help="A previous run's results.json: mark findings new / still_failing / fixed.",
)
@click.option("--policies-dir", type=_PATH, default=None, help="Extra policy YAML files.")
@click.option(
    "--as-of",
    type=click.DateTime(),
    default=None,
    help="Judge as of this time (default: now); refund deadlines and waivers use it.",
)
@fail_on_option
@show_pii_option
@metrics_options
def run_command(
    policy: str,
    jurisdiction: str | None,
    evidence_dir: Path,
    out_dir: Path,
    waivers_file: Path | None,
    baseline_file: Path | None,
    policies_dir: Path | None,
    as_of: dt.datetime | None,
    fail_on: str | None,
    show_pii: bool,
    pushgateway: str | None,
    metrics_textfile: str | None,
    metrics_run: str | None,
) -> None:
    """Check an evidence folder; write results.json, report.html, report.md, junit.xml."""
    from riskkit.comply import RunOptions, gate_failures, run_compliance, write_outputs
    from riskkit.comply.outputs import record_metrics, summary
    from riskkit.metrics import RunMetrics

    metrics = RunMetrics(
        "comply",
        pushgateway=pushgateway,
        textfile=metrics_textfile,
        run_name=metrics_run or (f"{policy}@{jurisdiction}" if jurisdiction else policy),
    )
    with metrics.run():
        result = run_compliance(
            RunOptions(
                evidence_dir=evidence_dir,
                policy=policy,
                jurisdiction=jurisdiction,
                waivers_file=waivers_file,
                baseline_file=baseline_file,
                policies_dir=policies_dir,
                as_of=as_of,
                show_pii=show_pii,
            )
        )
        paths = write_outputs(result, out_dir, fail_on)
        record_metrics(metrics, result)
        counts = summary(result)["by_status"]
        click.echo(" ".join(f"{status}={count}" for status, count in counts.items()))
        click.echo(f"report: {paths['report_html']}")
        failing = gate_failures(result, fail_on)
        if failing:
            raise GateFailed(f"{len(failing)} non-waived failure(s) at or above {fail_on}")


@comply.command("list")
@click.option("--policies-dir", type=_PATH, default=None, help="Extra policy YAML files.")
@json_option
def list_command(policies_dir: Path | None, as_json: bool) -> None:
    """List every rule with its citation."""
    from riskkit.comply import load_policies

    rules = load_policies(policies_dir)
    if as_json:
        echo_json(
            [
                {
                    "id": r.rule.id,
                    "policy": r.policy,
                    "title": r.rule.title,
                    "jurisdiction": r.rule.jurisdiction,
                    "severity": r.rule.severity,
                    "template": r.rule.check.template,
                    "source": r.rule.source.model_dump(mode="json"),
                }
                for r in rules
            ]
        )
        return
    for r in rules:
        source = r.rule.source
        click.echo(
            f"{r.rule.id:<44} {r.rule.jurisdiction:<6} {r.rule.severity:<7} "
            f"{source.law} {source.article}"
        )


@comply.command("explain")
@click.argument("rule_id")
@click.option("--policies-dir", type=_PATH, default=None, help="Extra policy YAML files.")
def explain_command(rule_id: str, policies_dir: Path | None) -> None:
    """Show one rule: what it checks, its citation, parameters and remediation."""
    import yaml

    from riskkit.comply import load_policies
    from riskkit.comply.templates import load_templates

    found = [r for r in load_policies(policies_dir) if r.rule.id == rule_id]
    if not found:
        raise UsageError(f"no rule {rule_id!r} (see: riskkit comply list)")
    loaded = found[0]
    click.echo(f"{loaded.rule.id} — {loaded.rule.title}")
    click.echo(
        f"policy {loaded.policy} · jurisdiction {loaded.rule.jurisdiction} · "
        f"severity {loaded.rule.severity} · file {loaded.file}"
    )
    click.echo(
        f"check: {loaded.rule.check.template} — {load_templates()[loaded.rule.check.template].description}"
    )
    click.echo(
        yaml.safe_dump(
            {
                "params": loaded.params.model_dump(mode="json"),
                "source": loaded.rule.source.model_dump(mode="json"),
                "maps_to": loaded.rule.maps_to,
            },
            allow_unicode=True,
            sort_keys=False,
        ).rstrip()
    )
    click.echo(f"remediation: {loaded.rule.remediation}")


@comply.group("waivers")
def waivers_group() -> None:
    """Waiver files."""


@waivers_group.command("check")
@click.argument("file", type=_PATH)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Check expiries against this day (default: today).",
)
def waivers_check_command(file: Path, as_of: dt.datetime | None) -> None:
    """Validate a waiver file; exit 2 when invalid, 3 when a waiver has expired."""
    from riskkit.comply import load_waivers

    today = as_of.date() if as_of else dt.date.today()
    waivers = load_waivers(file, today)
    expired = [w for w in waivers if w.expired(today)]
    for w in waivers:
        state = "EXPIRED" if w.expired(today) else f"{(w.expires - today).days} days left"
        click.echo(f"{w.rule} {w.subject} · {w.ticket} · {w.owner} · {w.expires} ({state})")
    if expired:
        raise GateFailed(f"{len(expired)} waiver(s) expired")


@comply.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of policy files."""
    from riskkit.comply.loader import schema_text

    click.echo(schema_text(), nl=False)
