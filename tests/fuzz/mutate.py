"""Serialising an export's rows to bytes, and damaging them.

Row- and header-level harm (duplicate headers and rows, short and long rows),
CSV quirks (odd delimiters and line endings, stray header quotes, blank
lines, mixed encodings, a missing final newline) and byte-level harm
(truncation, spliced junk, NULs, BOMs, random files).  Each records what it
did on the case, and forgets the row count or the ids once they cannot be
known any more.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from draw import Draw

if TYPE_CHECKING:
    from gen_exports import ExportCase

__all__ = ["csv_bytes", "damage", "table_mutations"]


def csv_bytes(
    header: list[str], rows: list[list[str]], draw: Draw, encoding: str, case: ExportCase
) -> bytes:
    delimiter = "," if not draw.boolean(0.05) else draw.choice([";", "\t", "|"])
    ending = draw.choice(["\n", "\r\n", "\r\n", "\r"] if draw.boolean(0.2) else ["\n", "\r\n"])
    lines: list[str] = []
    buffer = io.StringIO()
    # The writer's terminator only decides what gets quoted (cells with CR/LF do).
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for cells in [header, *rows]:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        lines.append(buffer.getvalue()[:-2])
    if draw.boolean(0.08) and len(header) > 3:
        lines[0] = '"' + lines[0]  # a stray quote before the first header cell
        case.mutations.append("stray header quote")
    if draw.boolean(0.08) and len(lines) > 2:
        position = draw.integer(1, len(lines))
        lines.insert(position, "")
        case.mutations.append("blank line")
    parts: list[bytes] = [b"\xef\xbb\xbf"] if encoding == "utf-8-sig" else []
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    mixed = draw.boolean(0.05)
    for number, line in enumerate(lines):
        line_ending = ending if not draw.boolean(0.03) else draw.choice(["\n", "\r\n", "\r"])
        chosen = draw.choice(["utf-8", "gb18030"]) if mixed and number else encoding
        parts.append((line + line_ending).encode(chosen, errors="replace"))
    if mixed:
        case.mutations.append("mixed encodings")
        case.ids = None
    data = b"".join(parts)
    if draw.boolean(0.1) and data.endswith((b"\n", b"\r")):
        data = data.rstrip(b"\r\n")
        case.mutations.append("no final newline")
    return data


def damage(data: bytes, draw: Draw, case: ExportCase) -> bytes:
    """Byte-level harm: truncation, spliced junk, NULs, BOMs, random files."""
    if draw.boolean(0.06):
        case.mutations.append("truncated")
        data = data[: draw.integer(0, max(len(data) - 1, 0))]
        case.expected_rows = case.ids = None
    if draw.boolean(0.05):
        case.mutations.append("spliced bytes")
        at = draw.integer(0, len(data))
        data = data[:at] + draw.binary(16, min_size=1) + data[at:]
        case.expected_rows = case.ids = None
    if draw.boolean(0.03):
        case.mutations.append("NUL")
        at = draw.integer(0, len(data))
        data = data[:at] + b"\x00" + data[at:]
        case.expected_rows = case.ids = None
    if draw.boolean(0.05):
        case.mutations.append("BOM")
        data = draw.choice([b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe"]) + data
        if not data.startswith(b"\xef\xbb\xbf"):
            case.expected_rows = case.ids = None
    if draw.boolean(0.02):
        case.mutations.append("random file")
        data = draw.binary(600)
        case.expected_rows = case.ids = None
    return data


def table_mutations(
    header: list[str], rows: list[list[str]], draw: Draw, case: ExportCase
) -> list[list[str]]:
    if draw.boolean(0.08) and len(header) > 3:
        header[draw.integer(3, len(header) - 1)] = header[draw.integer(0, len(header) - 1)]
        case.mutations.append("duplicate header")
    if draw.boolean(0.1) and rows:
        for _ in range(draw.integer(1, 3)):
            rows.insert(draw.integer(0, len(rows)), list(draw.choice(rows)))
        case.mutations.append("duplicate rows")
    if draw.boolean(0.08) and rows:
        row = draw.choice(rows)
        del row[draw.integer(1, len(row)) :]
        case.mutations.append("short row")
    if draw.boolean(0.04) and rows:
        draw.choice(rows).extend(["extra"] * draw.integer(1, 3))
        case.mutations.append("long row")
    return rows
