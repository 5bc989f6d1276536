"""MS-OVBA: the compression of VBA source (section 2.4.1) and the one ``dir`` stream edit a new source needs.

Written from the specification because the packaged compressor tried here (ms-ovba-compression 1.0.1)
produced containers that neither it nor oletools could decompress past the first chunk. oletools
(``olevba.decompress_stream``) is the independent check: the tests decompress everything written here with it.
"""

from __future__ import annotations

import struct
from collections import defaultdict

CHUNK = 4096


def _copy_token_help(difference: int) -> tuple[int, int]:
    """(offset bit shift, maximum length) for a copy token at ``difference`` into the chunk (2.4.1.3.19.1)."""
    bit_count = max((difference - 1).bit_length(), 4)
    return 16 - bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(data: bytes) -> bytes:
    """One compressed chunk (header included) for up to 4096 bytes of ``data``."""
    out = bytearray()
    pos = 0
    heads: dict[bytes, list[int]] = defaultdict(list)
    while pos < len(data):
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= len(data):
                break
            shift, max_len = _copy_token_help(pos)
            best_len, best_off = 0, 0
            key = data[pos:pos + 3]
            if len(key) == 3:
                for start in reversed(heads.get(key, ())):
                    limit = min(max_len, len(data) - pos)
                    n = 0
                    while n < limit and data[start + n] == data[pos + n]:
                        n += 1
                    if n > best_len:
                        best_len, best_off = n, pos - start
                        if n == limit:
                            break
            if best_len >= 3:
                token = ((best_off - 1) << shift) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + 3 <= len(data):
                    heads[data[p:p + 3]].append(p)
            pos += step
        out[flag_index] = flags
    if len(out) + 2 > CHUNK + 2:
        if len(data) == CHUNK:  # not worth compressing: a raw chunk holds exactly 4096 bytes (2.4.1.3.10)
            return struct.pack("<H", 0x3FFF) + data
        raise ValueError("a final chunk this incompressible cannot be stored (raw chunks hold 4096 bytes)")
    return struct.pack("<H", 0xB000 | (len(out) + 2 - 3)) + bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer: the signature byte and one chunk per 4096 bytes of input."""
    return b"\x01" + b"".join(_compress_chunk(data[i:i + CHUNK]) for i in range(0, len(data), CHUNK))


def _module_offset_fields(dir_stream: bytes) -> dict[str, int]:
    """Module name → position of its MODULEOFFSET value in the decompressed ``dir`` stream.

    Records are walked in order (2.3.4.2): a MODULENAME (0x0019) opens a module's records; its MODULEOFFSET
    (0x0031, four bytes) follows before the module's TERMINATOR (0x002B)."""
    found: dict[str, int] = {}
    i, current = 0, None
    while i + 6 <= len(dir_stream):
        rid, size = struct.unpack_from("<HI", dir_stream, i)
        if rid == 0x0009:  # PROJECTVERSION: Reserved(4) is not a size; 6 bytes of data follow
            size = 6
        body = i + 6
        if rid == 0x0019:
            current = bytes(dir_stream[body:body + size]).decode("latin-1")
        elif rid == 0x0031 and current is not None:
            found[current] = body
        elif rid == 0x002B:
            current = None
        i = body + size
    return found


def module_offsets(dir_stream: bytes) -> dict[str, int]:
    """Module name → where its source starts in its stream (MODULEOFFSET), from the decompressed ``dir``."""
    return {name: struct.unpack_from("<I", dir_stream, at)[0]
            for name, at in _module_offset_fields(dir_stream).items()}


def set_module_offset(dir_stream: bytes, module: str, offset: int) -> bytes:
    """The decompressed ``dir`` stream with MODULEOFFSET of ``module`` set (0: source only, no p-code cache)."""
    fields = _module_offset_fields(dir_stream)
    if module not in fields:
        raise KeyError(f"module {module} not in the dir stream")
    data = bytearray(dir_stream)
    struct.pack_into("<I", data, fields[module], offset)
    return bytes(data)
