"""MS-OVBA compression and the MS-CFB writer, each read back by an independent reader (oletools, olefile)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import olefile
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xl_addin import cfb, ovba

from .shared import shared_tool

VBA_LIKE = st.text(st.sampled_from("Sub End If Then Else RunPython \"xl_addin\" ()&_., \r\n\tabcxyz0123"),
                   max_size=12000)


@given(VBA_LIKE)
@settings(max_examples=60, deadline=None)
def test_compressed_source_decompresses_with_oletools(text: str) -> None:
    data = text.encode("cp1252")
    assert bytes(decompress_stream(bytearray(ovba.compress(data)))) == data


def test_incompressible_full_chunks_are_stored_raw() -> None:
    import random

    data = random.Random(7).randbytes(4096 * 2)
    packed = ovba.compress(data)
    assert packed[1:3] == b"\xff\x3f"  # a raw chunk's header
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert _strict_decompress()(packed)[0] == data


NAMES = st.text(st.characters(min_codepoint=0x41, max_codepoint=0x7A), min_size=1, max_size=20)


@given(st.dictionaries(st.tuples(st.sampled_from(["", "VBA", "X"]), NAMES), st.binary(max_size=9000),
                       min_size=1, max_size=25))
@settings(max_examples=40, deadline=None)
def test_compound_file_reads_back_with_olefile(raw: dict[tuple[str, str], bytes]) -> None:
    streams: dict[tuple[str, ...], bytes] = {}
    taken: set[tuple[str, ...]] = set()  # names compare without case; one name is a stream or a storage
    for (storage, name), data in raw.items():
        path = (storage, name) if storage else (name,)
        key = tuple(p.upper() for p in path)
        clash = (storage and (storage.upper(),) in taken) or (
            not storage and any(len(k) > 1 and k[0] == name.upper() for k in taken))
        if key in taken or clash:
            continue
        taken.add(key)
        streams[path] = data
    ole = olefile.OleFileIO(io.BytesIO(cfb.write(cfb.tree(streams))))
    assert {tuple(p) for p in ole.listdir()} == set(streams)
    for path, data in streams.items():
        assert ole.openstream("/".join(path)).read() == data


def test_names_that_differ_only_in_case_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        cfb.tree({("x",): b"", ("X", "A"): b""})


def test_module_offset_is_set_in_the_dir_stream() -> None:
    import struct
    record = lambda rid, body: struct.pack("<HI", rid, len(body)) + body  # noqa: E731
    directory = (record(0x0019, b"Other") + record(0x0031, struct.pack("<I", 7)) + record(0x002B, b"")
                 + record(0x0019, b"RibbonMyAddin") + record(0x0031, struct.pack("<I", 978)) + record(0x002B, b""))
    patched = ovba.set_module_offset(directory, "RibbonMyAddin", 0)
    assert patched.count(struct.pack("<I", 7)) == 1 and struct.pack("<I", 978) not in patched


# --- the strict oracles written from the specifications (../shared/tools) ----------------------------------
def _strict_decompress() -> Any:
    path = shared_tool("ovba-strict-decompress")
    loader = importlib.machinery.SourceFileLoader("ovba_strict_decompress", str(path))
    spec = importlib.util.spec_from_loader("ovba_strict_decompress", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.decompress


@given(VBA_LIKE)
@settings(max_examples=60, deadline=None)
def test_compressed_source_passes_the_strict_decompressor(text: str) -> None:
    """Every MUST of [MS-OVBA] 2.4.1 the strict decompressor can check: signature, chunk headers, copy tokens
    within the chunk, raw chunks of exactly 4096 bytes, every chunk but the last decompressing to 4096."""
    data = text.encode("cp1252")
    out, _chunks = _strict_decompress()(ovba.compress(data))
    assert out == data


def test_compound_files_pass_the_strict_checker(tmp_path: Path) -> None:
    """Sector accounting, chains, the mini stream, sibling order and the red-black rules of [MS-CFB]."""
    import random

    rng = random.Random(11)
    files = []
    many = tuple(rng.randrange(0, 9000) for _ in range(40))
    for n, sizes in enumerate([(0, 1, 63, 64, 4095), (4096, 4097, 9000), many]):
        streams: dict[tuple[str, ...], bytes] = {("VBA", f"M{i}"): rng.randbytes(s) for i, s in enumerate(sizes)}
        streams[("PROJECT",)] = b"ID=x"
        path = tmp_path / f"c{n}.bin"
        path.write_bytes(cfb.write(cfb.tree(streams)))
        files.append(path)
    done = subprocess.run([sys.executable, str(shared_tool("cfb-strict-check")), *map(str, files)],
                          capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(files) and all(line.endswith("problems: none") for line in lines), done.stdout
