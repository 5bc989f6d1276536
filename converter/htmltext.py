"""HTML that leaked into long texts (``<p>…</p>``, ``<ol>``) turned into plain text with paragraph breaks.

Only known HTML tags are touched: a target such as ``<30分钟`` or a text with ``a<b`` stays as written.
"""

from __future__ import annotations

import html
import re

_BLOCK = "p|div|ol|ul|li|br|tr|table|h[1-6]|blockquote|section|article"
_INLINE = "span|strong|b|i|em|u|font|a|sup|sub|small|big|td|th|tbody|thead|o:p"
_TAG = re.compile(rf"</?\s*(?:{_BLOCK}|{_INLINE})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_BLOCK_TAG = re.compile(rf"</?\s*(?:{_BLOCK})(?:\s[^<>]*)?/?>", re.IGNORECASE)


def html_tags(text: str) -> list[str]:
    """The distinct tag names found, in order of first appearance (empty when the text has no HTML)."""
    names: list[str] = []
    for m in _TAG.finditer(text):
        name = re.match(r"</?\s*([\w:]+)", m.group()).group(1).lower()  # type: ignore[union-attr]
        if name not in names:
            names.append(name)
    return names


def html_to_text(text: str) -> str:
    """Block tags become paragraph breaks, inline tags vanish, entities are decoded; paragraphs trimmed."""
    marked = _BLOCK_TAG.sub("\n", text)
    plain = html.unescape(_TAG.sub("", marked)).replace("\xa0", " ")
    paragraphs = [p.strip() for p in plain.split("\n")]
    return "\n".join(p for p in paragraphs if p)
