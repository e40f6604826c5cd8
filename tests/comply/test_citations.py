"""Every shipped rule cites an official publisher from the allowed list kept in policy data."""

from __future__ import annotations

import importlib.resources
import json

import pytest
from pydantic import ValidationError

from riskkit.comply.citations import (
    OfficialSource,
    OfficialSources,
    load_official_sources,
    official_source_of,
    official_sources_schema,
)
from riskkit.comply.loader import load_policies


def test_every_shipped_citation_points_at_an_official_source() -> None:
    sources = load_official_sources()
    unofficial = {
        r.rule.id: r.rule.source.url
        for r in load_policies()
        if official_source_of(r.rule.source.url, sources) is None
    }
    assert unofficial == {}, "cite the regulator, legislature, gazette or court (or add it)"


def test_the_allowed_list_is_strict_about_hosts() -> None:
    sources = load_official_sources()
    official = "https://www.samr.gov.cn/zw/zfxxgk/fdzdgknr/fgs/art/2023/x.html"
    assert official_source_of(official, sources).kind == "regulator"
    assert official_source_of("https://flk.npc.gov.cn/detail2.html", sources) is not None
    for lookalike in (
        "http://www.guangdonglong.com/c/0119154OP2023_2.html",  # a private mirror
        "https://notsamr.gov.cn/x",
        "https://samr.gov.cn.example.com/x",
        "https://example.com/?u=https://www.gov.cn/",
        "https://sub.www.gov.cn/x",  # www.gov.cn does not include subdomains
        "not a url",
    ):
        assert official_source_of(lookalike, sources) is None, lookalike


@pytest.mark.parametrize(
    "entry",
    [
        {"host": "https://samr.gov.cn", "publisher": "p", "kind": "regulator"},
        {"host": "samr.gov.cn", "publisher": "p", "kind": "blog"},
        {"host": "samr.gov.cn", "publisher": "", "kind": "regulator"},
        {"host": "samr.gov.cn", "publisher": "p", "kind": "regulator", "typo": True},
    ],
)
def test_an_invalid_source_entry_is_rejected(entry: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OfficialSources(sources=[OfficialSource.model_validate(entry)])


def test_committed_sources_schema_is_up_to_date() -> None:
    committed = (
        importlib.resources.files("riskkit_policies") / "citations/official-sources.schema.json"
    )
    assert json.loads(committed.read_text(encoding="utf-8")) == official_sources_schema()
