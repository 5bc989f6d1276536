"""Bulk conversion as a hostile sender and a careless user meet it: nothing lost, nothing stalls (issue 10).

Real processes throughout: the watchdog pool, ``perfgoal bulk`` killed mid-run, a real full disk (a small
tmpfs where this machine lets the test mount one)."""

from __future__ import annotations

import csv
import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter import canonical
from converter.bulk import (
    FINDINGS_CSV,
    FINDINGS_HEADER,
    MANIFEST,
    SKIPPED_LINK,
    SKIPPED_LOCK,
    STAGING,
    SUMMARY_HEADER,
    BulkOptionError,
    BulkRefused,
    FileOutcome,
    OutputFailed,
    Writer,
    process_file,
    run_bulk,
)
from converter.flat import csv_field

from .conftest import DATA
from .test_bulk import JSON, OUT_NAMES, STATUS, digest, summary_rows
from .test_foreign_corpus import FILES as CORPUS_FILES
from .test_pool import _children_alive, _survivors, wall_clock

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (DATA / "declarations-2020.txt").read_bytes()  # seven declarations in the legacy text export


def _hostile(path: str, rel: str) -> FileOutcome:
    """``process_file``, except that files named ``hang…`` hang and files named ``die…`` kill their process."""
    name = rel.rsplit("/", 1)[-1]
    if name.startswith("hang"):
        time.sleep(600)
    if name.startswith("die"):
        os._exit(9)
    return process_file(path, rel)


def csv_rows(out: Path) -> list[list[str]]:
    return list(csv.reader((out / FINDINGS_CSV).read_text(encoding="utf-8-sig").splitlines()))


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


# ----------------------------------------------------------------------------------------------------------
# No stall, ever
# ----------------------------------------------------------------------------------------------------------
def test_hostile_files_at_front_middle_and_end_of_a_large_folder(tmp_path: Path) -> None:
    """Hundreds of files with hanging and dying ones at the front, in the middle and at the end: the run
    ends within its bound, every file is listed, and a rerun gives the same bytes (no thread ids or paths
    in the dying reader's words)."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    names = [f"sub/{n:03d}.txt" for n in range(300)]
    for position in (0, 1, 150, 151, 298, 299):
        names[position] = f"sub/{'hang' if position % 2 else 'die'}{position:03d}.txt"
    for name in names:
        (src / name).write_bytes(SAMPLE if name.endswith("7.txt") else b"\xff\xfe not a form")
    outs = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        with wall_clock(45):
            report = run_bulk(src, out, jobs=3, timeout=0.5, progress=False, func=_hostile)
        assert report.files == 300
        outs.append(out)
    status = {r[0]: r[STATUS] for r in summary_rows(outs[0])}
    assert set(status) == set(names)
    assert {status[n] for n in names if "hang" in n} == {"处理超时"}
    assert {status[n] for n in names if "die" in n} == {"读取时异常退出"}
    assert digest(outs[0]) == digest(outs[1])


def _kill_script(in_dir: Path, out_dir: Path) -> str:
    """``perfgoal bulk`` itself, with a reader that hangs on ``hang…`` files (injected as run_bulk's default)."""
    return textwrap.dedent(f"""
        import sys
        from converter import bulk
        from tests.test_bulk_safety import _hostile
        bulk.run_bulk.__kwdefaults__["func"] = _hostile
        from converter.cli import main
        sys.exit(main(["bulk", {str(in_dir)!r}, "-o", {str(out_dir)!r}, "--jobs", "3", "--timeout", "600"]))
    """)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                    reason="counts processes through /proc, which only Linux has; CI runs on Linux")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_run_leaves_no_worker_and_no_stray_file(tmp_path: Path, sig: signal.Signals) -> None:
    src, out, tmp = tmp_path / "in", tmp_path / "out", tmp_path / "tmp"
    src.mkdir()
    tmp.mkdir()
    (src / "a.txt").write_bytes(SAMPLE)
    run_bulk(src, out, jobs=1, progress=False)
    before = digest(out)
    for n in range(12):  # four queued at each of the three workers
        (src / f"hang{n:02d}.txt").write_bytes(SAMPLE)
    tag = f"PERFGOAL_KILL_TEST_{os.getpid()}_{sig.name}"
    env = {**os.environ, tag: "1", "TMPDIR": str(tmp)}
    run = subprocess.Popen([sys.executable, "-c", _kill_script(src, out)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while len(_children_alive(tag)) < 4 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)  # the run and its three workers, each stuck on a file
        assert run.poll() is None, run.communicate()[1].decode(errors="replace")
        assert len(known := _children_alive(tag)) == 4 and (out / STAGING).is_dir()
        run.send_signal(sig)
        _, err = run.communicate(timeout=30)
        assert _survivors(tag, known) == []  # every process of the run ended: none still holds the lock
    finally:
        for pid in _children_alive(tag):
            os.kill(pid, signal.SIGKILL)
    assert b"Traceback" not in err
    if sig == signal.SIGTERM:  # ended like Ctrl-C: its staging area is already gone
        assert run.returncode == 128 + signal.SIGTERM
        assert sorted(p.name for p in out.iterdir()) == OUT_NAMES
    assert {k: v for k, v in digest(out).items() if not k.startswith(STAGING)} == before
    assert list(tmp.iterdir()) == []  # no worker log in the temporary folder
    for n in range(12):
        (src / f"hang{n:02d}.txt").rename(src / f"b{n:02d}.txt")
    run_bulk(src, out, jobs=2, progress=False)  # the rerun clears what the killed run left
    assert sorted(p.name for p in out.iterdir()) == OUT_NAMES
    assert len(list((out / "json").iterdir())) == 13 * 7


# ----------------------------------------------------------------------------------------------------------
# Nothing of the user's deleted or overwritten
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def one_form(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_bytes(SAMPLE)
    return src


@pytest.mark.parametrize("theirs", ["json/notes.txt", "findings.csv", "汇总.xlsx"])
def test_outputs_that_are_not_ours_are_never_replaced(tmp_path: Path, one_form: Path, theirs: str) -> None:
    out = tmp_path / "out"
    (out / theirs).parent.mkdir(parents=True, exist_ok=True)
    (out / theirs).write_text("用户自己的文件", encoding="utf-8")
    before = tree(out), digest(out)
    with pytest.raises(BulkRefused, match="不是本工具生成的") as refused:
        run_bulk(one_form, out, jobs=1, progress=False)
    assert theirs.split("/")[0] in str(refused.value)
    assert (tree(out), digest(out)) == before  # not even the marker was written


@pytest.mark.parametrize("theirs", ["json/我的批注.txt", "反馈/审核意见.txt", "json/子目录/b.json"])
def test_files_put_into_our_folders_after_a_run_are_never_removed(tmp_path: Path, one_form: Path,
                                                                  theirs: str) -> None:
    """json/ and 反馈/ are replaced whole by the next run: a file the user put there (反馈/ included, which the
    last run, without --feedback, left out) stops the run, and nothing is touched, until it is moved away."""
    out = tmp_path / "out"
    (one_form / "b.xlsx").write_bytes((ROOT / "examples" / "declarations-2020-01.xlsx").read_bytes())
    run_bulk(one_form, out, jobs=1, progress=False)
    (out / theirs).parent.mkdir(parents=True, exist_ok=True)
    (out / theirs).write_text("用户自己的文件", encoding="utf-8")
    before = tree(out), digest(out)
    with pytest.raises(BulkRefused, match="不是上次批量转换生成的文件") as refused:
        run_bulk(one_form, out, jobs=1, progress=False)
    assert theirs in str(refused.value)
    assert (tree(out), digest(out)) == before
    (out / theirs).unlink()
    run_bulk(one_form, out, jobs=1, progress=False, feedback=True)  # moved away: the run goes on
    assert any((out / "反馈").iterdir())
    run_bulk(one_form, out, jobs=1, progress=False)  # and again over its own copies under 反馈/
    assert not (out / "反馈").exists()


def test_a_file_put_into_our_folders_during_a_run_stops_its_publication(tmp_path: Path, one_form: Path) -> None:
    out = tmp_path / "out"
    run_bulk(one_form, out, jobs=1, progress=False)
    before = digest(out)
    theirs = out / "json" / "运行中放入.txt"

    def meanwhile(path: str, rel: str) -> FileOutcome:
        theirs.write_text("用户自己的文件", encoding="utf-8")
        return process_file(path, rel)

    with pytest.raises(OutputFailed, match="本次结果未发布，上次的结果保持不变"):
        run_bulk(one_form, out, jobs=1, progress=False, func=meanwhile)
    theirs.unlink()
    assert digest(out) == before
    assert not (out / STAGING).exists()


def test_an_output_folder_of_an_earlier_version_is_replaced_as_before(tmp_path: Path, one_form: Path) -> None:
    """A folder whose last run recorded no list of its outputs (``MANIFEST``): its folders are ours whole."""
    out = tmp_path / "out"
    run_bulk(one_form, out, jobs=1, progress=False)
    (out / MANIFEST).unlink()
    (out / "json" / "旧版本留下的.json").write_text("{}", encoding="utf-8")
    run_bulk(one_form, out, jobs=1, progress=False)
    assert not (out / "json" / "旧版本留下的.json").exists()
    assert (out / MANIFEST).is_file()


def test_an_input_folder_inside_our_json_is_refused(tmp_path: Path, one_form: Path) -> None:
    """A user who put returned forms under OUT_DIR/json (ours, marked) and converts them into OUT_DIR."""
    out = tmp_path / "out"
    run_bulk(one_form, out, jobs=1, progress=False)
    inner = out / "json" / "新收到"
    inner.mkdir()
    (inner / "b.txt").write_bytes(SAMPLE)
    before = digest(out)
    with pytest.raises(BulkRefused, match="输入文件夹位于输出文件夹的 json 中"):
        run_bulk(inner, out, jobs=1, progress=False)
    assert digest(out) == before


def test_output_equal_to_input_is_refused_and_output_inside_input_is_not_read(tmp_path: Path,
                                                                              one_form: Path) -> None:
    before = digest(one_form)
    with pytest.raises(BulkRefused, match="不能与输入文件夹相同"):
        run_bulk(one_form, one_form / ".." / one_form.name, jobs=1, progress=False)
    assert digest(one_form) == before
    inside = one_form / "结果"
    for _ in range(2):  # the rerun must not read the first run's outputs as inputs
        report = run_bulk(one_form, inside, jobs=1, progress=False)
        assert (report.files, report.declarations) == (1, 7)
    assert [r[0] for r in summary_rows(inside)] == ["a.txt"] * 7


def test_lock_files_links_and_special_files_are_listed_with_a_reason(tmp_path: Path, one_form: Path) -> None:
    (one_form / "~$a.xlsx").write_bytes(b"\x05owner")
    (one_form / ".~lock.a.xlsx#").write_text("owner,host", encoding="utf-8")
    (one_form / "link.txt").symlink_to(one_form / "a.txt")
    (one_form / "folder link").symlink_to(one_form)
    os.mkfifo(one_form / "pipe.txt")  # reading it would block for ever
    with wall_clock(30):
        report = run_bulk(one_form, tmp_path / "out", jobs=2, progress=False)
    status = {r[0]: r[STATUS] for r in summary_rows(tmp_path / "out")}
    assert status == {"a.txt": status["a.txt"], "~$a.xlsx": SKIPPED_LOCK, ".~lock.a.xlsx#": SKIPPED_LOCK,
                      "link.txt": SKIPPED_LINK, "folder link": SKIPPED_LINK, "pipe.txt": "已跳过：不是普通文件"}
    assert (report.files, report.skipped) == (6, 5)


# ----------------------------------------------------------------------------------------------------------
# One file's name never stops the batch
# ----------------------------------------------------------------------------------------------------------
def test_odd_file_names(tmp_path: Path) -> None:
    src = tmp_path / "in"
    deep = src / "/".join(["深层目录"] * 90)  # a JSON path past 1 KB: folded into one name
    deep.mkdir(parents=True)
    raw = [b"back\\slash.txt", b"latin1-\xe9t\xe9.txt", "长".encode() * 83 + b".t", b"q?*:|<>\".txt",
           b"name~0123456789abcdef", b"name~0123456789abcdef.01", b"ctrl\x01\x1f.txt"]
    for raw_name in raw:
        with open(os.path.join(os.fsencode(src), raw_name), "wb") as fh:
            fh.write(SAMPLE)
    (deep / "a.txt").write_bytes(SAMPLE)
    assert max(len(n) for n in raw) == 251
    run_bulk(src, tmp_path / "out", jobs=2, progress=False)
    rows = summary_rows(tmp_path / "out")
    assert len(rows) == 7 * (len(raw) + 1) and {r[STATUS] for r in rows} <= {"通过", "有警告", "有错误"}
    shown = {r[0] for r in rows}
    assert "latin1-\\xe9t\\xe9.txt" in shown and "back\\slash.txt" in shown
    names = [str(r[JSON]) for r in rows]
    assert len(set(names)) == len(names)
    for name in names:
        path = tmp_path / "out" / name
        assert path.is_file(), name
        assert all(len(part.encode()) <= 255 for part in Path(name).parts)
        assert not set(name) & set('\\:*?"<>|') and name.isprintable()
    assert all(len(n.encode()) < 1100 for n in names)
    again = tmp_path / "again"
    run_bulk(src, again, jobs=1, progress=False)
    assert digest(again) == digest(tmp_path / "out")


# ----------------------------------------------------------------------------------------------------------
# Outputs safe and consistent
# ----------------------------------------------------------------------------------------------------------
FORMULAS = ['=HYPERLINK("http://x.example","点我")', "+1+1", "-2+3", "@SUM(1,2)"]


def test_csv_injection_is_neutralised_and_json_keeps_the_text(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    text = SAMPLE.decode("utf-8")
    first = "办公用房修缮"
    assert first in text
    for n, formula in enumerate(FORMULAS):
        (src / f"{n}.txt").write_text(text.replace(first, formula, 1), encoding="utf-8")
    (src / "=cmd.txt").write_bytes(b"not a form")
    run_bulk(src, tmp_path / "out", jobs=2, progress=False)
    rows = csv_rows(tmp_path / "out")[1:]
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r)
    assert ["'=cmd.txt"] == [r[0] for r in rows if "cmd" in r[0]]
    projects = {r[FINDINGS_HEADER.index("项目名称")] for r in rows}
    for n, formula in enumerate(FORMULAS):
        assert f"'{formula}" in projects
        decl = json.loads((tmp_path / "out" / "json" / f"{n}.txt.01.json").read_text(encoding="utf-8"))
        assert decl["project"]["name"] == formula  # the JSON keeps the exact text
    summary = {r[SUMMARY_HEADER.index("项目名称")] for r in summary_rows(tmp_path / "out")}
    assert set(FORMULAS) <= summary  # the workbook holds text cells, never formulas: no quote needed there
    # A tab or a carriage return cannot start a field of the text export; they are neutralised all the same.
    assert [csv_field(v) for v in ("\t=1", "\r=1", "1-2", "", None)] == ["'\t=1", "'\r=1", "1-2", "", None]


@contextmanager
def small_disk(out: Path) -> Iterator[bool]:
    """``out`` on a real 512 KB tmpfs (room for one small run, whose outputs are a dozen files), where this
    machine lets the test mount one; False where it does not."""
    out.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(out)],
                                 capture_output=True).returncode == 0
    except OSError:  # no mount command
        mounted = False
    if not mounted:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(out)], check=True)


def test_a_full_disk_stops_the_run_and_keeps_the_earlier_outputs(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: a disk-full rerun reported every input as a broken form (F008 ENOSPC) and exited 0."""
    from converter import atomic

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_bytes(SAMPLE)
    with small_disk(out) as real:
        assert not real or os.statvfs(out).f_blocks * os.statvfs(out).f_frsize == 512 * 1024
        run_bulk(src, out, jobs=2, progress=False)
        before = digest(out)
        for n in range(40):
            (src / f"b{n:02d}.txt").write_bytes(SAMPLE)
        if not real:  # a writer that fails as a full disk does, in the workers (which inherit it) and the parent
            real_put, count = atomic._put, [0]

            def put(path: Path, data: bytes, mode: str) -> None:
                count[0] += 1
                if count[0] > 20:
                    raise OSError(errno.ENOSPC, "No space left on device", str(path))
                real_put(path, data, mode)

            monkeypatch.setattr(atomic, "_put", put)
        with pytest.raises(OutputFailed, match="磁盘空间已满"):
            run_bulk(src, out, jobs=2, progress=False)
        monkeypatch.undo()
        assert digest(out) == before and sorted(p.name for p in out.iterdir()) == OUT_NAMES


def test_the_summary_says_what_it_had_to_cut(tmp_path: Path) -> None:
    """Excel's limits (1,048,576 rows, 32,767 characters a cell) are lowered for the test; findings.csv keeps
    everything, and the sheet's last row points to it."""
    from python_calamine import CalamineWorkbook

    (tmp_path / "a.txt").write_bytes(SAMPLE)
    outcome = process_file(str(tmp_path / "a.txt"), "a.txt")
    long = "很长的说明" * 8000  # 40,000 characters
    outcome.findings.append(("a.txt", None, "x", None, "B7", None, "提示", "R002", long, None))
    folder = tmp_path / "new"
    folder.mkdir()
    writer = Writer(folder, max_rows=12)
    writer.add(outcome)
    writer.close()
    rows = list(csv.reader((folder / FINDINGS_CSV).read_text(encoding="utf-8-sig").splitlines()))
    message = FINDINGS_HEADER.index("说明")
    assert len(rows) == 1 + len(outcome.findings) and rows[-1][message] == long
    sheet = CalamineWorkbook.from_path(str(folder / "汇总.xlsx")).get_sheet_by_name("问题清单").to_python()
    assert len(sheet) == 12
    note = str(sheet[-1][0])
    assert note.startswith("本表不完整") and f"{len(outcome.findings) - 10} 行" in note
    assert "findings.csv" in note
    (tmp_path / "new2").mkdir()
    writer = Writer(tmp_path / "new2", max_rows=100)
    cut = FileOutcome("a.txt", findings=[("a.txt", None, None, None, None, None, "提示", "R002", long, None)])
    writer.add(cut)
    writer.close()
    sheet = CalamineWorkbook.from_path(str(tmp_path / "new2" / "汇总.xlsx")).get_sheet_by_name("问题清单").to_python()
    assert len(str(sheet[1][message])) == 32_767 and str(sheet[1][message]).endswith("（已截断）")
    assert "1 个单元格的文字超过" in str(sheet[2][0])


# ----------------------------------------------------------------------------------------------------------
# Options
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{"jobs": 0}, {"jobs": 65}, {"jobs": True}, {"jobs": 2.5},
                                     {"timeout": 0}, {"timeout": -1}, {"timeout": float("nan")},
                                     {"timeout": float("inf")}, {"executor": "ray"}, {"profile": "no-such"}])
def test_option_values_are_checked_before_anything_is_touched(tmp_path: Path, one_form: Path,
                                                             options: dict[str, object]) -> None:
    with pytest.raises(BulkOptionError) as refused:
        run_bulk(one_form, tmp_path / "out", progress=False, **options)  # type: ignore[arg-type]
    assert isinstance(refused.value, ValueError) and any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------------------
# The contract, fuzzed
# ----------------------------------------------------------------------------------------------------------
SEEDS = [p for p in CORPUS_FILES if p.stat().st_size < 200_000][:12]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(0, 99), min_size=6, max_size=6))
def test_fuzz_every_input_gets_declarations_or_a_finding(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                         cuts: list[int]) -> None:
    """Mutated corpus workbooks and text exports: every input is accounted for, no traceback anywhere, and
    nothing is written outside OUT_DIR."""
    base = tmp_path_factory.mktemp("fuzz")
    src, out = base / "in", base / "out"
    src.mkdir()
    rng = random.Random(seed)
    for n, cut in enumerate(cuts):
        data = bytearray(rng.choice([*SEEDS, DATA / "declarations-2020.txt"]).read_bytes())
        for _ in range(rng.randint(1, 20)):  # flipped bytes, then perhaps a cut or a splice
            data[rng.randrange(len(data))] = rng.randrange(256)
        if cut < 30:
            data = data[: len(data) * cut // 30]
        elif cut < 40:
            data[len(data) // 2:len(data) // 2] = rng.randbytes(rng.randint(1, 4000))
        (src / f"{n}{rng.choice(['.xlsx', '.xls', '.ods', '.txt', ''])}").write_bytes(bytes(data))
    before = tree(base)
    with wall_clock(60):
        run_bulk(src, out, jobs=2, timeout=20, progress=False)
    assert tree(base) - before == {"out", *(f"out/{p}" for p in tree(out))}
    findings = csv_rows(out)[1:]
    assert not any("Traceback" in v for r in findings for v in r)
    rows = summary_rows(out)
    for name in (p.name for p in src.iterdir()):
        mine = [r for r in rows if r[0] == name]
        assert mine, name
        assert all(r[JSON] for r in mine) or any(f[0] == name for f in findings), name
    for row in rows:
        if row[JSON]:
            canonical.loads((out / str(row[JSON])).read_bytes())  # every JSON written is a valid declaration


def test_spawned_workers_log_into_the_staging_area(tmp_path: Path, one_form: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawned workers (Windows, macOS) log into OUT_DIR's staging area, which the run removes; nothing goes
    to the system's temporary folder."""
    import tempfile

    from converter import bulk

    real = bulk.run_local

    def spawned(*args: Any, **kwargs: Any) -> Iterator[FileOutcome]:
        return real(*args, **{**kwargs, "start_method": "spawn"})

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(bulk, "run_local", spawned)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    run_bulk(one_form, tmp_path / "out", jobs=2, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == OUT_NAMES
    assert list(tmp.iterdir()) == []
