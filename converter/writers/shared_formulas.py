"""Formulas repeated down a column stored once, as the shared formulas Excel itself writes.

The template's 校验 column holds the same check on every indicator row, a formula of 2–3 KB once its native
fallback is in it (``native_checks``); written per cell, it makes a sheet of sixty rows ten times larger, and every
reader of every returned form (calamine, our own formula scan) pays for it. OOXML lets a run of cells share one
formula (ECMA-376 §18.3.1.40, ``t="shared"``): the first cell carries the text and the range, the others only the
group's number. openpyxl cannot write them, so the saved sheet is rewritten here; a run is shared only where each
cell's formula is exactly the first one's with its relative rows moved, so nothing else changes meaning.
"""

from __future__ import annotations

import re

from ..readers.grid import shift_references

_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>]*)><f>([^<]*)</f><v\s*/?>(?:</v>)?</c>')


def _moved(formula: bytes, rows: int) -> bytes:
    """The formula as it reads ``rows`` further down (``A19`` → ``A20``; ``$D$5`` stays)."""
    return shift_references(formula.decode("utf-8"), rows, 0).encode("utf-8")


def share_formulas(sheet: bytes) -> bytes:
    """The worksheet part with each run of two or more cells down a column that repeat one formula stored as a
    shared formula."""
    if b"<f>" not in sheet or b't="shared"' in sheet:
        return sheet
    cells = list(_CELL.finditer(sheet))
    runs: list[list[re.Match[bytes]]] = []
    for m in cells:
        last = runs[-1][-1] if runs else None
        if last is not None and last.group(1) == m.group(1) and int(last.group(2)) + 1 == int(m.group(2)) and \
                _moved(runs[-1][0].group(4), int(m.group(2)) - int(runs[-1][0].group(2))) == m.group(4):
            runs[-1].append(m)
        else:
            runs.append([m])
    replace: dict[int, bytes] = {}
    group = 0
    for run in (r for r in runs if len(r) > 1):
        first, last = run[0], run[-1]
        ref = first.group(1) + first.group(2) + b":" + last.group(1) + last.group(2)
        si = str(group).encode()
        for k, m in enumerate(run):
            f = (b'<f t="shared" ref="' + ref + b'" si="' + si + b'">' + m.group(4) + b"</f>") if k == 0 \
                else b'<f t="shared" si="' + si + b'"/>'
            replace[m.start()] = b'<c r="' + m.group(1) + m.group(2) + b'"' + m.group(3) + b">" + f + b"<v></v></c>"
        group += 1
    if not replace:
        return sheet
    out, pos = [], 0
    for m in cells:
        if m.start() in replace:
            out += [sheet[pos:m.start()], replace[m.start()]]
            pos = m.end()
    out.append(sheet[pos:])
    return b"".join(out)
