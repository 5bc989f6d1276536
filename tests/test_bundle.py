"""The offline bundle: built for this machine and installed into a fresh venv with no index at all; built for
Windows x64 (one Python version, to stay quick) and checked, wheel by wheel, against what every package in it
requires on Windows. Both need the package index, as the maintainer who builds a bundle does."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from converter.profile import profile_names
from xl_addin.bundle import GUIDE, GUIDE_SECTIONS, NATIVE, TEMPLATES, WHEELS, WINDOWS, BundleError, build_bundle

ROOT = Path(__file__).parent.parent
WINDOWS_311 = {**default_environment(), "os_name": "nt", "platform_machine": "AMD64", "platform_system": "Windows",
               "sys_platform": "win32", "python_version": "3.11", "python_full_version": "3.11.0",
               "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def _clean_env() -> dict[str, str]:
    """No pip configuration at all: the machine's index mirrors and find-links must not help the install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def test_native_bundle_installs_with_no_index(tmp_path: Path) -> None:
    made = build_bundle(tmp_path / "离线包", NATIVE)
    folder = made.folder
    assert {p.name for p in folder.iterdir()} == {WHEELS, TEMPLATES, GUIDE, "perfgoal.xlam"}
    assert sorted(p.stem for p in (folder / TEMPLATES).iterdir()) == sorted(profile_names())
    guide = (folder / GUIDE).read_bytes()
    assert guide.startswith(b"\xef\xbb\xbf") and b"\r\n" in guide
    text = guide.decode("utf-8-sig")
    assert "pip install --no-index --find-links wheels perfgoal" in text
    assert all(f"【{title}】" in text for title in GUIDE_SECTIONS)  # the README's staff sections, all there
    with zipfile.ZipFile(folder / "perfgoal.xlam") as z:
        assert "customUI/customUI.xml" in z.namelist()
    venv = tmp_path / "新环境"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                              "--no-index", "--find-links", str(folder / WHEELS), "perfgoal"],
                             capture_output=True, text=True, env=_clean_env(), timeout=600)
    assert install.returncode == 0, install.stderr
    example = ROOT / "examples" / "declarations-2020-01.xlsx"
    check = subprocess.run([str(venv / "bin" / "perfgoal"), "check", str(example)],
                           capture_output=True, env=_clean_env(), timeout=300)
    assert check.returncode == 1 and b"I008" in check.stdout  # the example's known error, found
    live = subprocess.run([str(python), "-c", "from xl_addin.functions import PG_CHECK_BUDGET as f; "
                                              "print(f(100.0, 50.0, None, None))"],
                          capture_output=True, text=True, env=_clean_env(), timeout=120)
    assert live.stdout.strip() == "✓", live.stderr


def test_windows_bundle_holds_every_wheel_windows_needs(tmp_path: Path) -> None:
    made = build_bundle(tmp_path / "win", WINDOWS, ["3.11"])
    wheels = {parse_wheel_filename(name): name for name in made.wheels}
    names = {canonicalize_name(parsed[0]) for parsed in wheels}
    for parsed in wheels:  # each wheel runs on Windows x64 under CPython 3.11
        assert any(t.platform in ("any", "win_amd64") and t.interpreter in ("py3", "py2", "cp311", "cp3")
                   for t in parsed[3]), wheels[parsed]
    # Windows-only dependencies, which pip run on Linux skips unless its markers are told the target.
    assert {"pywin32", "colorama", "win-unicode-console", "xlwings", "pydantic-core", "perfgoal"} <= names
    for name in made.wheels:  # everything each wheel requires on Windows is there too
        with zipfile.ZipFile(made.folder / WHEELS / name) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            requires = Parser().parsestr(z.read(meta).decode("utf-8")).get_all("Requires-Dist") or []
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({**WINDOWS_311, "extra": ""}):
                assert canonicalize_name(req.name) in names, (name, line)


def test_bundle_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "user.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BundleError, match="不是空文件夹"):
        build_bundle(tmp_path, NATIVE)
    assert [p.name for p in tmp_path.iterdir()] == ["user.txt"]
