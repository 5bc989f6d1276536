"""Compressed pieces of a zip member, made in one process and joined in another without compressing twice.

A bulk run's summary workbook holds every finding of the batch; compressing them cost the parent of the run,
one process for all the workers, as much again as the rest of its work. So a worker compresses its file's rows
(``deflated``: raw deflate, ending on a byte boundary with every block complete) and the parent joins the
pieces into the worksheet's zip member as they are (``Member.splice_file``, from the spill file that holds
them): a deflate stream may be cut so, and each piece begins with a fresh dictionary, referring to nothing
before it. The member's CRC-32 is the
pieces' CRCs combined (``crc32_combine``: zlib's own, which Python does not expose).

``zipfile`` has no way to take data already compressed; ``Member`` adds it to the member ``ZipFile.open(…, "w")``
is writing, keeping that writer's sizes and CRC right, so that zipfile still writes the headers and the
directory. Where a Python's zipfile is not as expected, the piece is decompressed and written as any data:
the same member, only slower.
"""

from __future__ import annotations

import threading
import zlib
from typing import IO, Any, NamedTuple

LEVEL = 1  # what the summary's data sheets have always been compressed with: fast, and 8-10 times smaller
_ZEROS = bytes(1 << 17)  # CRC-32 of this many zero bytes and fewer is faster in C than the polynomial below
_POLY = 0xEDB88320  # CRC-32's polynomial, bits reversed
_COMPRESSOR = type(zlib.compressobj())


class Piece(NamedTuple):
    """Raw deflate data ending on a block boundary (a full flush), with the CRC-32 and the length of what
    it holds."""

    data: bytes
    crc: int
    size: int


class _Packers(threading.local):
    """One compressor a thread, kept from piece to piece: setting one up costs 30 µs, six times what
    compressing a small form's rows does. A full flush ends each piece and resets the compressor, so the next
    piece refers to nothing before it and comes out byte for byte as from a fresh compressor."""

    packer: Any = None


_PACKERS = _Packers()


def deflated(text: bytes) -> Piece:
    """``text`` compressed as a piece a member can take whole (``Member.splice_file``)."""
    packer = _PACKERS.packer or zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    _PACKERS.packer = None  # until the piece is whole: a compressor left midway would spoil the next piece
    data = packer.compress(text) + packer.flush(zlib.Z_FULL_FLUSH)
    _PACKERS.packer = packer
    return Piece(data, zlib.crc32(text), len(text))


def inflated(piece: Piece) -> bytes:
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(piece.data)


def _multiply(a: int, b: int) -> int:
    """a × b modulo the CRC polynomial (bits reversed, as zlib's ``multmodp``)."""
    product, m = 0, 1 << 31
    while True:
        if a & m:
            product ^= b
            if a & (m - 1) == 0:
                return product
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    """x^(2^k) modulo the polynomial, k = 0…31 (zlib's ``x2n_table``)."""
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multiply(p, p)
    return table


_X2N = _powers()


def crc32_combine(crc1: int, crc2: int, size2: int) -> int:
    """The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length (zlib's ``crc32_combine``)."""
    if size2 <= len(_ZEROS):  # CRC-32 is affine: B after A's CRC = B's CRC ^ (zeros after A's CRC) ^ zeros' CRC
        zeros = memoryview(_ZEROS)[:size2]
        return crc2 ^ zlib.crc32(zeros, crc1) ^ zlib.crc32(zeros)
    shift, k, n = 1 << 31, 3, size2  # x^(8 × size2): A's CRC moved past B's bytes
    while n:
        if n & 1:
            shift = _multiply(_X2N[k & 31], shift)
        n >>= 1
        k += 1
    return _multiply(shift, crc1) ^ crc2


class Member:
    """A zip member being written (what ``ZipFile.open(info, "w")`` returns, deflated), taking pieces between the
    text written to it as usual."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh: Any = fh
        self._direct = isinstance(getattr(fh, "_compressor", None), _COMPRESSOR) and all(
            hasattr(fh, name) for name in ("_fileobj", "_crc", "_file_size", "_compress_size"))

    def splice_file(self, stream: IO[bytes], crc: int, size: int, chunk: int = 1 << 20) -> None:
        """A file of pieces one after the other (their combined CRC and size), copied as it is: what the member
        took before is flushed to a block boundary with the dictionary reset, so that nothing after the pieces
        refers back across them."""
        fh = self._fh
        if not self._direct:
            unpack = zlib.decompressobj(-zlib.MAX_WBITS)
            while data := stream.read(chunk):
                fh.write(unpack.decompress(data))
            return
        pending = fh._compressor.flush(zlib.Z_FULL_FLUSH)
        fh._fileobj.write(pending)
        fh._compress_size += len(pending)
        while data := stream.read(chunk):
            fh._fileobj.write(data)
            fh._compress_size += len(data)
        fh._file_size += size
        fh._crc = crc32_combine(fh._crc, crc, size)
