"""What each command loads: nothing heavy that the command does not use (issue 13, point 4).

Start-up is most of a one-form ``check`` and all of ``--help``, and it is made of imports: each command here
runs in a fresh interpreter through the console script's own entry (``xl_addin.cli.main``), with stdout and
stderr piped as a script pipes them, and the modules it loaded are compared with what it may load. The
times are not asserted here (a shared machine makes timed tests flaky): ``bench/startup.py`` measures them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONE_FORM = ROOT / "examples" / "declarations-2020-01.xlsx"  # a filled shanghai-2020 form with errors

# Loaded by no command below: Dask only for ``bulk --executor dask``, xlwings only inside Excel, the add-in's
# build tools only for ``perfgoal addin``, the progress bar only on a console (stderr here is a pipe).
BUILD_TOOLS = ("xl_addin.ribbon_build", "xl_addin.cfb", "xl_addin.ovba", "xl_addin.bundle")
NEVER = ("dask", "distributed", "xlwings", "tqdm", *BUILD_TOOLS)
WORKBOOK_WRITERS = ("xlsxwriter", "openpyxl")
READER_STACK = ("converter.reading", "converter.readers", "python_calamine", "olefile")

_PROBE = """
import json, sys
from xl_addin.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:  # --help leaves through argparse
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def loaded(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    """Run ``perfgoal ARGV`` in a fresh interpreter: its exit code and every module it imported."""
    report = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", _PROBE, str(report), *argv], cwd=ROOT, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert report.exists(), done.stderr.decode("utf-8", "replace")
    data = json.loads(report.read_text(encoding="utf-8"))
    return data["code"], set(data["modules"])


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The loaded modules that are one of ``packages`` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_help_loads_neither_pydantic_nor_any_reader(tmp_path: Path) -> None:
    """``perfgoal --help`` (and every refused option) answers from the standard library and three small modules."""
    code, modules = loaded(tmp_path, "--help")
    assert code == 0
    assert "xl_addin.cli" in modules and "converter.cli" in modules  # the probe saw the command's imports
    assert among(modules, ("pydantic", *READER_STACK, *WORKBOOK_WRITERS, *NEVER)) == []


def test_a_refused_option_loads_no_pydantic(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "bulk", str(tmp_path), "-o", str(tmp_path / "out"), "--jobs", "0")
    assert code == 2
    assert among(modules, ("pydantic", *READER_STACK, *WORKBOOK_WRITERS, *NEVER)) == []


@pytest.mark.parametrize("argv", [("rules",), ("rules", "--profile", "national-2021"), ("schema",)],
                         ids=["rules", "rules-profile", "schema"])
def test_rules_and_schema_load_no_reader(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """The JSON Schema is pydantic's, of the model derived from ours; the rules need no pydantic."""
    code, modules = loaded(tmp_path, *argv)
    assert code == 0
    assert "converter.model" in modules  # what they print comes from the model
    assert among(modules, (*READER_STACK, *WORKBOOK_WRITERS, *NEVER)) == []
    assert bool(among(modules, ("pydantic",))) == (argv == ("schema",))


@pytest.mark.parametrize("command", ["check", "to-json"])
def test_reading_one_workbook_loads_no_writer(tmp_path: Path, command: str) -> None:
    """An xlsx needs calamine, not the OLE parser (``olefile``: xls and encrypted files only) nor a writer; nor
    pydantic, whose import and model building were once most of the start (the model is plain Python, and
    canonical JSON is written from it directly)."""
    code, modules = loaded(tmp_path, command, str(ONE_FORM))
    assert code == (1 if command == "check" else 0)  # the sample form has errors, and reads completely
    assert {"converter.reading", "converter.readers.locate", "python_calamine"} <= modules
    assert among(modules, ("pydantic", "olefile", *WORKBOOK_WRITERS, *NEVER)) == []


def test_an_empty_bulk_loads_only_the_summary_writer(tmp_path: Path) -> None:
    """The summary workbook of an empty run is still written (XlsxWriter); no openpyxl without ``--feedback``."""
    empty, out = tmp_path / "in", tmp_path / "out"
    empty.mkdir()
    code, modules = loaded(tmp_path, "bulk", str(empty), "-o", str(out))
    assert code == 0 and (out / "汇总.xlsx").is_file()
    assert "xlsxwriter" in modules
    assert among(modules, ("pydantic", "openpyxl", *NEVER)) == []


def test_a_bulk_run_off_a_console_shows_no_progress_bar(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shutil.copy(ONE_FORM, src / ONE_FORM.name)
    code, modules = loaded(tmp_path, "bulk", str(src), "-o", str(out), "--jobs", "1")
    assert code == 0 and (out / "json" / f"{ONE_FORM.name}.json").is_file()
    assert among(modules, ("pydantic", "openpyxl", *NEVER)) == []


_SCAN_PROBE = """
import importlib.metadata, json, os, sys
groups = []
real = importlib.metadata.entry_points
def counted(**params):
    groups.append(params.get("group"))
    return real(**params)
importlib.metadata.entry_points = counted  # pydantic binds this name when it first loads its plugin loader
from xl_addin.cli import main
code = main(["schema"])
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"code": code, "groups": groups, "setting": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}, fh)
"""


@pytest.mark.parametrize("user", [None, ""], ids=["unset", "user-set-empty"])
def test_pydantic_plugins_are_not_looked_up_unless_the_user_says(tmp_path: Path, user: str | None) -> None:
    """The command sets ``PYDANTIC_DISABLE_PLUGINS`` for itself; a value the user set, even empty, is kept."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if user is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = user
    report = tmp_path / "scan.json"
    done = subprocess.run([sys.executable, "-c", _SCAN_PROBE, str(report)], cwd=ROOT, env=env,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert report.exists(), done.stderr.decode("utf-8", "replace")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["code"] == 0
    if user is None:
        assert data["setting"] == "__all__" and "pydantic" not in data["groups"]
    else:
        assert data["setting"] == "" and "pydantic" in data["groups"]
