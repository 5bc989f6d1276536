"""The ``perfgoal`` command with the add-in's subcommand (``perfgoal addin build|vba|customui|bundle``).

The converter's command knows no add-in; this module adds one subcommand to it, so the dependency runs one
way: xl_addin → converter.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import PYTHONS

try:
    from converter import cli
except KeyboardInterrupt:  # Ctrl-C while the command is still loading its libraries: no trace either
    sys.stderr.write("已中断\n")
    raise SystemExit(130) from None


def cmd_build(args: argparse.Namespace) -> int:
    from .addin import ADDIN_NAME, Settings, build, default_settings

    if args.conda_path is not None or args.conda_env is not None:
        if not (args.conda_path and args.conda_env):
            cli.warn("--conda-path 和 --conda-env 要一起指定（conda 的安装位置和环境名或环境路径）")
            return cli.EXIT_UNREADABLE
        if args.interpreter:
            cli.warn("--interpreter 与 --conda-path/--conda-env 只能选一种")
            return cli.EXIT_UNREADABLE
        settings = Settings(conda_path=args.conda_path, conda_env=args.conda_env)
    elif args.interpreter is not None:
        settings = Settings(interpreter=args.interpreter or None)  # "": use the python on PATH
    else:
        settings = default_settings()
    out_dir = Path(args.output)
    try:
        target = build(out_dir, settings)
    except OSError as exc:
        return cli.cannot_write(out_dir / ADDIN_NAME, exc)
    where = settings.interpreter or (f"conda 环境 {settings.conda_env}" if settings.conda_env else "PATH 中的 python")
    cli.warn(f"已生成 {target}（使用 {where}）")
    return cli.EXIT_OK


def cmd_vba(args: argparse.Namespace) -> int:
    from .ribbon_build import module_source
    from .vba_wrappers import generate

    cli.emit_text(module_source(generate()))
    return cli.EXIT_OK


def cmd_customui(args: argparse.Namespace) -> int:
    from .ribbon_build import custom_ui

    cli.emit_text(custom_ui())
    return cli.EXIT_OK


def cmd_bundle(args: argparse.Namespace) -> int:
    from .bundle import NATIVE, WINDOWS, BundleError, build_bundle

    out_dir = Path(args.output)
    try:
        made = build_bundle(out_dir, NATIVE if args.native else WINDOWS, args.python)
    except BundleError as exc:
        cli.warn(str(exc))
        return cli.EXIT_UNREADABLE
    except OSError as exc:
        return cli.cannot_write(out_dir, exc)
    cli.warn(f"已生成离线安装包 {made.folder}：{len(made.wheels)} 个安装文件（{made.platform}，"
             f"Python {'、'.join(made.pythons)}）")
    return cli.EXIT_OK


def _python_version(text: str) -> str:
    parts = text.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] != "3":
        raise argparse.ArgumentTypeError(f"不是 Python 版本号（应如 3.11）：{text}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    p = sub.add_parser("addin", help="生成 Excel 加载项（perfgoal.xlam）及其离线安装包",
                       description="生成 Excel 加载项（perfgoal.xlam）及其离线安装包")
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p), metavar="操作", title="操作")

    a = actions.add_parser("build", help="生成加载项", description="生成加载项 perfgoal.xlam")
    a.add_argument("-o", "--output", required=True, metavar="DIR", help="加载项的输出目录")
    a.add_argument("--interpreter", metavar="PATH",
                   help="加载项使用的 python.exe（虚拟环境填 …\\Scripts\\python.exe；填空字符串则用 PATH 中的 "
                        "python）；不指定时，在 Windows 上生成即使用正在运行的 Python")
    a.add_argument("--conda-path", metavar="DIR",
                   help="conda 的安装目录（如 C:\\Users\\张三\\miniconda3），与 --conda-env 一起用")
    a.add_argument("--conda-env", metavar="NAME", help="conda 环境的名称或完整路径")
    a.set_defaults(func=cmd_build)

    a = actions.add_parser("vba", help="输出加载项 VBA 模块的源码",
                           description="输出加载项 VBA 模块 RibbonMyAddin 的源码")
    a.set_defaults(func=cmd_vba)

    a = actions.add_parser("customui", help="输出功能区的 customUI.xml", description="输出功能区的 customUI.xml")
    a.set_defaults(func=cmd_customui)

    a = actions.add_parser("bundle", help="生成离线安装包（需联网下载依赖，在源码目录中运行）",
                           description="生成离线安装包：Windows 64 位各 Python 版本的全部安装文件、加载项、模板和"
                                       "中文安装说明")
    a.add_argument("-o", "--output", required=True, metavar="DIR", help="安装包文件夹（不能已存在且非空）")
    a.add_argument("--python", nargs="+", type=_python_version, default=list(PYTHONS), metavar="X.Y",
                   help=f"目标 Python 版本（默认 {' '.join(PYTHONS)}）")
    a.add_argument("--native", action="store_true", help="为本机的系统和 Python 生成（用于测试）")
    a.set_defaults(func=cmd_bundle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
