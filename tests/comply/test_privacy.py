"""Privacy rules: consent method, sensitive purposes, settings, detector findings, pages."""

from __future__ import annotations

from .conftest import by_subject, run_rule, write_evidence


def _consent(
    user: str, purpose: str, method: str, sensitive: str = "false", notice: str = "v1"
) -> dict[str, object]:
    return {
        "user_id": user,
        "purpose": purpose,
        "sensitive": sensitive,
        "notice_version": notice,
        "granted_at": "2026-09-01 10:00",
        "method": method,
        "withdrawn_at": "",
    }


def test_affirmative_consent_and_no_bundled_authorisation(evidence) -> None:
    root = evidence(
        consents=[
            _consent("u1", "marketing", "click"),
            _consent("u2", "marketing", "pre_ticked"),
            _consent("u3", "analytics", "bundled"),
            _consent("u4", "ads", "click", notice=""),
        ],
        settings={"markets": ["cn", "eu"]},
    )
    assert by_subject(run_rule(root, "cn-pipl-art14-affirmative-consent")) == {
        "user:u1 purpose:marketing": "pass",
        "user:u2 purpose:marketing": "fail",
        "user:u3 purpose:analytics": "pass",
        "user:u4 purpose:ads": "pass",
    }
    assert by_subject(run_rule(root, "cn-samr37-art13-no-bundled-authorisation")) == {
        "user:u1 purpose:marketing": "pass",
        "user:u2 purpose:marketing": "pass",
        "user:u3 purpose:analytics": "fail",
        "user:u4 purpose:ads": "pass",
    }
    gdpr = run_rule(root, "eu-gdpr-art7-demonstrable")
    assert by_subject(gdpr)["user:u4 purpose:ads"] == "fail"
    assert by_subject(gdpr)["user:u1 purpose:marketing"] == "pass"


def test_consent_before_pipl_came_into_force_is_not_judged(evidence) -> None:
    old = _consent("u1", "marketing", "pre_ticked") | {"granted_at": "2021-10-31 23:00"}
    root = evidence(consents=[old])
    assert by_subject(run_rule(root, "cn-pipl-art14-affirmative-consent")) == {
        "*": "not_applicable"
    }


def test_sensitive_purposes_need_separate_consent(evidence) -> None:
    root = evidence(
        consents=[
            _consent("u1", "face_recognition", "click", sensitive="true"),
            _consent("u2", "precise_location,health_data", "click", sensitive="true"),
            _consent("u3", "precise_location", "pre_ticked", sensitive="true"),
            _consent("u4", "marketing", "pre_ticked"),
        ]
    )
    assert by_subject(run_rule(root, "cn-pipl-art29-sensitive-separate")) == {
        "user:u1 purpose:face_recognition": "pass",
        "user:u2 purpose:precise_location,health_data": "fail",
        "user:u3 purpose:precise_location": "fail",
    }


def test_non_personalised_option_setting(evidence) -> None:
    rule = "cn-pipl-art24-non-personalised-option"
    key = "settings.json non_personalised_option"
    assert by_subject(run_rule(evidence(settings={"non_personalised_option": True}), rule)) == {
        key: "pass"
    }


def test_non_personalised_option_missing_or_false(tmp_path) -> None:

    rule = "cn-pipl-art24-non-personalised-option"
    off = write_evidence(tmp_path / "a", settings={"non_personalised_option": False})
    assert [f.status for f in run_rule(off, rule)] == ["fail"]
    absent = write_evidence(tmp_path / "b", settings={"markets": ["cn"]})
    assert [f.status for f in run_rule(absent, rule)] == ["not_checked"]


def test_price_difference_findings_as_evidence(tmp_path) -> None:

    rule = "cn-pipl-art24-price-differences"
    flagged = write_evidence(
        tmp_path / "a",
        findings=[
            {"sku_id": "S1", "segment": "ios_vs_android", "price_gap": 0.12, "significant": "true"},
            {"sku_id": "S2", "segment": "new_vs_old", "price_gap": 0.01, "significant": "false"},
        ],
    )
    findings = run_rule(flagged, rule)
    assert by_subject(findings) == {"sku:S1": "fail"}
    assert findings[0].evidence["findings_rows"] == [2]
    clean = write_evidence(
        tmp_path / "b",
        findings=[{"sku_id": "S2", "segment": "x", "price_gap": 0.01, "significant": "false"}],
    )
    assert [f.status for f in run_rule(clean, rule)] == ["pass"]
    assert [f.status for f in run_rule(write_evidence(tmp_path / "c", settings={}), rule)] == [
        "not_checked"
    ]


def test_withdrawal_as_easy_as_consent(tmp_path) -> None:

    rule = "eu-gdpr-art7-easy-withdrawal"
    easy = write_evidence(
        tmp_path / "a", settings={"consent_grant_steps": 1, "consent_withdrawal_steps": 1}
    )
    hard = write_evidence(
        tmp_path / "b", settings={"consent_grant_steps": 1, "consent_withdrawal_steps": 3}
    )
    assert [f.status for f in run_rule(easy, rule)] == ["pass"]
    assert [f.status for f in run_rule(hard, rule)] == ["fail"]


SIGNUP_BAD = """<form><label><input type="checkbox" name="terms"> 我已阅读并同意《隐私政策》</label>
<label><input type="checkbox" name="sms" checked> 同意接收营销短信</label></form>"""
SIGNUP_GOOD = """<form><input type="checkbox" id="a" name="x"><label for="a">同意接收营销短信</label>
</form>"""


def test_signup_consent_boxes_not_pre_ticked(evidence) -> None:
    root = evidence(
        pages={
            "signup.html": SIGNUP_BAD,
            "signup-m.html": SIGNUP_GOOD,
            "about.html": "<input type=checkbox checked> 同意",
        }
    )
    findings = run_rule(root, "cn-pipl-art14-signup-checkboxes")
    assert by_subject(findings) == {
        "page:pages/signup-m.html": "pass",
        "page:pages/signup.html": "fail",
    }
    bad = next(f for f in findings if f.status == "fail")
    assert bad.evidence["prechecked"] == [{"line": 2, "name": "sms", "label": "同意接收营销短信"}]


def test_cookie_banner_planet49(evidence, tmp_path) -> None:

    good = """<p>Analytics cookies are kept for 13 months and shared with third parties.</p>
<label><input type="checkbox" name="necessary" checked> Strictly necessary cookies</label>
<label><input type="checkbox" name="analytics"> Analytics cookies</label>"""
    bad = """<p>We use cookies.</p><label><input type="checkbox" checked name="ads">
Advertising cookies</label>"""
    root = evidence(
        pages={"cookie-ok.html": good, "cookie-bad.html": bad}, settings={"markets": ["eu"]}
    )
    findings = run_rule(root, "eu-eprivacy-cookie-consent")
    assert by_subject(findings) == {
        "page:pages/cookie-bad.html": "fail",
        "page:pages/cookie-ok.html": "pass",
    }
    assert "cookie duration not stated" in findings[0].message
    nopages = write_evidence(tmp_path / "nopages", settings={"markets": ["eu"]})
    assert [f.status for f in run_rule(nopages, "eu-eprivacy-cookie-consent")] == ["not_checked"]
