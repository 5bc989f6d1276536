"""An offline installation bundle for office PCs without internet access (``perfgoal addin bundle``).

The folder holds ``wheels/`` — this project's wheel and every dependency's, for Windows x64 and each supported
Python — the built add-in, a blank template per form, and a short Chinese guide. It installs with
``pip install --no-index --find-links wheels perfgoal``: pip never builds anything and never looks online.

How the wheels are found: ``pip download --only-binary=:all: --platform win_amd64 --python-version X``, once per
Python version, on this project's own wheel. pip evaluates dependency markers (``platform_system ==
"Windows"``) for the machine it runs on, not for ``--platform``, so Windows-only dependencies (pywin32 for
xlwings, colorama for tqdm) would be missing; the download therefore runs in a child pip whose marker
environment is that of the target (``_PIP_FOR_TARGET``, pip's private API: checked by a test that builds a
Windows bundle and finds them). A dependency published only as source is built here into a wheel once
(``SOURCE_ONLY``), so the office PC needs no compiler and no setuptools.

This is a maintainer's command: it runs from the project's source tree (it builds the project's wheel) and
needs the package index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from converter.syserrors import trim_detail

from . import PYTHONS as PYTHONS  # defined there, light for the command line

WINDOWS = "win_amd64"
NATIVE = "native"
PROJECT = "perfgoal"
WHEELS, TEMPLATES, GUIDE = "wheels", "templates", "安装说明.txt"
# Published only as an sdist, pure Python: pcodedmp (oletools → olevba, used to build the add-in) needs it on
# Windows.
SOURCE_ONLY = ("win-unicode-console",)
_SOURCE_PARTS = ("pyproject.toml", "README.md", "converter", "xl_addin", "macros")

_PIP_FOR_TARGET = r"""
import sys
import pip._vendor.packaging.markers as markers
version = sys.argv[1]
target = {"implementation_name": "cpython", "implementation_version": version + ".0", "os_name": "nt",
          "platform_machine": "AMD64", "platform_python_implementation": "CPython", "platform_release": "10",
          "platform_system": "Windows", "platform_version": "10.0.19045", "python_full_version": version + ".0",
          "python_version": version, "sys_platform": "win32"}
markers.default_environment = lambda: dict(target)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


class BundleError(Exception):
    """The bundle could not be made; ``str()`` is the Chinese reason. Nothing was left at the output."""


@dataclass(frozen=True)
class Bundle:
    folder: Path
    wheels: list[str]
    pythons: tuple[str, ...]
    platform: str


def source_tree() -> Path:
    """The project's source tree this package runs from (an editable install or a checkout)."""
    root = Path(__file__).resolve().parents[1]
    if not all((root / part).exists() for part in _SOURCE_PARTS):
        raise BundleError(f"请在本项目的源码目录中运行（需要 {'、'.join(_SOURCE_PARTS)}）：{root}")
    return root


def _pip(args: Sequence[str], what: str, child: str | None = None, version: str = "") -> None:
    command = [sys.executable, "-c", child, version, *args] if child else [sys.executable, "-m", "pip", *args]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
        detail = trim_detail(lines[-1] if lines else f"pip exit {done.returncode}", 200)
        raise BundleError(f"{what}失败（{detail}）")


def _project_wheel(wheels: Path, work: Path) -> Path:
    """This project's wheel, built from a copy of the source tree so the tree itself is not written to."""
    root = source_tree()
    copy = work / "source"
    copy.mkdir()
    for part in _SOURCE_PARTS:
        if (root / part).is_dir():
            shutil.copytree(root / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(root / part, copy / part)
    _pip(["wheel", "--no-deps", "--quiet", "-w", str(wheels), str(copy)], "生成本项目的安装文件")
    version = metadata.version(PROJECT)
    found = sorted(wheels.glob(f"{PROJECT}-*.whl"))
    if len(found) != 1:
        raise BundleError(f"生成本项目的安装文件失败（{version} 的 wheel 有 {len(found)} 个）")
    return found[0]


def _dependencies(wheels: Path, project: Path, platform: str, pythons: tuple[str, ...]) -> None:
    if platform == NATIVE:
        _pip(["download", "--only-binary=:all:", "--quiet", "--find-links", str(wheels), "-d", str(wheels),
              str(project)], "下载依赖包")
        return
    for name in SOURCE_ONLY:
        _pip(["wheel", "--no-deps", "--quiet", "-w", str(wheels), name], f"把 {name} 做成安装文件")
    for version in pythons:
        abi = "cp" + version.replace(".", "")
        _pip(["download", "--only-binary=:all:", "--quiet", "--platform", platform, "--python-version", version,
              "--implementation", "cp", "--abi", abi, "--find-links", str(wheels), "-d", str(wheels),
              str(project)], f"下载 Python {version}（{platform}）的依赖包", _PIP_FOR_TARGET, version)


def _templates(folder: Path) -> None:
    from converter.profile import load_profile, profile_names
    from converter.writers.xlsx import write_workbook

    folder.mkdir()
    for name in profile_names():
        write_workbook(folder / f"{name}.xlsx", [None], load_profile(name))


# The staff's own instructions, taken from the README's Chinese section so they are written once.
GUIDE_SECTIONS = ("安装（推荐用离线安装包）", "用虚拟环境（venv）或 conda 时：让加载项找到对的 Python", "信任设置",
                  "在 WPS、LibreOffice、网页版 Excel 或不能装 Python 的电脑上", "常见问题")


def _readme_section(readme: str, title: str) -> str:
    found = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^#{{2,3}} |^!\[|\Z)", readme, re.M | re.S)
    if not found:
        raise BundleError(f"README.md 中没有“{title}”一节，无法生成安装说明")
    return found[1].replace("**", "").replace("`", "").strip()


def guide(platform: str, pythons: tuple[str, ...], readme: str) -> str:
    """The Chinese install guide put beside the wheels: what the folder holds, then the README's sections."""
    from .addin import ADDIN_NAME

    target = "Windows 64 位" if platform == WINDOWS else "本机同类系统"
    head = f"""绩效目标申报表工具 离线安装包（{PROJECT} {metadata.version(PROJECT)}）

本文件夹：
  {WHEELS}\\        本工具及全部依赖的安装文件（{target}，Python {"、".join(pythons)}）
  {ADDIN_NAME}   Excel 加载项（使用 PATH 中的 python；建议按下面第 3 步在本机重新生成）
  {TEMPLATES}\\     各表式的空白申报表模板
  {GUIDE}    本说明
"""
    return "\n\n".join([head.rstrip(), *(f"【{t}】\n{_readme_section(readme, t)}" for t in GUIDE_SECTIONS)]) + "\n"


def build_bundle(out_dir: Path, platform: str = WINDOWS, pythons: Sequence[str] = PYTHONS) -> Bundle:
    """Make the bundle at ``out_dir``, which must not exist yet or be an empty folder. It is assembled beside
    it and moved into place at the end, so a failure leaves nothing half-made."""
    from .addin import Settings, build

    pythons = tuple(pythons) if platform != NATIVE else (f"{sys.version_info.major}.{sys.version_info.minor}",)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise BundleError(f"输出位置已存在且不是空文件夹，为免覆盖未做任何改动：{out_dir}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        with tempfile.TemporaryDirectory(prefix="perfgoal-bundle-") as work:
            wheels = staging / WHEELS
            wheels.mkdir()
            project = _project_wheel(wheels, Path(work))
            _dependencies(wheels, project, platform, pythons)
        build(staging, Settings())
        _templates(staging / TEMPLATES)
        readme = (source_tree() / "README.md").read_text(encoding="utf-8")
        (staging / GUIDE).write_bytes(guide(platform, pythons, readme).replace("\n", "\r\n").encode("utf-8-sig"))
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Bundle(out_dir, sorted(p.name for p in (out_dir / WHEELS).glob("*.whl")), pythons, platform)
