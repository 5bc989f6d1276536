"""Saved workbooks with fixed timestamps, so the same content always gives the same bytes."""

from __future__ import annotations

import io
import re
import zipfile

_STAMP = rb"2020-01-01T00:00:00Z"


def stable_xlsx(data: bytes) -> bytes:
    """The same workbook with every zip date and the document's created/modified stamps fixed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                part = re.sub(rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*", rb"\g<1>" + _STAMP, part)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, part)
    return out.getvalue()
