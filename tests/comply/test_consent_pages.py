"""PIPL Arts. 13–14: a pre-ticked consent box on any saved page fails under CN."""

from __future__ import annotations

from .conftest import by_subject, run_rule

CN_RULE = "cn-pipl-art14-signup-checkboxes"
COOKIE_BANNER_BAD = """<div class="banner"><p>本站使用 Cookie。</p>
<label><input type="checkbox" name="necessary" checked disabled> 必要 Cookie（始终开启）</label>
<label><input type="checkbox" name="tracking" checked> 广告追踪与个性化推荐</label></div>"""
CHECKOUT_GOOD = (
    """<form><label><input type="checkbox" name="marketing"> 同意接收优惠短信</label></form>"""
)
PRIVACY_POLICY = "<h1>隐私政策</h1><p>我们如何处理您的个人信息……</p>"


def test_a_pre_ticked_box_on_any_saved_page_fails_under_cn(evidence) -> None:
    root = evidence(
        pages={
            "cookie-banner.html": COOKIE_BANNER_BAD,
            "checkout.html": CHECKOUT_GOOD,
            "privacy-policy.html": PRIVACY_POLICY,
        },
        settings={"markets": ["cn"]},
    )
    findings = run_rule(root, CN_RULE)
    # a page without any consent box (the policy text) is no subject of this rule
    assert by_subject(findings) == {
        "page:pages/cookie-banner.html": "fail",
        "page:pages/checkout.html": "pass",
    }
    bad = next(f for f in findings if f.status == "fail")
    assert bad.evidence["prechecked"] == [
        {"line": 3, "name": "tracking", "label": "广告追踪与个性化推荐"}
    ]
    # the strictly necessary box is exempt, and no EU cookie statements are required in CN
    assert bad.message == "1 consent box(es) pre-ticked"
    assert by_subject(run_rule(root, "eu-eprivacy-cookie-consent")) == {"*": "not_applicable"}


def test_pages_without_consent_boxes_are_not_applicable(evidence) -> None:
    root = evidence(pages={"privacy-policy.html": PRIVACY_POLICY})
    assert by_subject(run_rule(root, CN_RULE)) == {"*": "not_applicable"}
