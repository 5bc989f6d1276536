"""The ``perfgoal`` console command, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl

from converter import canonical

from .conftest import DATA, SAMPLE

PERFGOAL = shutil.which("perfgoal", path=str(Path(sys.executable).parent)) or "perfgoal"


def first_form() -> str:
    return "财政项目" + SAMPLE.read_text(encoding="utf-8").split("\n\n财政项目")[1]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PERFGOAL, *map(str, args)], capture_output=True, text=True, encoding="utf-8",
                          timeout=120)


def test_to_json_prints_an_array_in_input_order(tmp_path: Path) -> None:
    second = tmp_path / "second.txt"
    second.write_text(first_form(), encoding="utf-8")
    out = run("to-json", second, SAMPLE)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [d["project"]["name"] for d in data][:2] == ["办公用房修缮", "办公用房修缮"]
    assert len(data) == 8
    assert out.stdout == canonical.dumps_many(canonical.loads(out.stdout))


def test_to_json_writes_one_canonical_file_per_declaration(tmp_path: Path) -> None:
    out = run("to-json", SAMPLE, "-o", tmp_path / "out")
    assert out.returncode == 0 and out.stdout == ""
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"declarations-2020-{i:02d}.json" for i in range(1, 8)]
    expected = json.loads((DATA / "declarations-2020.expected.json").read_text(encoding="utf-8"))
    for f, e in zip(files, expected, strict=True):
        assert f.read_text(encoding="utf-8") == json.dumps(e, ensure_ascii=False, indent=2) + "\n"
    again = run("to-json", SAMPLE, "-o", tmp_path / "out")
    assert again.returncode == 0 and sorted((tmp_path / "out").iterdir()) == files  # no temp files left


def test_to_json_never_overwrites_an_input(tmp_path: Path) -> None:
    src = tmp_path / "form.json"
    src.write_text(first_form(), encoding="utf-8")  # a text export that happens to carry a .json name
    out = run("to-json", src, "-o", tmp_path)
    assert out.returncode == 2 and "拒绝覆盖" in out.stderr
    assert src.read_text(encoding="utf-8") == first_form()


def test_check_exit_codes_and_json_format(tmp_path: Path) -> None:
    out = run("check", SAMPLE, "--format", "json")
    assert out.returncode == 1
    findings = json.loads(out.stdout)
    assert {"code", "severity", "message", "file", "sheet", "cell", "field", "project"} <= set(findings[0])
    assert sum(f["severity"] == "error" for f in findings) == 8
    clean = tmp_path / "clean.txt"
    text = first_form()
    clean.write_text(text.replace("信息公开实现率\t规范", "信息公开实现率\t≥95%").replace(">=90", "≥90%"),
                     encoding="utf-8")
    ok = run("check", clean)
    assert ok.returncode == 0, ok.stdout
    assert "错误 0 条" in ok.stdout


def test_unreadable_input_is_one_chinese_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    for command in ("to-json", "check"):
        out = run(command, bad, SAMPLE)
        assert out.returncode == 2
        assert "Traceback" not in out.stderr + out.stdout
        line = [ln for ln in out.stderr.splitlines() + out.stdout.splitlines() if "坏文件.xlsx" in ln]
        assert line and "无法读取" in line[0]
    missing = run("check", tmp_path / "nope.xls")
    assert missing.returncode == 2 and "nope.xls" in missing.stdout


def test_a_file_that_aborts_the_reader_does_not_stop_the_others(tmp_path: Path) -> None:
    """A sheet whose two cells span the whole grid makes calamine allocate half a terabyte and abort: the
    file is reported, the files after it are read, and no native backtrace reaches the user."""
    sparse = tmp_path / "稀疏.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["XFD1048576"] = "x", "y"
    wb.save(sparse)
    for command in ("check", "to-json"):
        out = run(command, sparse, SAMPLE)
        assert out.returncode == 2, out.stderr
        assert "稀疏.xlsx" in out.stderr + out.stdout and "异常退出" in out.stderr + out.stdout
        assert "backtrace" not in out.stderr and "Traceback" not in out.stderr
        assert ("7 份申报表" in out.stdout) if command == "check" else (out.stdout.count('"schema_version"') == 7)


def test_schema_and_rules_commands() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["$schema"].endswith("2020-12/schema") and "indicators" in schema["properties"]
    rules = run("rules").stdout
    assert "I007" in rules and "财预〔2015〕88号" in rules


def test_bad_arguments_get_a_chinese_message() -> None:
    out = run("to-json")
    assert out.returncode == 2 and "参数错误" in out.stderr


def _children(pid: int) -> int:
    """How many processes ``pid`` has started (Linux ``/proc``; 0 elsewhere)."""
    try:
        return len(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return 0


def test_ctrl_c_ends_the_run_with_a_chinese_line_and_exit_130(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group, as a terminal sends it: the command stops its reading workers
    and says 已中断, without a trace from any of them."""
    for i in range(4000):  # long enough, on a fast machine too, to be interrupted after its workers started
        (tmp_path / f"{i:04d}.txt").write_text(first_form(), encoding="utf-8")
    proc = subprocess.Popen([PERFGOAL, "check", *sorted(map(str, tmp_path.iterdir()))], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while _children(proc.pid) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the reading workers run, so the signal meets the run and not the start-up
    time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 130, text
    assert text.strip().splitlines()[-1] == "已中断" and "Traceback" not in text, text


def test_readme_commands_table_lists_every_option() -> None:
    """The README's table of commands is held to the parser: every command has its row, and every option of
    a command appears in that row (by its short or long spelling)."""
    import argparse

    from converter.cli import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `perfgoal ([\w-]+)(?:[^|\\]|\\.)*\|", readme, re.M)}
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert name in rows, f"README has no row for `perfgoal {name}`"
        for action in parser._actions:
            spellings = [s for s in action.option_strings if s not in ("-h", "--help")]
            if spellings:
                assert any(re.search(rf"{re.escape(s)}\b", rows[name]) for s in spellings), (name, spellings)
