"""Static scan of saved HTML pages with the standard library parser.

Nothing is fetched and nothing is executed: ``<script>`` and ``<style>``
bodies are skipped, only visible text and form controls are collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Checkbox", "PageScan", "scan_page"]

_SKIP = {"script", "style", "template", "noscript"}


@dataclass
class Checkbox:
    """An ``<input type=checkbox>`` (or radio) with the label a user sees."""

    name: str
    element_id: str
    checked: bool
    line: int
    label: str = ""
    purpose: str = ""


@dataclass
class PageScan:
    """Visible text (by source line) and the checkboxes of one page."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    checkboxes: list[Checkbox] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(chunk for _, chunk in self.lines)

    def find(self, phrase: str) -> list[tuple[int, str]]:
        """Lines of visible text containing ``phrase`` (case-insensitive)."""
        needle = phrase.lower()
        return [(line, chunk) for line, chunk in self.lines if needle in chunk.lower()]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._skip_depth = 0
        self._label_stack: list[tuple[list[str], list[Checkbox], str]] = []
        self._labels_for: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "label":
            self._label_stack.append(([], [], values.get("for", "")))
        elif tag == "input" and values.get("type", "").lower() in {"checkbox", "radio"}:
            box = Checkbox(
                name=values.get("name", ""),
                element_id=values.get("id", ""),
                checked="checked" in values,
                line=self.getpos()[0],
                purpose=values.get("data-purpose", ""),
            )
            self.scan.checkboxes.append(box)
            if self._label_stack:
                self._label_stack[-1][1].append(box)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "label" and self._label_stack:
            texts, boxes, target = self._label_stack.pop()
            label = " ".join(texts).strip()
            for box in boxes:
                box.label = label
            if target:
                self._labels_for[target] = label

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        chunk = " ".join(data.split())
        if not chunk:
            return
        self.scan.lines.append((self.getpos()[0], chunk))
        for texts, _, _ in self._label_stack:
            texts.append(chunk)

    def finish(self) -> PageScan:
        self.close()
        for box in self.scan.checkboxes:
            if not box.label and box.element_id in self._labels_for:
                box.label = self._labels_for[box.element_id]
        return self.scan


def scan_page(html: str) -> PageScan:
    """Parse one saved page; never fetches or executes anything."""
    scanner = _Scanner()
    scanner.feed(html)
    return scanner.finish()
