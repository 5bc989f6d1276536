"""Cell values → model values, the way people actually type them.

Each converter returns the value, or raises ``ValueError`` when the cell cannot be read as that kind
of value; the caller turns that into a finding naming the cell. Nothing here guesses.

Numbers come from spreadsheets as binary floats; Excel itself keeps and shows 15 significant digits, so
every float is read through its 15-digit decimal form (``0.1+0.2`` is ``0.3``, as Excel shows it), and
amounts are computed in ``Decimal`` only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, DecimalException, Inexact, localcontext
from functools import lru_cache
from typing import Any, get_args

from ..model import FIRST_DATE, NO, YEAR_MAX, YEAR_MIN, YES
from ..profile import MONEY_FACTOR, MoneyUnit
from .grid import ErrorValue, Formula

_DATE_TEXT = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]0{1,2}:0{2}(?::0{2})?)?$"
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
SIGNIFICANT_DIGITS = 15  # what Excel keeps of a number, and what it shows
_POSITIONAL = (Decimal("1e-9"), Decimal("1e21"))  # magnitudes written without an exponent


def float_decimal(value: float) -> Decimal:
    """A finite float as the decimal Excel shows: at most 15 significant digits, no binary noise."""
    return Decimal(f"{value:.{SIGNIFICANT_DIGITS}g}")


def decimal_text(amount: Decimal) -> str:
    """Shortest plain writing of a decimal: ``95``, ``99.5``, ``0.3``; an exponent only for extreme sizes."""
    amount = amount.normalize()
    if amount.is_zero():
        return "0"
    if _POSITIONAL[0] <= abs(amount) < _POSITIONAL[1]:
        return f"{amount:f}"
    return str(amount)


def number_text(value: float) -> str:
    """A float as Excel shows it in a General cell (``82.0`` → ``82``, ``0.30000000000000004`` → ``0.3``)."""
    if not math.isfinite(value):
        return repr(value)
    return decimal_text(float_decimal(value))


def percent_text(value: float) -> str:
    """A number shown with a percent format, as the user typed it: 0.95 → ``95%``, 0.995 → ``99.5%``."""
    return decimal_text(float_decimal(value) * 100) + "%"


def _cached(value: Any) -> Any:
    """The value to convert: a formula's cached result; a formula never computed cannot be read."""
    if isinstance(value, Formula):
        if value.value is None:
            raise ValueError("formula without a computed value")
        return value.value
    return value


def as_text(value: Any) -> str | None:
    """A cell as text: a formula as typed, numbers without a spurious ``.0`` or float noise, dates as ISO,
    blanks as None."""
    if isinstance(value, Formula):
        return value.text if value.text is not None else as_text(value.value)
    if value is None:
        return None
    if isinstance(value, ErrorValue):
        return value.code
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def as_date(value: Any) -> dt.date | None:
    found = _as_date(_cached(value))
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
    m = _DATE_TEXT.match(unicodedata.normalize("NFKC", str(value)).strip())
    if not m:
        raise ValueError("not a date")
    return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))


assert set(MONEY_FACTOR) == set(get_args(MoneyUnit)), "every unit a profile may print has a factor"
_UNIT_SPELLING = {"元": "元", "万元": "万元", "万": "万元"}
MAX_INTEGER_DIGITS = 15  # of an amount in 元: Excel keeps 15 significant digits, so more were never typed
# What people type into an amount cell, once NFKC has made full-width digits, commas and ￥ plain:
# an optional sign and currency mark, digits (thousands separated by commas, or not at all), decimals, a unit.
_AMOUNT_TEXT = re.compile(
    r"(?P<sign>[-+]?)\s*(?:¥|RMB|人民币)?\s*(?P<sign2>[-+]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d*))?\s*(?P<unit>万元|万|元)?",
    re.IGNORECASE,
)


def _amount_parts(text: str) -> tuple[Decimal, str | None]:
    """(number as written, unit written or None) of an amount typed as text; ValueError if it is none."""
    m = _AMOUNT_TEXT.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if m is None or (m["int"] is None and not m["frac"]) or (m["sign"] and m["sign2"]):
        raise ValueError("not an amount")
    digits = (m["int"] or "0").replace(",", "")
    if len(digits.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ValueError("amount too long")
    sign = "-" if "-" in (m["sign"] + m["sign2"]) else ""
    number = Decimal(f"{sign}{digits}.{m['frac'] or '0'}")
    return number, (_UNIT_SPELLING[m["unit"]] if m["unit"] else None)


def money_unit_written(value: Any) -> str | None:
    """The unit a cell's own text names (``50万元`` → ``万元``, ``600000元`` → ``元``), or None for a number or
    a plain number typed as text. A reader compares it with the form's unit to say the cell overrode it."""
    value = value.value if isinstance(value, Formula) else value
    if not isinstance(value, str):
        return None
    try:
        return _amount_parts(value)[1]
    except ValueError:
        return None


def as_money(value: Any, unit: str = "元") -> Decimal | None:
    """An amount in 元, from a cell of a form that prints amounts in ``unit`` (元 or 万元).

    Numbers are in the form's unit; text may be typed with thousands separators (``600,000.00``,
    ``600，000``), a currency mark (``¥``, ``￥``), full-width digits and a unit of its own (``600000元``,
    ``50万元``, ``0.5万``), which then wins over the form's. Computed in Decimal only, so 12.345678 万元 is
    exactly 123456.78 元. ValueError for anything that is not an amount in whole 分 of at most 15 integer
    digits: booleans, NaN, infinities, over-long numbers, more than two decimals once in 元.
    """
    factor = MONEY_FACTOR[unit]  # KeyError: a programming error, not a cell's problem
    value = _cached(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        number = float_decimal(value)
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        number, written = _amount_parts(value)
        if written is not None:
            factor = MONEY_FACTOR[written]
    else:
        raise ValueError("not an amount")
    return _in_yuan(number, factor)


_EXACT_DIGITS = 60  # the precision products are computed in: far beyond any amount allowed
_CENT = Decimal("0.01")


def _in_yuan(number: Decimal, factor: Decimal) -> Decimal:
    if not number.is_finite():
        raise ValueError("not a finite number")
    if factor == 1 and len(number.as_tuple().digits) <= _EXACT_DIGITS:
        amount = number  # what the product by 1 is, exactly: a form in 元, every amount of every file
    else:
        amount = _product(number, factor)
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError("amount too long")
    cents = amount.quantize(_CENT)  # at most 17 digits: within the default precision
    if cents != amount:
        raise ValueError("more than two decimal places")
    return cents


def _product(number: Decimal, factor: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _EXACT_DIGITS  # a product that is not exact is refused, never rounded
        ctx.traps[Inexact] = True
        try:
            return number * factor
        except DecimalException as exc:  # InvalidOperation, Inexact, Overflow…
            raise ValueError("not an amount") from exc


_YES = {YES, "有", "含", "y", "yes", "true", "1", "√"}
_NO = {NO, "无", "不含", "n", "no", "false", "0", "×"}


def as_flag(value: Any) -> bool | None:
    value = _cached(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = as_text(value)
    text = text.strip().lower() if text is not None else ""
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError("not yes/no")


def as_year(value: Any) -> int | None:
    value = _cached(value)
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, ErrorValue):
        raise ValueError("no year")
    if isinstance(value, int | float):
        if not float(value).is_integer():
            raise ValueError("a year is a whole number")  # 2027.5 is a typing slip, not 2027
        year = int(value)
    else:
        m = _YEAR_TEXT.fullmatch(unicodedata.normalize("NFKC", str(value)).strip())
        if not m:
            raise ValueError("no year")
        year = int(m.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError("year out of range")
    return year


# What a year cell holds as text: 2027, 2027年, 2027年度, (2027)年度, 2027.0 as some exports write a number.
_YEAR_TEXT = re.compile(r"[(]?\s*(\d{4})(?:\.0+)?\s*[)]?\s*(?:年度?)?\s*[)]?")


_TICKED = "☑☒■√✓✔▣●"
_UNTICKED = "□☐○"
_BOX = re.compile(f"[{_TICKED}{_UNTICKED}]")


def ticked(text: str) -> str | None:
    """The one option ticked in a row of check boxes; see ``_ticked`` (remembered for short texts: the same
    choices recur in every form)."""
    return _ticked(text) if len(text) <= 200 else _ticked.__wrapped__(text)


@lru_cache(maxsize=4096)
def _ticked(text: str) -> str | None:
    """The one option ticked in a row of check boxes (``新增项目□ 延续项目√``, ``☑新增 □延续``), or None when
    the text is no such row or does not tick exactly one.

    Marks stand on one side of their options throughout a row: before them when the text starts with a mark,
    after them otherwise."""
    text = unicodedata.normalize("NFKC", text).strip()
    marks = list(_BOX.finditer(text))
    if len(marks) < 2:
        return None
    before = marks[0].start() == 0
    ends = [m.start() for m in marks] + [len(text)]
    options: list[tuple[str, bool]] = []
    if before:
        for m, end in zip(marks, ends[1:], strict=True):
            options.append((text[m.end():end], m.group() in _TICKED))
    else:
        start = 0
        for m in marks:
            options.append((text[start:m.start()], m.group() in _TICKED))
            start = m.end()
        if text[start:].strip():
            return None  # words after the last mark: not a row of boxes
    chosen = [option.strip(" ,，、;；") for option, tick in options if tick]
    return chosen[0] if len(chosen) == 1 and chosen[0] else None
