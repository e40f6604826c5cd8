"""Offline HTML reports: jinja2 (autoescape, StrictUndefined) + inline SVG charts.

Every report is one self-contained file: no CDN, no scripts, charts drawn
by riskkit.charts as inline SVG.  Packages other than the core (detectors,
compliance, drills, load tests) ship their own templates and extend
``base.html``; :func:`render_html` finds them through a PackageLoader per
package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from riskkit import __version__
from riskkit.atomic import write_text
from riskkit.charts import bar_svg, histogram_svg, line_svg

__all__ = ["bar_svg", "histogram_svg", "line_svg", "render_html", "write_report"]

_TEMPLATE_PACKAGES = (
    "riskkit",
    "riskkit_detectors",
    "riskkit_loadtests",
    "riskkit_policies",
    "riskkit_drills",
)


def _loader() -> jinja2.BaseLoader:
    loaders: list[jinja2.BaseLoader] = []
    for package in _TEMPLATE_PACKAGES:
        try:
            loaders.append(jinja2.PackageLoader(package, "templates"))
        except (ModuleNotFoundError, ValueError):
            continue  # a package without templates (or not installed) adds none
    return jinja2.ChoiceLoader(loaders)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_loader(),
        autoescape=True,  # order data can hold <script>: escape everything, always
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v, digits=1: f"{float(v) * 100:.{digits}f}%"
    env.filters["num"] = lambda v, digits=3: f"{float(v):.{digits}g}"
    return env


def render_html(template: str, context: Mapping[str, Any], show_pii: bool = False) -> str:
    """Render ``template`` with the common header fields filled in."""
    full = {
        "riskkit_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "show_pii": show_pii,
        **context,
    }
    return _environment().get_template(template).render(full)


def write_report(
    path: str | Path, template: str, context: Mapping[str, Any], show_pii: bool = False
) -> Path:
    """Render and write atomically."""
    return write_text(path, render_html(template, context, show_pii=show_pii))
