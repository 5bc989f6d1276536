"""Cell values → model values, the way people actually type them.

Each converter returns the value, or raises ``ValueError`` when the cell cannot be read as that kind
of value; the caller turns that into a finding naming the cell. Nothing here guesses.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..model import FIRST_DATE

_DATE_TEXT = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]0{1,2}:0{2}(?::0{2})?)?$"
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def as_text(value: Any) -> str | None:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO, blanks as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def as_date(value: Any) -> dt.date | None:
    found = _as_date(value)
    if found is not None and found < FIRST_DATE:
        raise ValueError("before the first date a workbook holds")
    return found


def _as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise ValueError("date with a time of day")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell that lost its format: an Excel serial day number.
        if 1 <= value < 2_958_466 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError("not a date serial")
    m = _DATE_TEXT.match(str(value).strip())
    if not m:
        raise ValueError("not a date")
    return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))


_MONEY_NOISE = re.compile(r"[\s,，¥￥]|元$")


def as_money(value: Any) -> Decimal | None:
    """Amounts in 元: numbers, or text with thousands separators, ``¥`` or a trailing ``元``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = _MONEY_NOISE.sub("", str(value).strip())
        if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text):
            raise ValueError("not an amount")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError("not an amount") from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("more than two decimal places")
    return amount.quantize(Decimal("0.01"))


_YES = {"是", "有", "含", "y", "yes", "true", "1", "√"}
_NO = {"否", "无", "不含", "n", "no", "false", "0", "×"}


def as_flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError("not yes/no")


def as_year(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        year = int(value)
    else:
        m = re.search(r"(\d{4})", str(value))
        if not m:
            raise ValueError("no year")
        year = int(m.group(1))
    if not 1900 <= year <= 2999:
        raise ValueError("year out of range")
    return year
