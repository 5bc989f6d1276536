"""The ``perfgoal`` command with the add-in's subcommand (``perfgoal addin build|vba``).

The converter's command knows no add-in; this module adds one subcommand to it, so the dependency runs one
way: xl_addin → converter.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

try:
    from converter import cli
except KeyboardInterrupt:  # Ctrl-C while the command is still loading its libraries: no trace either
    sys.stderr.write("已中断\n")
    raise SystemExit(130) from None


def cmd_addin(args: argparse.Namespace) -> int:
    if args.action == "vba":
        from .addin import MODULE, macro_text
        from .vba_wrappers import generate, with_wrappers

        cli.emit_text(with_wrappers(macro_text(f"{MODULE}.bas"), generate()))
        return cli.EXIT_OK
    from .addin import ADDIN_NAME, build

    if not args.output:
        cli.warn("请用 -o 指定输出目录")
        return cli.EXIT_UNREADABLE
    out_dir = Path(args.output)
    try:
        target = build(out_dir)
    except OSError as exc:
        return cli.cannot_write(out_dir / ADDIN_NAME, exc)
    cli.warn(f"已生成 {target}")
    return cli.EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    p = sub.add_parser("addin", help="生成 Excel 加载项（perfgoal.xlam）",
                       description="生成 Excel 加载项（perfgoal.xlam）")
    p.add_argument("action", choices=("build", "vba"), help="build：生成加载项；vba：输出带函数包装的 VBA 模块源码")
    p.add_argument("-o", "--output", metavar="DIR", help="加载项的输出目录")
    p.set_defaults(func=cmd_addin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
