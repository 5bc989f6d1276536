"""Bulk conversion over a folder mixing returned forms, foreign workbooks and hostile files."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from converter import canonical
from converter.bulk import (
    FINDINGS_HEADER,
    SKIPPED_LINK,
    SUMMARY_HEADER,
    FileOutcome,
    OutputFailed,
    process_file,
    run_bulk,
)
from converter.writers.xlsx import write_workbook

from .conftest import DATA
from .test_foreign_corpus import FILES as CORPUS_FILES

STATUS, JSON = SUMMARY_HEADER.index("状态"), SUMMARY_HEADER.index("JSON 文件")

# What a finished run leaves in OUT_DIR (and 反馈/ with --feedback).
OUT_NAMES = [".perfgoal-bulk", ".perfgoal-outputs", "declarations.csv", "findings.csv", "indicators.csv", "json",
             "汇总.xlsx"]
EXPECTED = canonical.loads((DATA / "declarations-2020.expected.json").read_text(encoding="utf-8"))
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
"""


def zip_bomb(path: Path, inflated_mb: int = 600) -> None:
    """A real bomb: an xlsx whose one sheet inflates to ``inflated_mb`` MB of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(block)


def entity_bomb(src: Path, path: Path) -> None:
    """A real filled form whose sheet declares an entity expansion and an external entity, and uses both."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"):
                data = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = BILLION_LAUGHS.encode() + re.sub(rb"<t>[^<]*</t>", b"<t>&lol9;&xxe;</t>", data, count=1)
            zout.writestr(info.filename, data)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch") / "收到的 申报表"
    (root / "二处" / "sub dir").mkdir(parents=True)
    for i, decl in enumerate(EXPECTED):
        folder = root if i % 2 else root / "二处"
        write_workbook(folder / f"{i + 1:02d} {decl.project.name}.xlsx", [decl])
    write_workbook(root / "二处" / "sub dir" / "..多份..xlsx", EXPECTED[:3])
    (root / "二处" / "sub dir" / "text export.txt").write_bytes((DATA / "declarations-2020.txt").read_bytes())
    legacy = openpyxl.Workbook()
    legacy.active["A1"] = "季度销售统计"  # type: ignore[index]
    legacy.save(root / "not a form.xlsx")
    good = root / "02 公共资源交易平台专项经费.xlsx"
    (root / "truncated.xlsx").write_bytes(good.read_bytes()[:2000])
    (root / "renamed.xls").write_bytes(next(root.rglob("02 *.xlsx")).read_bytes())
    (root / "empty.xlsx").write_bytes(b"")
    (root / "binary.xlsx").write_bytes(os.urandom(4096))
    zip_bomb(root / "bomb.xlsx")
    sparse = openpyxl.Workbook()  # two cells spanning the whole grid: the reader would need half a terabyte
    sparse.active["A1"], sparse.active["XFD1048576"] = "x", "y"  # type: ignore[index]
    sparse.save(root / "sparse.xlsx")
    entity_bomb(good, root / "laughs.xlsx")
    protected = next(p for p in CORPUS_FILES if p.name == "pass_protected.xlsx")  # a real encrypted package
    (root / "encrypted.xlsx").write_bytes(protected.read_bytes())
    for p in CORPUS_FILES[:40]:
        (root / "foreign" / p.name).parent.mkdir(exist_ok=True)
        (root / "foreign" / p.name).write_bytes(p.read_bytes())
    outside = root.parent / "outside.xlsx"
    write_workbook(outside, [EXPECTED[0]])
    (root / "link.xlsx").symlink_to(outside)
    return root


def inputs(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def converted(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "结果"
    done = subprocess.run([str(Path(sys.executable).parent / "perfgoal"), "bulk", str(batch), "-o", str(out),
                           "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    return out


def summary_rows(out: Path) -> list[tuple[object, ...]]:
    """Read as a spreadsheet application reads it (openpyxl leaves OOXML's ``_x005F_`` escapes undecoded)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(out / "汇总.xlsx")).get_sheet_by_name("汇总").to_python()
    return [tuple(None if v == "" else v for v in row) for row in rows[1:]]


def test_every_file_accounted_for(batch: Path, converted: Path) -> None:
    rows = summary_rows(converted)
    assert {r[0] for r in rows} == set(inputs(batch))
    status = {r[0]: r[STATUS] for r in rows}
    assert status["bomb.xlsx"] == "压缩包异常"
    assert status["encrypted.xlsx"] == "文件已加密"
    assert status["truncated.xlsx"] == status["empty.xlsx"] == "文件无法读取"
    assert status["not a form.xlsx"] == "未找到申报表"
    assert status["laughs.xlsx"] == "文件无法读取"  # entities are not expanded, external ones not fetched
    assert status["sparse.xlsx"] == "读取时异常退出"  # the worker died on it; the batch went on
    assert status["link.xlsx"] == SKIPPED_LINK  # a link out of the folder is listed, not followed


def test_declarations_exact(batch: Path, converted: Path) -> None:
    for i, decl in enumerate(EXPECTED):
        rel = f"{'' if i % 2 else '二处/'}{i + 1:02d} {decl.project.name}.xlsx"
        assert (converted / "json" / f"{rel}.json").read_text(encoding="utf-8") == canonical.dumps(decl)
    several = converted / "json" / "二处" / "sub dir"
    assert [(several / f"..多份..xlsx.{i:02d}.json").read_text(encoding="utf-8") for i in (1, 2, 3)] == [
        canonical.dumps(d) for d in EXPECTED[:3]]
    text = [(several / f"text export.txt.{i:02d}.json").read_text(encoding="utf-8") for i in range(1, 8)]
    assert text == [canonical.dumps(d) for d in EXPECTED]
    renamed = json.loads((converted / "json" / "renamed.xls.json").read_text(encoding="utf-8"))
    assert renamed["project"]["name"] == EXPECTED[1].project.name


def test_outputs_stay_inside_and_findings_csv_opens_in_excel(converted: Path) -> None:
    root = converted.resolve()
    assert all(p.resolve().is_relative_to(root) for p in converted.rglob("*"))
    assert sorted(p.name for p in converted.iterdir()) == OUT_NAMES
    raw = (converted / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == list(FINDINGS_HEADER)
    assert rows[0][:6] == ["文件", "申报单位名称", "项目名称", "工作表", "单元格", "字段"]
    code, cell = rows[0].index("代码"), rows[0].index("单元格")
    assert any(r[code] == "I007" and r[cell] for r in rows[1:])
    wb = openpyxl.load_workbook(converted / "汇总.xlsx")
    assert wb.sheetnames == ["概览", "汇总", "问题清单"]
    for ws in wb:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
        assert ws.title == "概览" or ws.auto_filter.ref.startswith("A1:")
    assert wb["问题清单"].max_row == len(rows)
    assert [c.value for c in wb["汇总"][1]][:5] == ["文件", "工作表", "表式", "申报单位名称", "项目名称"]


def test_rerun_gives_the_same_bytes(batch: Path, converted: Path, tmp_path: Path) -> None:
    before = digest(converted)
    run_bulk(batch, converted, jobs=1, progress=False)
    assert digest(converted) == before
    elsewhere = tmp_path / "again"
    run_bulk(batch, elsewhere, jobs=2, progress=False)
    assert digest(elsewhere) == before


def test_zip_bomb_refused_without_inflating(batch: Path) -> None:
    """Memory peak and CPU time of the read alone, in a fresh process: inflating the bomb would take
    gigabytes and many seconds of CPU, and CPU time (unlike the wall clock) does not grow on a busy machine."""
    script = ("import resource, time; from converter.reading import read_file; t = time.process_time(); "
              f"r = read_file({str(batch / 'bomb.xlsx')!r}); print(r.findings[0].code, time.process_time() - t, "
              "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    code, cpu, peak = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                     check=True).stdout.split()
    assert code == "F007"
    assert int(peak) < 200 * 1024, f"peak memory {int(peak) // 1024} MB: the bomb was inflated"
    assert float(cpu) < 2, f"{float(cpu):.1f} s of CPU: the bomb was inflated"


def _slow_or_dying(path: str, rel: str) -> FileOutcome:
    if rel.endswith("slow.txt"):
        time.sleep(30)
    if rel.endswith("dies.txt"):  # after writing part of its JSON into the parent's staging folder
        out = Path(path).parent.parent / "out"
        (out / ".perfgoal-staging" / "new" / "json" / "dies.txt.01.json").write_text('{"half', encoding="utf-8")
        os.write(2, "\n  reader panicked: 模拟的崩溃\n  backtrace…\n".encode())  # as a native reader does
        os._exit(3)
    return process_file(path, rel)


def test_a_hanging_or_dying_file_does_not_hold_the_batch(tmp_path: Path, capfd: pytest.CaptureFixture[str]
                                                         ) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.txt", "dies.txt", "slow.txt", "z.txt"):
        (src / name).write_bytes((DATA / "declarations-2020.txt").read_bytes())
    start = time.monotonic()
    run_bulk(src, tmp_path / "out", jobs=2, timeout=2, progress=False, func=_slow_or_dying)
    assert time.monotonic() - start < 20
    rows = {r[0]: r[STATUS] for r in summary_rows(tmp_path / "out")}
    assert rows["slow.txt"] == "处理超时" and rows["dies.txt"] == "读取时异常退出"
    died = [r for r in csv.reader((tmp_path / "out" / "findings.csv").read_text(encoding="utf-8-sig").splitlines())
            if r[0] == "dies.txt"]
    assert "退出码 3：reader panicked: 模拟的崩溃" in died[0][FINDINGS_HEADER.index("说明")]  # its first words
    assert "模拟的崩溃" not in capfd.readouterr().err  # and not on the user's terminal
    assert len([r for r in summary_rows(tmp_path / "out") if r[0] in ("a.txt", "z.txt")]) == 14
    left = sorted(p.name for p in (tmp_path / "out" / "json").iterdir())
    assert left == [f"{n}.txt.{i:02d}.json" for n in ("a", "z") for i in range(1, 8)]  # nothing half-written
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == OUT_NAMES


def test_rerun_leaves_no_json_of_removed_inputs(tmp_path: Path) -> None:
    """json/ holds this run's declarations only: what a reader of the folder takes for the batch."""
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    for name in ("a.xlsx", "sub/b.xlsx"):
        write_workbook(src / name, [EXPECTED[0]])
    run_bulk(src, out, jobs=2, progress=False)
    assert sorted(digest(out / "json")) == ["a.xlsx.json", "sub/b.xlsx.json"]
    (src / "sub" / "b.xlsx").unlink()
    write_workbook(src / "c.xlsx", EXPECTED[:2])
    run_bulk(src, out, jobs=2, progress=False)
    assert sorted(digest(out / "json")) == ["a.xlsx.json", "c.xlsx.01.json", "c.xlsx.02.json"]
    assert sorted(p.name for p in out.iterdir()) == OUT_NAMES


def _staged_set(folder: Path, tag: str) -> None:
    (folder / "json" / "sub").mkdir(parents=True)
    (folder / "json" / "sub" / f"{tag}.json").write_text(tag, encoding="utf-8")
    for name in ("findings.csv", "汇总.xlsx"):
        (folder / name).write_text(tag, encoding="utf-8")


def test_outputs_are_published_together_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The three outputs move in together; a step that fails puts the earlier set back, and so does the next
    run for a publication cut short by a kill (``roll_back`` on a half-published state)."""
    from converter import atomic

    names = ("汇总.xlsx", "findings.csv", "json")
    target, new, aside = tmp_path / "out", tmp_path / "new", tmp_path / "old"
    _staged_set(target, "old")
    _staged_set(new, "new")
    before = digest(target)
    real_replace = os.replace

    def failing(a: Any, b: Any) -> None:  # the third move in fails (a file held open on Windows)
        if Path(a) == new / "json":
            raise PermissionError(13, "另一个程序正在使用此文件", str(b))
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(PermissionError):
        atomic.publish(new, target, names, aside)
    monkeypatch.undo()
    assert digest(target) == before and not aside.exists()
    assert sorted(digest(new)) == ["findings.csv", "json/sub/new.json", "汇总.xlsx"]  # ready for another try

    aside.mkdir()  # killed after the earlier set stepped aside and one new output moved in
    for name in names:
        os.replace(target / name, aside / name)
    os.replace(new / "汇总.xlsx", target / "汇总.xlsx")
    atomic.roll_back(new, target, names, aside)
    assert digest(target) == before and not aside.exists()

    atomic.publish(new, target, names, aside)
    assert sorted(digest(target)) == ["findings.csv", "json/sub/new.json", "汇总.xlsx"]
    assert set(digest(target).values()) == {hashlib.sha256(b"new").hexdigest()}
    atomic.roll_back(new, target, names, aside)  # after a finished publication there is nothing to undo
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]


def test_spawned_workers_give_the_same_outcomes(tmp_path: Path) -> None:
    """Windows has no fork: the add-in's 批量转换 runs spawned workers, which import the task by name."""
    from converter.bulk import WriteJson
    from converter.fragments import render_outcome
    from converter.pool import WatchdogPool

    src = tmp_path / "in"
    src.mkdir()
    write_workbook(src / "a.xlsx", EXPECTED[:2])
    (src / "b.txt").write_bytes((DATA / "declarations-2020.txt").read_bytes())
    tasks = [(str(src / n), n) for n in ("a.xlsx", "b.txt")]
    staged = tmp_path / "new"
    pool: WatchdogPool[FileOutcome] = WatchdogPool(WriteJson(staged, process_file), 2, 60, start_method="spawn",
                                                   log_dir=tmp_path)
    spawned = list(pool.map(tasks))
    # What a worker sends: every output's rows rendered, findings counted (not the findings themselves).
    assert [o.fragments for o in spawned] == [  # type: ignore[union-attr]
        render_outcome(process_file(*t), None) for t in tasks]
    assert all(o.fragments.tally and not o.findings for o in spawned)  # type: ignore[union-attr]
    assert sorted(p.name for p in (staged / "json").iterdir()) == ["a.xlsx.01.json", "a.xlsx.02.json"] + [
        f"b.txt.{i:02d}.json" for i in range(1, 8)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "new"]  # the workers' logs are gone


def test_add_in_and_bulk_import_without_posix_modules() -> None:
    """On Windows there is no ``resource`` module; importing the ribbon (and with it bulk) must still work."""
    script = "import sys; sys.modules['resource'] = None; import xl_addin.ribbon, converter.bulk; print('ok')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_dask_executor_matches_local(batch: Path, converted: Path, tmp_path: Path) -> None:
    """Byte for byte, sparse.xlsx included: on Dask too each file is read in a worker of its own, so the one
    that kills its reader is told the same way and takes no other file down with it."""
    out = tmp_path / "dask"
    run_bulk(batch, out, jobs=2, executor="dask", progress=False)
    assert digest(out) == digest(converted)


def test_missing_input_folder_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "perfgoal"), "bulk", str(tmp_path / "nope"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2 and "不是文件夹" in done.stderr


def test_rerun_after_the_output_folder_was_deleted(tmp_path: Path) -> None:
    """A long-lived process (Excel's Python) may convert into a folder the user deleted in between."""
    src = tmp_path / "in" / "sub"
    src.mkdir(parents=True)
    (src / "a.txt").write_bytes((DATA / "declarations-2020.txt").read_bytes())
    out = tmp_path / "out"
    for _ in range(2):
        run_bulk(tmp_path / "in", out, jobs=1, progress=False)
        assert len(list((out / "json" / "sub").iterdir())) == 7
        shutil.rmtree(out)
    from converter.bulk import Writer, process_file

    for _ in range(2):  # the parent writing, in one process, into a folder made and removed twice
        out.mkdir()
        writer = Writer(out)
        writer.add(process_file(str(src / "a.txt"), "sub/a.txt"))
        writer.close()
        assert (out / "json" / "sub" / "a.txt.01.json").exists()
        shutil.rmtree(out)


def test_walk_reports_an_unlistable_folder_and_survives_any_depth(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder that cannot be listed becomes a row of its own (unreadable), not a silent gap; nesting
    deeper than Python's recursion limit is walked."""
    from converter import bulk

    deep = tmp_path / "in"
    deep.mkdir()
    for _ in range(1100):  # one by one: pathlib's own mkdir(parents=True) recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "a.txt").write_bytes(b"x")
    (tmp_path / "in" / "locked").mkdir()
    (tmp_path / "in" / "z.txt").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path: str) -> Any:  # root ignores permissions here, so the refusal is simulated
        if path.endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(bulk.os, "scandir", scandir)
    found = [e.rel for e in bulk.walk_inputs(tmp_path / "in", tmp_path / "out")]
    assert found == ["z.txt", "/".join(["d"] * 1100) + "/a.txt", "locked"]
    outcome = process_file(str(tmp_path / "in" / "locked"), "locked")
    assert outcome.status == "文件无法读取" and outcome.findings[0][0] == "locked"
    (deep / "a.txt").unlink()
    while deep != tmp_path / "in":  # bottom up: pytest's own clean-up recurses
        deep.rmdir()
        deep = deep.parent


def test_the_listing_gives_back_every_entry_as_walked(tmp_path: Path) -> None:
    """The compact listing a run keeps (a relative path a file) gives back exactly what the walk found: skipped
    entries with their reasons, nested and odd names, a path not made by joining (kept aside); the tasks are the
    entries to read, in order."""
    from converter import bulk

    src = tmp_path / "in"
    (src / "sub" / "深").mkdir(parents=True)
    for name in ("b.xlsx", "~$b.xlsx", "a b#%.xls", "sub/深/申报表.xlsx", "sub/z.ods"):
        (src / name).write_bytes(b"x")
    os.symlink(src / "b.xlsx", src / "link.xlsx")
    walked = list(bulk.walk_inputs(src, tmp_path / "out"))
    assert {e.skipped for e in walked} == {None, bulk.SKIPPED_LOCK, bulk.SKIPPED_LINK}
    odd = [*walked, bulk.Entry("/elsewhere/x.xlsx", "x.xlsx")]
    listing = bulk.Listing(src, odd)
    assert list(listing) == odd and len(listing) == len(odd)
    assert list(listing.tasks()) == [(e.path, e.rel) for e in odd if e.skipped is None]
    assert all(os.path.exists(path) for path, _ in list(listing.tasks())[:-1])


def test_the_parents_own_rows_remember_nothing() -> None:
    """Rows the parent renders itself (cross-file findings, files not read) leave the columns' memory of texts as
    it was: a batch of many resubmissions does not grow the parent; the rows are the same either way."""
    from converter.sheet_rows import Columns, Rows

    columns = Columns(("文件", "说明"))
    row = ("a.xlsx", "同一单位的同一项目在两个文件中申报")
    forgetful = Rows(columns, remember=False)
    forgetful.add(row)
    assert columns.memo == [{}, {}]
    remembering = Rows(columns)
    remembering.add(row)
    assert columns.memo != [{}, {}] and remembering.done() == forgetful.done()


def test_a_summary_that_cannot_be_replaced_leaves_the_earlier_outputs(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Where 汇总.xlsx cannot be replaced (held open in Excel on Windows), the run stops with a message and the
    earlier run's three outputs stay whole; nothing of the failed run is left behind."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    write_workbook(src / "a.xlsx", [EXPECTED[0]])
    run_bulk(src, out, jobs=1, progress=False)
    before = digest(out)
    write_workbook(src / "b.xlsx", [EXPECTED[1]])
    real_replace = os.replace

    def replace(a: Any, b: Any) -> None:
        if Path(a) == out / "汇总.xlsx":
            raise PermissionError(13, "另一个程序正在使用此文件", str(a))
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputFailed, match="无法替换上次的结果"):
        run_bulk(src, out, jobs=1, progress=False)
    monkeypatch.undo()
    assert digest(out) == before
    assert sorted(p.name for p in out.iterdir()) == OUT_NAMES


def test_json_names_never_collide(tmp_path: Path) -> None:
    """``a.xlsx`` with two forms writes ``a.xlsx.01.json``; a file named ``a.xlsx.01`` must not take that name."""
    src = tmp_path / "in"
    src.mkdir()
    write_workbook(src / "a.xlsx", EXPECTED[:2])
    write_workbook(src / "a.xlsx.01", [EXPECTED[2]])
    run_bulk(src, tmp_path / "out", jobs=2, progress=False)
    names = sorted(digest(tmp_path / "out" / "json"))
    assert names == ["a.xlsx.01.01.json", "a.xlsx.01.json", "a.xlsx.02.json"]
    assert [r[JSON] for r in summary_rows(tmp_path / "out")] == [f"json/{n}" for n in names[1:]] + [
        "json/a.xlsx.01.01.json"]


def _batch_in_a_daemon(tasks: list[tuple[str, str]], result: str) -> None:
    from converter.bulk import process_batch

    outcomes = process_batch(tasks, 60, None)
    Path(result).write_text(json.dumps([[o.rel, o.status, len(o.declarations)] for o in outcomes]), encoding="utf-8")


def test_a_daemonic_dask_worker_reads_in_its_own_process(tmp_path: Path) -> None:
    """Dask workers are daemonic by default and may not start processes: the files are read all the same."""
    import multiprocessing as mp

    (tmp_path / "a.txt").write_bytes((DATA / "declarations-2020.txt").read_bytes())
    (tmp_path / "b.txt").write_bytes(b"\x00\x01")
    daemon = mp.get_context("fork").Process(target=_batch_in_a_daemon, daemon=True, args=(
        [(str(tmp_path / n), n) for n in ("a.txt", "b.txt")], str(tmp_path / "r.json")))
    daemon.start()
    daemon.join(60)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == [
        ["a.txt", "", 7], ["b.txt", "文件格式无法识别", 0]]


def test_workers_of_a_process_without_standard_streams(tmp_path: Path) -> None:
    """pythonw.exe (which may run Excel's Python) has no stderr: its workers must still read and report."""
    script = ("import sys; sys.stderr = None; from converter.reading import read_files; "
              f"r = read_files([{str(DATA / 'declarations-2020.txt')!r}]); print(len(r[0].declarations))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "7", done.stdout + done.stderr
