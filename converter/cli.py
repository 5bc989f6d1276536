"""``perfgoal``: the command line. Messages for users are Chinese; every bad input is one line, not a trace."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import canonical
from .atomic import WouldOverwriteInput, guard, write_text
from .findings import SEVERITY_LABELS, Severity, count_by_severity
from .profile import DEFAULT_PROFILE, profile_names
from .reading import DEFAULT_TIMEOUT, FileResult, read_files
from .rules import CATALOGUE

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNREADABLE, f"参数错误：{message}\n")


def _unreadable(result: FileResult) -> bool:
    return not result.readable or not result.declarations


def _report_unreadable(results: list[FileResult]) -> bool:
    bad = False
    for r in results:
        if _unreadable(r):
            bad = True
            for f in r.findings:
                print(f"{r.path}：{f.message}（{f.code}）", file=sys.stderr)
    return bad


def _output_names(results: list[FileResult]) -> list[tuple[Path, str]]:
    """One file name per declaration: ``<input stem>.json``, or ``-01``, ``-02``… when a file holds several."""
    taken: set[str] = set()
    out = []
    for r in results:
        stem = Path(r.path).stem
        for i, d in enumerate(r.declarations, 1):
            name = stem if len(r.declarations) == 1 else f"{stem}-{i:02d}"
            base, k = name, 2
            while name in taken:
                name, k = f"{base}-{k}", k + 1
            taken.add(name)
            out.append((Path(f"{name}.json"), canonical.dumps(d.declaration)))
    return out


def cmd_to_json(args: argparse.Namespace) -> int:
    inputs = [Path(p) for p in args.inputs]
    results = read_files([str(p) for p in inputs], run_rules=False)
    bad = _report_unreadable(results)
    if args.output:
        out_dir = Path(args.output)
        for name, text in _output_names(results):
            target = out_dir / name
            try:
                guard(target, inputs)
            except WouldOverwriteInput:
                print(f"{target}：输出文件与输入文件相同，已拒绝覆盖", file=sys.stderr)
                return EXIT_UNREADABLE
            write_text(target, text)
    else:
        sys.stdout.write(canonical.dumps_many(d.declaration for r in results for d in r.declarations))
    return EXIT_UNREADABLE if bad else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    results = read_files(list(args.inputs))
    findings = [f for r in results for f in r.all_findings()]
    if args.format == "json":
        sys.stdout.write(json.dumps([f.model_dump(mode="json") for f in findings], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    else:
        for r in results:
            for f in r.all_findings():
                print(f.as_text())
            counts = count_by_severity(r.all_findings())
            summary = "，".join(f"{SEVERITY_LABELS[s]} {counts[s]} 条" for s in Severity)
            print(f"== {r.path}：{len(r.declarations)} 份申报表，{summary}")
    if any(_unreadable(r) for r in results):
        if args.format == "json":
            _report_unreadable(results)
        return EXIT_UNREADABLE
    return EXIT_ERRORS if any(f.severity == Severity.ERROR for f in findings) else EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from .profile import UnknownProfileError, load_profile
    from .writers.xlsx import write_workbook

    try:
        profile = load_profile(args.profile)
    except UnknownProfileError:
        print(f"未知的表式版本“{args.profile}”（可用：{'、'.join(profile_names())}）", file=sys.stderr)
        return EXIT_UNREADABLE
    write_workbook(Path(args.output), [None], profile)
    return EXIT_OK


def cmd_to_xlsx(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .writers.xlsx import MixedProfilesError, write_workbook

    source, target = Path(args.input), Path(args.output)
    try:
        guard(target, [source])
    except WouldOverwriteInput:
        print(f"{target}：输出文件与输入文件相同，已拒绝覆盖", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        declarations = canonical.loads(source.read_bytes())
    except OSError as exc:
        print(f"{source}：文件无法读取（{exc.strerror}）", file=sys.stderr)
        return EXIT_UNREADABLE
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        print(f"{source}：不是有效的申报表 JSON{f'（{where}）' if where else ''}", file=sys.stderr)
        return EXIT_UNREADABLE
    unknown = sorted({d.profile for d in declarations} - set(profile_names()))
    if unknown:
        print(f"{source}：未知的表式版本“{'、'.join(unknown)}”", file=sys.stderr)
        return EXIT_UNREADABLE
    if not declarations:
        print(f"{source}：JSON 中没有申报表", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        write_workbook(target, declarations)
    except MixedProfilesError:
        print(f"{source}：同一工作簿中的申报表须使用同一表式版本，请分开转换", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK


def cmd_bulk(args: argparse.Namespace) -> int:
    from .bulk import run_bulk

    in_dir, out_dir = Path(args.input_dir), Path(args.output)
    if not in_dir.is_dir():
        print(f"{in_dir}：不是文件夹", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        report = run_bulk(in_dir, out_dir, jobs=args.jobs, executor=args.executor, address=args.dask_address,
                          timeout=args.timeout)
    except OSError as exc:
        print(f"{out_dir}：无法写入输出（{exc.strerror or exc}）", file=sys.stderr)
        return EXIT_UNREADABLE
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"已处理 {report.files} 个文件，{report.declarations} 份申报表；结果在 {out_dir}", file=sys.stderr)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(canonical.json_schema(), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    for r in CATALOGUE.values():
        source = f"（依据：{r.source}）" if r.source else ""
        print(f"{r.code}\t{SEVERITY_LABELS[r.severity]}\t{r.title}{source}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfgoal", description="财政项目支出绩效目标申报表：读取、校验、转换")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("to-json", help="读取申报表，输出规范 JSON")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="申报表文件（.xlsx/.xlsm/.xls/.ods/.txt）")
    p.add_argument("-o", "--output", metavar="DIR", help="每份申报表写成一个 JSON 文件到此目录")
    p.set_defaults(func=cmd_to_json)

    p = sub.add_parser("check", help="按规则校验申报表")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("template", help="生成空白申报表模板（.xlsx）")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    p.add_argument("--profile", default=DEFAULT_PROFILE, help=f"表式版本（{'、'.join(profile_names())}）")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("to-xlsx", help="把规范 JSON 填入模板（数组则每份一张工作表）")
    p.add_argument("input", metavar="IN.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.xlsx")
    p.set_defaults(func=cmd_to_xlsx)

    p = sub.add_parser("bulk", help="批量转换文件夹中的申报表，输出 JSON、问题清单和汇总表")
    p.add_argument("input_dir", metavar="IN_DIR")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR")
    p.add_argument("--jobs", type=int, default=(os.cpu_count() or 1) + 1,
                   help="并行进程数（默认为处理器核数加一：读文件时的等待可由另一进程补上）")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="在本机或 Dask 集群上运行")
    p.add_argument("--dask-address", metavar="ADDR", help="已有 Dask 集群的调度器地址（不填则启动本机集群）")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="每个文件的处理时限（秒）")
    p.set_defaults(func=cmd_bulk)

    p = sub.add_parser("schema", help="输出规范 JSON 的 JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("rules", help="列出全部校验规则")
    p.set_defaults(func=cmd_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
