"""Pieces compressed apart and joined into one zip member (``converter/deflate.py``), read back by zipfile, which
checks the member's CRC, and by zlib."""

from __future__ import annotations

import io
import os
import random
import zipfile
import zlib

import pytest

from converter.deflate import Member, crc32_combine, deflated, inflated


@pytest.mark.parametrize("sizes", [(0, 0), (1, 0), (0, 1), (5, 7), (1000, 200_000), (300_000, 1), (70_000, 1 << 20)])
def test_crc32_combine_is_zlibs(sizes: tuple[int, int]) -> None:
    a, b = os.urandom(sizes[0]), os.urandom(sizes[1])
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def _texts(seed: int) -> list[bytes]:
    """XML-like rows, repetitive as a summary's are, some empty, one long."""
    rnd = random.Random(seed)
    words = ["<row>", "<c s=\"6\" t=\"inlineStr\"><is><t>", "处室00/申报表.xlsx", "指标目标值", "</t></is></c>", "<c/>",
             "</row>", "第13行", "I009"]
    texts = [b""] + [("".join(rnd.choice(words) for _ in range(rnd.randrange(1, 400)))).encode() for _ in range(12)]
    return [*texts, os.urandom(300_000)]


@pytest.mark.parametrize("direct", [True, False])
def test_a_member_of_text_and_pieces_reads_back_whole(direct: bool) -> None:
    """Text written, single pieces and a file of pieces spliced, in any order: zipfile reads the member back
    (checking its CRC) as the same bytes; with zipfile's writer not as expected, the same member is made the slow
    way."""
    texts = _texts(7)
    expected = b""
    spill = io.BytesIO()
    spill_crc, spill_size = 0, 0
    for text in texts[:5]:  # a file of pieces, as the parent keeps a sheet's rows
        piece = deflated(text)
        spill.write(piece.data)
        spill_crc, spill_size = crc32_combine(spill_crc, piece.crc, piece.size), spill_size + piece.size
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("xl/worksheets/sheet3.xml", "w") as fh:
            member = Member(fh)
            if not direct:
                member._direct = False
            fh.write(b"<worksheet><sheetData>")
            expected += b"<worksheet><sheetData>"
            spill.seek(0)
            member.splice_file(spill, spill_crc, spill_size)
            expected += b"".join(texts[:5])
            for i, text in enumerate(texts[5:]):
                if i % 2:
                    fh.write(text)
                else:
                    piece = deflated(text)
                    member.splice_file(io.BytesIO(piece.data), piece.crc, piece.size)
                expected += text
            fh.write(b"</sheetData></worksheet>")
            expected += b"</sheetData></worksheet>"
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        assert z.testzip() is None
        assert z.read("xl/worksheets/sheet3.xml") == expected
        info = z.getinfo("xl/worksheets/sheet3.xml")
        assert info.CRC == zlib.crc32(expected) and info.file_size == len(expected)


def test_a_piece_is_its_text() -> None:
    for text in _texts(3):
        piece = deflated(text)
        assert inflated(piece) == text and piece.size == len(text) and piece.crc == zlib.crc32(text)


def test_a_piece_does_not_depend_on_the_pieces_before_it() -> None:
    """The kept compressor gives each piece the bytes a fresh one would (so a summary is the same bytes however
    files fall to workers), also after a piece longer than deflate's 32 kB window."""
    texts = [*_texts(40), b"", bytes(100_000), os.urandom(70_000), b"<row>" * 30_000, b"x"]
    random.Random(7).shuffle(texts)
    for text in texts:
        fresh = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
        assert deflated(text).data == fresh.compress(text) + fresh.flush(zlib.Z_SYNC_FLUSH)
