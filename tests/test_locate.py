"""The label walk's shortcuts say what the general path says (issue 13): a text told to be no word of the form
without normalising it is none by the vocabulary's own functions, a sheet's title and heading rows found in one
pass are the rows each cell's own question finds, and merged ranges found by their index are those a scan finds.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.labels import GENERIC_FOOTER, PERIOD_HEADINGS, TABLE_GROUP_HEADINGS, vocabulary
from converter.readers import locate
from converter.readers.grid import Grid

_VOCAB = vocabulary()
# Words forms print, as the vocabulary holds them, and the titles, headings and notes around them.
_WORDS = sorted({*_VOCAB.header, *_VOCAB.columns, *_VOCAB.sections, *_VOCAB.periods, *_VOCAB.footer,
                 *TABLE_GROUP_HEADINGS, *GENERIC_FOOTER, *(h for hs in PERIOD_HEADINGS.values() for h in hs),
                 "财政项目支出绩效目标申报表", "上海市财政项目支出绩效目标申报表", "绩效自评表", "金额单位：万元"})
_BEFORE = st.sampled_from(["", "一、", "（二）", "3.", "其中：", "2027年度", "(2027)年",
                           "一二三四五六七八九十一二三四五六七八九十、", "⽬", " ", "＊"])
_AFTER = st.sampled_from(["", "（万元）", "(元)", "：", "*：", "（2027-2029年）", "：上海市经济信息中心"])
# Ideographs a long value is made of: plain ones, the numerals and 其中 an outline number may take away, a Kangxi
# radical that NFKC makes an ideograph, full-width and combining marks, spaces.
_FILL = st.text(alphabet=st.sampled_from(list("项目资金绩效指标的一二三十其中⽬，：（）() \u3000\u0301a1")),
                max_size=160)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(_WORDS))
    note = draw(_FILL)
    shape = draw(st.integers(0, 3))
    if shape == 0:  # a word with a long note after it (长期绩效指标（…）)
        return f"{draw(_BEFORE)}{word}（{note}）{draw(_AFTER)}"
    if shape == 1:  # a label with its value after a colon
        return f"{draw(_BEFORE)}{word}：{note}"
    if shape == 2:  # a sentence that mentions a word
        return f"{note}{word}{draw(_FILL)}"
    return f"{draw(_BEFORE)}{note}{draw(_AFTER)}"


def _forget() -> None:
    """Every memo of a cell's words emptied, so each question is asked afresh."""
    for memo in (locate._title_text, locate._column_of, locate._cell_words, locate._table_word, locate._row_start):
        memo.remembered.cache_clear()
    locate._classify.cache_clear()
    locate._split_label.cache_clear()


_QUESTIONS: list[tuple[str, Any]] = [
    ("title", lambda t: locate._title_text.fn(t)),
    ("column", lambda t: locate._column_of.fn(t)),
    ("heading", lambda t: locate._heading_word(t) if not locate._sentence(t) else False),
    ("cell words", lambda t: locate._cell_words.fn(t)),
    ("table word", lambda t: locate._table_word.fn(t)),
    ("label", lambda t: locate._split_label.__wrapped__(t)),
    ("classify", lambda t: locate._classify.__wrapped__(t)),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(_texts(), min_size=1, max_size=8))
def test_a_text_told_to_be_no_word_is_none(texts: list[str]) -> None:
    """Every question about a cell's words answers the same with the shortcut as by normalising the text."""
    _forget()
    guarded = [[ask(t) for _, ask in _QUESTIONS] for t in texts]
    _forget()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(locate, "_sentence", lambda text: False)  # every text normalised and looked up
        plain = [[ask(t) for _, ask in _QUESTIONS] for t in texts]
    _forget()
    assert guarded == plain
    assert [locate._period(t) for t in texts] == [_VOCAB.period(t) for t in texts]


def test_the_shortcut_is_taken_for_long_values() -> None:
    """The test above exercises the shortcut: a long value is told without normalising it, a word never is."""
    limit, _ = locate._sentence_pattern()
    assert locate._sentence("项目资金" * limit)
    assert locate._sentence("项目" + "资金" * limit + "：")
    assert not locate._sentence("一" * (limit * 4))  # numerals an outline number may take away are not counted
    assert not locate._sentence("项目" * (limit // 2))
    for word in _WORDS:
        assert not locate._sentence(word)
    # a period heading with a long note is still a period heading
    heading = "长期绩效指标（" + "项目" * 12 + "）"
    assert locate._table_word(heading)[0] == "long_term"


def test_sheet_words_are_each_cells_own() -> None:
    """Title rows and heading rows found in one pass over the sheet are the rows each cell's question finds."""
    rows: list[list[Any]] = [["2027年度财政项目支出绩效目标申报表", None], ["项目名称", "x" * 300],
                             ["一级指标", "二级指标", "三级指标", "指标值"], [None, 3.0, "绩效指标"],
                             ["项目资金" * 40, "上海市财政项目支出绩效目标申报表"]]
    grid = Grid("s", rows)
    titles, headings = locate._sheet_words(grid)
    assert titles == [r for r, row in enumerate(rows) if any(isinstance(v, str) and is_title(v) for v in row)]
    assert headings == {r for r, row in enumerate(rows)
                        if any(isinstance(v, str) and locate._heading_word(v) for v in row)}
    assert titles == [0, 4] and headings == {2, 3}


def is_title(text: str) -> bool:
    from converter.labels import is_title as plain

    return plain(text)


def test_memo_keeps_short_texts_only() -> None:
    """What a cell's words say is remembered for short texts; a long text is asked afresh, with the same answer."""
    memo = locate._TextMemo(len)
    long_text = "x" * (locate.REMEMBERED_CHARS + 1)
    assert memo("abc") == 3 and memo(long_text) == len(long_text)
    assert memo.remembered.cache_info().currsize == 1


_MERGES = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 3), st.integers(0, 3)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3])), max_size=8)


@settings(max_examples=200, deadline=None)
@given(_MERGES, st.tuples(st.integers(0, 2), st.integers(0, 2)), st.data())
def test_merged_ranges_by_index_are_those_a_scan_finds(merged: list[tuple[int, int, int, int]],
                                                      origin: tuple[int, int], data: st.DataObject) -> None:
    grid = Grid("s", [[None] * 8 for _ in range(8)], origin=origin, merged=list(merged))
    for r in range(-1, 9):
        for c in range(-1, 9):
            sr, sc = r + origin[0], c + origin[1]
            end = next((c2 - origin[1] for r1, c1, r2, c2 in merged if c1 == sc and r1 <= sr <= r2), c)
            assert grid.merge_end_col(r, c) == end
            inside = any(r1 <= sr <= r2 and c1 <= sc <= c2 for r1, c1, r2, c2 in merged)
            assert grid.in_merged(r, c) == inside
    extra = data.draw(_MERGES)
    grid.merged.extend(extra)  # the index follows a list that grew
    for r in range(8):
        for c in range(8):
            sr, sc = r + origin[0], c + origin[1]
            assert grid.in_merged(r, c) == any(r1 <= sr <= r2 and c1 <= sc <= c2
                                               for r1, c1, r2, c2 in grid.merged)
