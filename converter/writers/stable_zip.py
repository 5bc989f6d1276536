"""Saved workbooks as their final bytes: fixed timestamps, and text stored as UTF-8 rather than as references.

The same content always gives the same bytes, and every reader of the returned copies parses less.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from .shared_formulas import share_formulas

# The one timestamp every generated workbook and add-in carries, so the same content always gives the same bytes.
FIXED_TIME = dt.datetime(2020, 1, 1)
ZIP_TIME = FIXED_TIME.timetuple()[:6]
_STAMP = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
_CHAR_REF = re.compile(rb"&#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7});")
_DECLARED_ENCODING = re.compile(rb"^<\?xml[^>]*\bencoding=[\"']([^\"']+)[\"']")


def _literal(match: re.Match[bytes]) -> bytes:
    ref = match[1]
    code = int(ref[1:], 16) if ref[:1] == b"x" else int(ref)
    if code < 0x80 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match[0]  # markup characters and controls stay references; anything invalid is left alone
    return chr(code).encode("utf-8")


def literal_text(part: bytes) -> bytes:
    """The XML part with every non-ASCII character reference written as the character itself, in UTF-8.

    openpyxl serialises through lxml's incremental writer, which encodes to ASCII: each Chinese character
    becomes an 8-byte ``&#36130;`` instead of 3 UTF-8 bytes, so a filled form's sheet grows by half and
    every reader (calamine a third slower) decodes references. The two spellings are the same XML; a part
    in another declared encoding, or with CDATA (where a reference is literal text), is left as it is.
    A user's literal ``&#36130;`` is stored as ``&amp;#36130;`` and is not a reference, so it stays text."""
    declared = _DECLARED_ENCODING.match(part)
    if (declared and declared[1].lower() not in (b"utf-8", b"utf8")) or b"<![CDATA[" in part:
        return part
    return _CHAR_REF.sub(_literal, part) if b"&#" in part else part


def stable_xlsx(data: bytes) -> bytes:
    """The same workbook with every zip date and the document's created/modified stamps fixed, its XML text in
    UTF-8 (see ``literal_text``), and formulas repeated down a column stored once (``share_formulas``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                part = re.sub(rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*", rb"\g<1>" + _STAMP, part)
            if info.filename.endswith((".xml", ".rels")):
                part = literal_text(part)
            if info.filename.startswith("xl/worksheets/sheet"):
                part = share_formulas(part)
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, part)
    return out.getvalue()
