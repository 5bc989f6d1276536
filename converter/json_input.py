"""Canonical JSON handed to us by a user (``perfgoal to-xlsx``, the add-in's 从JSON导入): loaded with a Chinese
reason naming where it went wrong, whatever the file holds.

A JSON file may be of any size and depth, in any encoding, and valid JSON that is not a declaration.
Python's own errors for these are English, or not even errors of the input (``RecursionError``,
``decimal.InvalidOperation``, a lone surrogate that only fails when the workbook is written); each becomes
one ``JsonRejected`` whose text says what is wrong and where.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import canonical
from .input_files import NotAFile, TooLarge, read_limited
from .model import Declaration
from .profile import profile_names, unknown_profile

MAX_JSON_BYTES = 64 * 1024 * 1024  # thousands of declarations; a file past it is not ours
MAX_DEPTH_SHOWN = 100  # a declaration is four levels deep; where nesting passes this is reported
MAX_DIGITS = 15  # what a workbook cell holds exactly (Excel keeps 15 significant digits)


class JsonRejected(Exception):
    """The file is not canonical JSON of declarations; ``str()`` is the Chinese reason with its place."""


def load_declarations(path: Path) -> list[Declaration]:
    """Every declaration in a canonical JSON file (one object or an array), or ``JsonRejected``.

    ``OSError`` passes through: that the file cannot be opened is the caller's to word."""
    try:
        raw = read_limited(path, MAX_JSON_BYTES)
    except NotAFile as exc:
        raise JsonRejected("不是普通文件（设备、管道或文件夹），未读取") from exc
    except TooLarge as exc:
        raise JsonRejected(f"文件过大（至少 {exc.size / 1048576:.1f} MB），超过上限 "
                           f"{MAX_JSON_BYTES // 1048576} MB") from exc
    text = _decode(raw)
    data = _parse(text)
    _refuse_unwritable_text(data)
    try:
        declarations = canonical.loads(text)
    except ValidationError as exc:
        raise JsonRejected(_explain_validation(exc)) from exc
    except ArithmeticError as exc:  # decimal.InvalidOperation on an amount too large to round to 分
        raise JsonRejected(f"数值过大，无法作为金额{_place(_huge_number(data))}") from exc
    if not declarations:
        raise JsonRejected("JSON 中没有申报表")
    unknown = sorted({d.profile for d in declarations} - set(profile_names()))
    if unknown:
        raise JsonRejected(unknown_profile(*unknown))
    return declarations


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), or UTF-16 with its BOM (what Notepad calls "Unicode")."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise JsonRejected(f"UTF-16 编码有误（第 {exc.start + 1} 字节）") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise JsonRejected(f"不是 UTF-8 编码的文本（第 {line} 行，第 {exc.start + 1} 字节：0x{data[exc.start]:02X}）；"
                           "请以 UTF-8 编码保存") from exc


_JSON_PHRASES = (
    ("Expecting value", "此处应有一个值"),
    ("Expecting ',' delimiter", "缺少逗号"),
    ("Expecting ':' delimiter", "缺少冒号"),
    ("Expecting property name", "键名须用英文双引号括起"),
    ("Unterminated string", "字符串缺少结束的引号"),
    ("Invalid control character", "字符串中有未转义的控制字符"),
    ("Invalid \\uXXXX", "无效的 \\u 转义"),
    ("Invalid \\escape", "无效的转义序列"),
    ("Extra data", "JSON 结束后还有多余的内容"),
)


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"第 {line} 行第 {offset - (text.rfind(chr(10), 0, offset) + 1) + 1} 列"


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        phrase = next((p for prefix, p in _JSON_PHRASES if exc.msg.startswith(prefix)), "格式错误")
        raise JsonRejected(f"不是有效的 JSON：{phrase}（{_line_col(text, exc.pos)}；{exc.msg}）") from exc
    except RecursionError as exc:
        raise JsonRejected(f"JSON 嵌套层数过多（{_too_deep(text)}处已超过 {MAX_DEPTH_SHOWN} 层；"
                           "申报表只有四层）") from exc
    except ValueError as exc:  # an integer past Python's digit limit for conversion
        long_number = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1},}}", text)
        where = f"（{_line_col(text, long_number.start())}）" if long_number else ""
        raise JsonRejected(f"数字的位数过多{where}") from exc


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]')


def _too_deep(text: str) -> str:
    """Where the nesting first passes ``MAX_DEPTH_SHOWN`` levels, skipping brackets inside strings."""
    depth = 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH_SHOWN:
                return _line_col(text, m.start())
        elif token in "]}":
            depth -= 1
    return "文件中"


Place = tuple[str | int, ...]


def _leaves(data: Any) -> Iterator[tuple[Place, Any]]:
    """Every key and value with its place, without recursion (the JSON may be nested a thousand deep)."""
    stack: list[tuple[Place, Any]] = [((), data)]
    while stack:
        place, value = stack.pop()
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                yield (*place, key), key
                stack.append(((*place, key), item))
        elif isinstance(value, list):
            stack.extend(((*place, i), item) for i, item in reversed(list(enumerate(value))))
        else:
            yield place, value


def _where(place: Place) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in place).lstrip(".")
    return text or "最外层"


def _place(place: Place | None) -> str:
    return f"（位置：{_where(place)}）" if place is not None else ""


def _refuse_unwritable_text(data: Any) -> None:
    """A lone surrogate (``"\\ud800"``) is valid JSON but no text a file can hold: refuse it at its place."""
    for place, value in _leaves(data):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise JsonRejected(f"文本中有无效的字符 \\u{ord(value[exc.start]):04x}（孤立的代理项，"
                                   f"位置：{_where(place)}）") from exc


def _huge_number(data: Any) -> Place | None:
    """The first number (or numeric text) with more digits before the point than a cell holds."""
    for place, value in _leaves(data):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            continue
        try:
            number = Decimal(str(value)) if not isinstance(value, int) else Decimal(value)
        except (InvalidOperation, ValueError):
            continue
        if number.is_finite() and number.adjusted() >= MAX_DIGITS:
            return place
    return None


_VALIDATION_PHRASES = {
    "missing": "缺少此项",
    "extra_forbidden": "不是申报表的栏目",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许范围内",
    "list_type": "应为数组",
    "model_type": "应为对象（{…}）",
    "model_attributes_type": "应为对象（{…}）",
    "dict_type": "应为对象（{…}）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "greater_than_equal": "超出允许范围",
    "less_than_equal": "超出允许范围",
    "value_error": "取值无效",
}


def _explain_validation(exc: ValidationError) -> str:
    """The first problem, in Chinese, with its place and pydantic's own words; and how many more there are."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    phrase = _VALIDATION_PHRASES.get(first["type"], "取值无效")
    more = f"；另有 {len(errors) - 1} 处问题" if len(errors) > 1 else ""
    return f"不是有效的申报表 JSON：{phrase}（位置：{_where(tuple(first['loc']))}；{first['msg']}）{more}"
