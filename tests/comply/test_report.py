"""The HTML report: one section per rule, its citation once, a table of its subjects."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner

from riskkit.cli.main import cli

from .conftest import write_evidence

RULE = "cn-price-art20-list-vs-detail"


class _Sections(HTMLParser):
    """Per rule section: its headings, citation links and table body rows."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, list[str]]] = {}
        self.current: str | None = None
        self.depth = 0
        self.in_body = False
        self.row_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "details" and found.get("data-rule"):
            rule = str(found["data-rule"])
            self.sections.setdefault(rule, {"h3": [], "links": [], "rows": [], "count": []})
            self.sections[rule]["count"].append(rule)
            self.current, self.depth = rule, 0
        if self.current is None:
            return
        if tag == "details":
            self.depth += 1
        section = self.sections[self.current]
        if tag == "h3":
            section["h3"].append(self.current)
        elif tag == "a" and found.get("href"):
            section["links"].append(str(found["href"]))
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row_text = []

    def handle_data(self, data: str) -> None:
        if self.row_text is not None:
            self.row_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if tag == "tr" and self.row_text is not None:
            self.sections[self.current]["rows"].append("|".join(self.row_text))
            self.row_text = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "details":
            self.depth -= 1
            if self.depth == 0:
                self.current = None


def _report(tmp_path: Path, catalog: list[dict[str, object]]) -> str:
    root = write_evidence(tmp_path / "ev", catalog=catalog)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["comply", "run", "--evidence", str(root), "--out", str(out), "--policy", "pricing-labels"],
    )
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8")


def test_many_failures_of_one_rule_render_as_one_section_with_a_table(tmp_path: Path) -> None:
    catalog = [
        {"sku_id": f"S{i:03d}", "list_page_price": 90 + i % 7, "detail_page_price": 120}
        for i in range(130)
    ] + [{"sku_id": "OK1", "list_page_price": 120, "detail_page_price": 120}]
    html = _report(tmp_path, catalog)
    parser = _Sections()
    parser.feed(html)
    section = parser.sections[RULE]
    assert section["count"] == [RULE]  # one section for the rule
    assert section["h3"] == [RULE]  # one heading
    citation = "https://www.gov.cn/gongbao/content/2022/content_5699926.htm"
    assert section["links"] == [citation]  # the citation once, not per finding
    assert html.count("Make the list/home page show the same price") == 1  # remediation once
    failing = [r for r in section["rows"] if r.startswith("fail|")]
    assert len(failing) == 130 and len(section["rows"]) == 131
    assert "130 failing" in html
    row = next(r for r in failing if r.startswith("fail|sku:S005|"))
    assert "list page shows 95, detail page 120" in row.split("|")  # subject and evidence
    assert row.split("|")[-2:] == ["7", "95"]  # catalog row and list price: sortable columns
    shared = html[html.index(f'data-rule="{RULE}"') :].split("</table>")[0]
    assert "detail_page_price <code>120</code>" in shared  # one value for all: said once


def test_summary_counts_failures_by_law_and_severity(tmp_path: Path) -> None:
    catalog = [
        {"sku_id": "S1", "category": "数码", "list_page_price": 90, "detail_page_price": 120},
        {"sku_id": "S2", "category": "数码", "list_page_price": 80, "detail_page_price": 120},
        {"sku_id": "S3", "category": "生鲜", "price": 10, "unit": "kg", "unit_quantity": 1},
    ]
    html = _report(tmp_path, catalog)
    summary = html[html.index("Failures by law and severity") : html.index("Summary by policy")]
    row = summary[summary.index("明码标价和禁止价格欺诈规定") :].split("</tr>")[0]
    # medium: the two list/detail failures; low: the missing unit price; high: none
    cells = [c.split(">")[-1] for c in row.split("</td>")][2:6]
    assert cells == ["0", "2", "1", "3"]
