"""Malformed data files: policy and runbook YAML, load-test SLO and API maps,
waivers, ``--baseline`` results JSON and column mappings.

Each reader starts from a valid file (a shipped one where riskkit ships
one) and damages its text: deleted, duplicated and re-indented lines, hostile
scalars, tabs, truncation, undecodable bytes, other YAML types at the top.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from draw import Draw

__all__ = ["DATAFILE_READERS", "DataCase", "make_datafile"]

TODAY = dt.date(2026, 12, 1)

HOSTILE_SCALARS = [
    "",
    "null",
    "~",
    "[",
    "{",
    "{a: 1}",
    "[1, [2]]",
    "2026-13-45",
    "2026-02-30",
    "-1",
    "1e999",
    ".nan",
    "9" * 30,
    "0x1F",
    "yes",
    '"unterminated',
    "'",
    "*undefined_alias",
    "&a [*a]",
    "!!binary ZZZ",
    "!!python/object/apply:os.system ['true']",
    "!!timestamp nope",
    "!!int x",
    "!!float x",
    "@reserved",
    "`tick",
    "%directive",
    "a: b: c",
    "- item",
    "订单😀",
    "\t",
    "12ms",
    "-5s",
    "1000000000000000000000h",
]


@dataclass
class DataCase:
    reader: str
    name: str
    data: bytes
    mutations: list[str]


def _shipped(package: str, name: str) -> str:
    import importlib.resources

    return (importlib.resources.files(package) / name).read_text(encoding="utf-8")


def _policy_base() -> str:
    text = _shipped("riskkit_policies", "pricing-labels.yaml")
    # Own ids, so the file does not clash with the shipped one it copies.
    return text.replace("policy: pricing-labels", "policy: fuzz-policy").replace(
        "  - id: ", "  - id: fuzz-"
    )


def _waivers_base() -> str:
    return (
        "waivers:\n"
        "  - rule: cn-price-art20-list-vs-detail\n"
        '    subject: "sku:SKU-1002"\n'
        "    owner: 张经理 (pricing)\n"
        "    justification: list page cache refreshes nightly\n"
        "    ticket: PRICE-142\n"
        "    expires: 2027-01-15\n"
        "  - rule: eu-pid-art6a-prior-price\n"
        "    owner: ops\n"
        "    justification: accepted\n"
        "    ticket: OPS-1\n"
        "    expires: 2026-12-20\n"
    )


def _baseline_base() -> str:
    findings = [
        {"rule": "cn-price-art16-reference-price", "subject": f"sku:SKU-{i}", "status": s}
        for i, s in enumerate(["fail", "pass", "waived", "fail"])
    ]
    payload = {"schema_version": "riskkit.comply.results/1", "findings": findings}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


MAPPING_BASE = (
    "name: my-erp\n"
    "columns:\n"
    "  order_id: 单号\n"
    "  buyer_id: 客户编号\n"
    "  created_at: 下单时间\n"
    "  amount_paid: [实付金额, 支付金额]\n"
    "constants:\n"
    "  platform: erp\n"
)


def _yaml_mutation(text: str, draw: Draw, mutations: list[str]) -> str:
    lines = text.splitlines()
    for _ in range(draw.integer(1, 3)):
        if not lines:
            break
        at = draw.integer(0, len(lines) - 1)
        what = draw.integer(0, 6)
        if what == 0:
            del lines[at]
            mutations.append(f"delete line {at + 1}")
        elif what == 1:
            lines.insert(at, lines[at])
            mutations.append(f"duplicate line {at + 1}")
        elif what == 2:
            lines[at] = draw.choice(["  ", "\t", " "]) + lines[at]
            mutations.append(f"indent line {at + 1}")
        elif what == 3 and ":" in lines[at]:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {draw.choice(HOSTILE_SCALARS)}"
            mutations.append(f"hostile value line {at + 1}: {lines[at]!r}")
        elif what == 4:
            lines[at] = lines[at][: draw.integer(0, len(lines[at]))]
            mutations.append(f"cut line {at + 1}")
        elif what == 5:
            lines.insert(at, f"{draw.text('abcxyz_', 8, 1)}: {draw.choice(HOSTILE_SCALARS)}")
            mutations.append(f"unknown key before line {at + 1}")
        else:
            lines[at] = lines[at].replace(" ", "", 1)
            mutations.append(f"squeeze line {at + 1}")
    return "\n".join(lines) + ("\n" if draw.boolean(0.9) else "")


def _json_mutation(text: str, draw: Draw, mutations: list[str]) -> str:
    data = json.loads(text)
    what = draw.integer(0, 5)
    if what == 0:
        data["findings"] = draw.choice([5, "x", None, {"a": 1}, [1, "two", None]])
    elif what == 1:
        data["schema_version"] = draw.choice([1, None, "riskkit.comply.results/2"])
    elif what == 2 and data["findings"]:
        item = draw.choice(data["findings"])
        key = draw.choice(["rule", "subject", "status"])
        item[key] = draw.choice([None, 1, [], {}, "😀"])
        if draw.boolean():
            del item[key]
    elif what == 3:
        data = draw.choice([[], "x", 3, None])
    elif what == 4:
        text = json.dumps(data, indent=2)
        return text[: draw.integer(0, len(text))]
    mutations.append(f"json change {what}")
    return json.dumps(data, ensure_ascii=False, indent=2)


def _encode(text: str, draw: Draw, mutations: list[str]) -> bytes:
    data = text.encode("utf-8")
    if draw.boolean(0.06):
        data = text.encode("gb18030", errors="replace")
        mutations.append("gb18030")
    if draw.boolean(0.05):
        data = b"\xef\xbb\xbf" + data
        mutations.append("BOM")
    if draw.boolean(0.05):
        at = draw.integer(0, len(data))
        data = data[:at] + draw.binary(8, 1) + data[at:]
        mutations.append("spliced bytes")
    if draw.boolean(0.04):
        data = data[: draw.integer(0, len(data))]
        mutations.append("truncated")
    if draw.boolean(0.03):
        data = draw.choice([b"", b"- a\n- b\n", b"just text\n", b"42\n", b"[" * 300, b"\x00\x01"])
        mutations.append("whole file replaced")
    return data


def _yaml_reader(base: Callable[[], str], name: str) -> Callable[[Draw], DataCase]:
    def build(draw: Draw) -> DataCase:
        mutations: list[str] = []
        text = base()
        if draw.boolean(0.9):
            text = _yaml_mutation(text, draw, mutations)
        return DataCase("", name, _encode(text, draw, mutations), mutations)

    return build


def _baseline(draw: Draw) -> DataCase:
    mutations: list[str] = []
    text = _baseline_base()
    if draw.boolean(0.9):
        text = _json_mutation(text, draw, mutations)
    return DataCase("", "results.json", _encode(text, draw, mutations), mutations)


def _load_policy(path: Path) -> object:
    from riskkit.comply.loader import load_policies

    return load_policies(path.parent)


def _load_runbook(path: Path) -> object:
    from riskkit_drills.catalog import load_runbooks

    return load_runbooks(path.parent)


def _load_slo(path: Path) -> object:
    from riskkit_loadtests.slo import load_slo

    return load_slo(path)


def _load_api_map(path: Path) -> object:
    from riskkit_loadtests.apimap import load_api_map

    return load_api_map(path)


def _load_waivers(path: Path) -> object:
    from riskkit.comply.waivers import load_waivers

    return load_waivers(path, TODAY)


def _load_baseline(path: Path) -> object:
    from riskkit.comply.baseline import load_baseline

    return load_baseline(path)


def _load_mapping(path: Path) -> object:
    from riskkit.orders.mapping import load_mapping

    return load_mapping(path)


# reader -> (builder, loader)
DATAFILE_READERS: dict[str, tuple[Callable[[Draw], DataCase], Callable[[Path], object]]] = {
    "policy": (_yaml_reader(_policy_base, "fuzz-policy.yaml"), _load_policy),
    "runbook": (
        _yaml_reader(lambda: _shipped("riskkit_runbooks", "checkout-outage.yaml"), "fuzz.yaml"),
        _load_runbook,
    ),
    "slo": (
        _yaml_reader(lambda: _shipped("riskkit_loadtests", "defaults/slo.yaml"), "slo.yaml"),
        _load_slo,
    ),
    "api-map": (
        _yaml_reader(
            lambda: _shipped("riskkit_loadtests", "apimaps/reference-shop.yaml"), "api.yaml"
        ),
        _load_api_map,
    ),
    "waivers": (_yaml_reader(_waivers_base, "waivers.yaml"), _load_waivers),
    "baseline": (_baseline, _load_baseline),
    "column-mapping": (_yaml_reader(lambda: MAPPING_BASE, "mapping.yaml"), _load_mapping),
}


def make_datafile(reader: str, draw: Draw) -> DataCase:
    build, _ = DATAFILE_READERS[reader]
    case = build(draw)
    case.reader = reader
    return case
