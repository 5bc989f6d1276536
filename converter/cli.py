"""``perfgoal``: the command line. Messages for users are Chinese; every bad input is one line, not a trace.

Every command answers with a message and an exit code, whatever happens: a bad option value, an output
that cannot be written, a JSON file of any depth, a closed or full stdout, a console that cannot show a
character, Ctrl-C. JSON goes to stdout as UTF-8 bytes whatever the console's encoding (the bytes are what
a redirect saves); text output replaces what the console cannot show.

Start-up is part of every command's time (``perfgoal check`` on one form is mostly start-up), so this module
imports only what parsing the command line needs — the standard library and the light ``options``,
``profile_files`` and ``severity`` — and each command imports its own machinery (the model, the readers,
XlsxWriter, openpyxl, Dask; pydantic only for ``schema`` and JSON input) when it runs: ``--help``, ``rules`` and
``schema`` never load the readers.
``tests/test_startup.py`` holds every command to that; ``bench/startup.py`` times them.
"""

from __future__ import annotations

import argparse
import errno
import io
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .options import DEFAULT_TIMEOUT, EXECUTORS, MAX_JOBS, MAX_TIMEOUT, MIN_TIMEOUT
from .profile_files import DEFAULT_PROFILE, profile_names, unknown_profile
from .severity import SEVERITY_LABELS, SEVERITY_RANK, Severity, tally

if TYPE_CHECKING:
    from .findings import Finding
    from .reading import FileResult

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "PERFGOAL_DEBUG"  # set to 1 to see the Python trace of an internal error
DEBUG_HINT = f"（设置环境变量 {DEBUG_ENV}=1 可看到详细的出错位置）"  # how an internal error's message ends


def debug_wanted() -> bool:
    """Whether an internal error is to go on as a Python trace (``DEBUG_ENV``), for whoever maintains the tool."""
    return os.environ.get(DEBUG_ENV) == "1"


# pydantic looks for plugins the first time it builds a model: a scan of the entry points of every installed
# distribution, 2–3 ms of every command that uses it (``schema``, JSON input; reading and checking do not), for
# plugins this program never uses (importing ``importlib.metadata`` for it, ~15 ms, pydantic does whatever the
# setting). The variable is pydantic's own switch; it is set here, before any command imports pydantic, and only
# when the user has not set it (``PYDANTIC_DISABLE_PLUGINS=`` — empty — loads them again). Workers inherit it.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


# --- output --------------------------------------------------------------------------------------------


class StdoutUnavailable(Exception):
    """The command's output cannot be delivered: stdout is closed, full, or its reader has gone."""

    def __init__(self, error: OSError | None = None) -> None:
        super().__init__(str(error) if error else "closed")
        self.error = error


def warn(message: str) -> None:
    """One line on stderr, and nothing at all when stderr is closed (``print(file=None)`` would write the
    message to stdout, into the JSON a user is saving)."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(message + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _stdout() -> TextIO:
    if sys.stdout is None:  # started with stdout closed (``perfgoal schema >&-``)
        raise StdoutUnavailable()
    return sys.stdout


def emit_text(text: str) -> None:
    """Text for a person: what the console's encoding cannot show is replaced (see ``_prepare_streams``)."""
    out = _stdout()
    try:
        out.write(text)
    except OSError as exc:
        raise StdoutUnavailable(exc) from exc


def say(line: str) -> None:
    emit_text(line + "\n")


def emit_json(text: str) -> None:
    """JSON as UTF-8 bytes whatever the console's encoding: on Chinese Windows a redirected stdout is cp936,
    which has no ``²``, and what a redirect saves must be the canonical bytes anyway."""
    out = _stdout()
    try:
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            out.write(text)
        else:
            buffer.write(text.encode("utf-8", "replace"))
    except OSError as exc:
        raise StdoutUnavailable(exc) from exc


def _prepare_streams() -> None:
    """Text output replaces characters the console cannot encode instead of failing on them; a closed
    stdout or stderr keeps its descriptor taken (by the null device), so that no file this program opens
    lands on descriptor 1 or 2 where a worker's stray output would corrupt it."""
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if stream is None:
            try:
                os.fstat(fd)
            except OSError:
                null = os.open(os.devnull, os.O_WRONLY)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # for code that writes to it unasked
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")


def _flush_stdout() -> None:
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except OSError as exc:
            raise StdoutUnavailable(exc) from exc


def _abandon_stdout() -> None:
    """Point descriptor 1 at the null device, so the interpreter's own last flush of what is still buffered
    cannot fail again (and print "Exception ignored…"), as the Python documentation recommends."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def _stdout_failed(problem: StdoutUnavailable) -> int:
    from .syserrors import os_reason

    _abandon_stdout()
    error = problem.error
    if isinstance(error, BrokenPipeError):  # ``perfgoal check … | head``: the reader had what it wanted
        return EXIT_OK
    if error is None or error.errno == errno.EBADF:
        warn("无法输出结果：标准输出已关闭")
    else:
        warn(f"无法输出结果：写入标准输出失败，{os_reason(error)}")
    return EXIT_UNREADABLE


def cannot_write(path: Path, exc: OSError) -> int:
    from .syserrors import os_reason

    warn(f"{path}：无法写入，{os_reason(exc)}")
    return EXIT_UNREADABLE


# --- commands ------------------------------------------------------------------------------------------


def _unreadable(result: FileResult) -> bool:
    return not result.readable or not result.declarations


def _report_unreadable(results: list[FileResult]) -> bool:
    bad = False
    for r in results:
        if _unreadable(r):
            bad = True
            for f in r.findings:
                warn(f"{r.path}：{f.message}（{f.code}）")
    return bad


def _output_names(results: list[FileResult]) -> list[tuple[Path, str]]:
    """One file name per declaration: ``<input stem>.json``, or ``-01``, ``-02``… when a file holds several."""
    from . import canonical

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
    from . import canonical
    from .atomic import WouldOverwriteInput, guard, write_text
    from .reading import read_files

    inputs = [Path(p) for p in args.inputs]
    results = read_files([str(p) for p in inputs], run_rules=False, timeout=args.timeout, profile=args.profile)
    bad = _report_unreadable(results)
    # A cell the reader could not read is empty in the JSON: say which, so no null is silent.
    unread = [f for r in results for d in r.declarations for f in d.findings if f.severity == Severity.ERROR]
    for f in unread:
        warn(f.as_text())
    if args.output:
        out_dir = Path(args.output)
        for name, text in _output_names(results):
            target = out_dir / name
            try:
                guard(target, inputs)
                write_text(target, text)
            except WouldOverwriteInput:
                warn(f"{target}：输出文件与输入文件相同，已拒绝覆盖")
                return EXIT_UNREADABLE
            except OSError as exc:
                return cannot_write(target, exc)
    else:
        emit_json(canonical.dumps_many(d.declaration for r in results for d in r.declarations))
    return EXIT_UNREADABLE if bad else EXIT_ERRORS if unread else EXIT_OK


def _profiles_of(result: FileResult) -> str:
    names = list(dict.fromkeys(d.declaration.profile for d in result.declarations))
    return f"（表式：{'、'.join(names)}）" if names else ""


_MIN_SEVERITY = {s.value: s for s in Severity}
_CELL_WIDTH = 8  # the place column of a finding line: D19, AA123, 第31行


def _shown(f: Finding, least: Severity) -> bool:
    return SEVERITY_RANK[f.severity] <= SEVERITY_RANK[least]


def _counts(findings: list[Finding]) -> str:
    from .findings import count_by_severity

    return tally(count_by_severity(findings))


def _finding_line(f: Finding) -> str:
    """One finding under its file and declaration: where (a text export's line as 第N行), how bad, what."""
    from .places import place_text
    from .sheettext import text_width

    place = place_text(f.sheet, f.cell) or ""
    pad = " " * max(1, _CELL_WIDTH - text_width(place))
    return f"    {place}{pad}{SEVERITY_LABELS[f.severity]} {f.code} {f.message}"


def _declaration_heading(sheet: str | None, project: str | None) -> str:
    """The sheet and project a group of findings is about, each named once (a sheet is often named after its
    project)."""
    name = f"项目“{project}”" if project else "项目（未填写名称）"
    if sheet is None:
        return f"  {name}"
    return f"  {name}（工作表同名）" if sheet == project else f"  工作表“{sheet}”，{name}"


def _check_text(results: list[FileResult], least: Severity) -> None:
    """Findings grouped per file and declaration, in sheet and cell order; a line per file and a total."""
    from .places import finding_order

    for r in results:
        if not r.declarations:
            first = r.findings[0] if r.findings else None
            say(f"== {r.path}：{first.message}（{first.code}）" if first else f"== {r.path}：未找到申报表")
            for f in r.findings[1:]:
                say(_finding_line(f))
            continue
        say(f"== {r.path}：{len(r.declarations)} 份申报表{_profiles_of(r)}，{_counts(r.all_findings())}")
        for f in sorted((f for f in r.findings if _shown(f, least)), key=finding_order):
            say(_finding_line(f))
        for d in r.declarations:
            listed = sorted((f for f in d.findings if _shown(f, least)), key=finding_order)
            if listed:
                say(_declaration_heading(d.sheet, d.declaration.project.name))
                for f in listed:
                    say(_finding_line(f))
    everything = [f for r in results for f in r.all_findings()]
    hidden = [s for s in Severity if SEVERITY_RANK[s] > SEVERITY_RANK[least]]
    unlisted = sum(f.severity in hidden for f in everything)
    note = (f"（{'、'.join(SEVERITY_LABELS[s] for s in hidden)}未列出，加 --min-severity "
            f"{hidden[-1].value} 可列出）" if unlisted else "")
    declarations = [d for r in results for d in r.declarations]
    by_profile = Counter(d.declaration.profile for d in declarations).most_common()  # the usual form first
    profiles = "、".join(f"{name} {n} 份" for name, n in by_profile)
    say(f"合计：{len(results)} 个文件，{len(declarations)} 份申报表{f'（表式：{profiles}）' if profiles else ''}，"
        f"{_counts(everything)}{note}")


def cmd_check(args: argparse.Namespace) -> int:
    """Text for a console (``--min-severity``, default warning and up; info is counted, not listed) or every
    finding as JSON (all of them unless ``--min-severity`` is given); the exit code counts every error."""
    import json

    from .reading import read_files

    results = read_files(list(args.inputs), timeout=args.timeout, profile=args.profile)
    findings = [f for r in results for f in r.all_findings()]
    if args.format == "json":
        least = _MIN_SEVERITY[args.min_severity or "info"]
        shown = [f for f in findings if _shown(f, least)]
        emit_json(json.dumps([f.as_json() for f in shown], ensure_ascii=False, indent=2) + "\n")
    else:
        _check_text(results, _MIN_SEVERITY[args.min_severity or "warning"])
    if any(_unreadable(r) for r in results):
        if args.format == "json":
            _report_unreadable(results)
        return EXIT_UNREADABLE
    return EXIT_ERRORS if any(f.severity == Severity.ERROR for f in findings) else EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from .profile import load_profile
    from .writers.xlsx import write_workbook

    target = Path(args.output)
    try:
        write_workbook(target, [None], load_profile(args.profile), year=args.year)
    except OSError as exc:
        return cannot_write(target, exc)
    return EXIT_OK


def cmd_to_xlsx(args: argparse.Namespace) -> int:
    from .atomic import WouldOverwriteInput, guard
    from .json_input import JsonRejected, load_declarations
    from .profile import load_profile
    from .syserrors import os_reason
    from .writers.xlsx import MixedProfilesError, unplaceable, write_workbook

    source, target = Path(args.input), Path(args.output)
    try:
        guard(target, [source])
    except WouldOverwriteInput:
        warn(f"{target}：输出文件与输入文件相同，已拒绝覆盖")
        return EXIT_UNREADABLE
    try:
        declarations = load_declarations(source)
    except OSError as exc:
        warn(f"{source}：文件无法读取，{os_reason(exc)}")
        return EXIT_UNREADABLE
    except JsonRejected as exc:
        warn(f"{source}：{exc}")
        return EXIT_UNREADABLE
    lost = [f"第{i + 1}份：{'、'.join(paths[:5])}{'等' if len(paths) > 5 else ''}"
            for i, d in enumerate(declarations) if (paths := unplaceable(d, load_profile(d.profile)))]
    if lost:
        warn(f"{source}：以下内容在该表式的申报表中没有位置，为免丢失，未生成工作簿（{'；'.join(lost)}）")
        return EXIT_UNREADABLE
    try:
        write_workbook(target, declarations)
    except MixedProfilesError:
        warn(f"{source}：同一工作簿中的申报表须使用同一表式版本，请分开转换")
        return EXIT_UNREADABLE
    except OSError as exc:
        return cannot_write(target, exc)
    return EXIT_OK


def cmd_bulk(args: argparse.Namespace) -> int:
    from .bulk import BulkRefused, run_bulk
    from .feedback import FEEDBACK_DIR
    from .syserrors import os_reason

    out_dir = Path(args.output)
    try:
        # run_bulk refuses what cannot make a sound run (an output folder equal to the input, outputs there
        # that are not ours, a full disk) with a Chinese message and the earlier outputs as they were.
        report = run_bulk(Path(args.input_dir), out_dir, jobs=args.jobs, executor=args.executor,
                          address=args.dask_address, timeout=args.timeout, profile=args.profile,
                          feedback=args.feedback)
    except BulkRefused as exc:
        warn(str(exc))
        return EXIT_UNREADABLE
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) and exc.filename else out_dir
        warn(f"{where}：无法写入输出，{os_reason(exc)}")
        return EXIT_UNREADABLE
    skipped = f"（其中 {report.skipped} 个未读取，原因见汇总表）" if report.skipped else ""
    copies = f"，{report.copies} 份反馈副本在 {FEEDBACK_DIR}/ 中" if args.feedback else ""
    warn(f"已处理 {report.files} 个文件{skipped}，{report.declarations} 份申报表{copies}；结果在 {out_dir}")
    if report.copies_failed:
        warn(f"以下文件未能生成反馈副本（其转换结果不受影响）：{'、'.join(report.copies_failed)}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from . import canonical

    emit_json(json.dumps(canonical.json_schema(), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from .profile import load_profile
    from .rules import CATALOGUE, rule_source

    profile = load_profile(args.profile) if args.profile else None
    for r in CATALOGUE.values():
        cited = rule_source(r, profile)
        source = f"（依据：{cited}）" if cited else ""
        say(f"{r.code}\t{SEVERITY_LABELS[r.severity]}\t{r.title}{source}")
    return EXIT_OK


# --- options -------------------------------------------------------------------------------------------


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数，收到“{text}”") from None
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"应在 1 到 {MAX_JOBS} 之间，收到 {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为秒数，收到“{text}”") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"应为大于 0 的有限秒数，收到“{text}”")
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:  # 1e-300 would time every file out; a week is no limit at all
        raise argparse.ArgumentTypeError(f"应在 {MIN_TIMEOUT:g} 到 {MAX_TIMEOUT:g} 秒之间，收到“{text}”")
    return value


def _year(text: str) -> int:
    from .model import YEAR_MAX, YEAR_MIN

    if not text.strip().isdigit() or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise argparse.ArgumentTypeError(f"应为 {YEAR_MIN}–{YEAR_MAX} 之间的四位年度，收到“{text}”")
    return int(text)


def _profile_name(text: str) -> str:
    if text not in profile_names():
        raise argparse.ArgumentTypeError(unknown_profile(text))
    return text


def _default_jobs() -> int:
    return min(MAX_JOBS, (os.cpu_count() or 1) + 1)


# argparse's own messages, in Chinese (pattern of the English text, Chinese template of its groups). Patterns
# are compiled when a message is translated (``re`` caches them), not on every start.
_ARGPARSE_MESSAGES = (
    (r"the following arguments are required: (.*)", "缺少必需的参数：{0}"),
    (r"unrecognized arguments: (.*)", "无法识别的参数：{0}"),
    (r"invalid choice: (.*?) \(choose from (.*)\)", "取值 {0} 无效（可选：{1}）"),
    (r"invalid \S+ value: (.*)", "取值 {0} 无效"),
    (r"expected one argument", "后面缺少取值"),
    (r"expected at least one argument", "后面至少需要一个取值"),
    (r"expected at most one argument", "后面最多只能有一个取值"),
    (r"expected (\d+) arguments?", "后面需要 {0} 个取值"),
    (r"ambiguous option: (\S+) could match (.*)", "选项 {0} 有歧义，可能是：{1}"),
    (r"not allowed with argument (.*)", "不能与 {0} 同时使用"),
    (r"one of the arguments (.*) is required", "须给出 {0} 之一"),
)


def _chinese_argparse(message: str) -> str:
    name = None
    prefixed = re.fullmatch(r"argument (.+?): (.*)", message, re.DOTALL)
    if prefixed:
        name, message = prefixed.groups()
    for pattern, template in _ARGPARSE_MESSAGES:
        found = re.fullmatch(pattern, message)
        if found:
            message = template.format(*found.groups())
            break
    return f"{name}：{message}" if name else message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese headings, help and errors (exit 2 with one ``参数错误`` line)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNREADABLE, f"参数错误：{_chinese_argparse(message)}\n")


def _add_reading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", type=_profile_name, metavar="NAME",
                   help=f"按指定表式版本读取（{'、'.join(profile_names())}；默认按文件内容判断）")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"每个文件的读取时限（秒，默认 {DEFAULT_TIMEOUT:g}）")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfgoal", description="财政项目支出绩效目标申报表：读取、校验、转换")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="命令",
                                title="命令")

    p = sub.add_parser("to-json", help="读取申报表，输出规范 JSON", description="读取申报表，输出规范 JSON")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="申报表文件（.xlsx/.xlsm/.xls/.ods/.txt）")
    p.add_argument("-o", "--output", metavar="DIR", help="每份申报表写成一个 JSON 文件到此目录")
    _add_reading_options(p)
    p.set_defaults(func=cmd_to_json)

    p = sub.add_parser("check", help="按规则校验申报表", description="按规则校验申报表")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="申报表文件")
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式")
    p.add_argument("--min-severity", choices=tuple(_MIN_SEVERITY), metavar="LEVEL",
                   help="只列出该级别及以上的问题：error（错误）、warning（警告）或 info（提示）；"
                        "文本输出默认 warning（提示只计数），JSON 默认全部")
    _add_reading_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("template", help="生成空白申报表模板（.xlsx）", description="生成空白申报表模板（.xlsx）")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help="模板的输出文件")
    p.add_argument("--profile", type=_profile_name, default=DEFAULT_PROFILE, metavar="NAME",
                   help=f"表式版本（{'、'.join(profile_names())}；默认 {DEFAULT_PROFILE}）")
    p.add_argument("--year", type=_year, metavar="Y", help="预先填入的申报年度（如 2027；日期校验随年度单元格）")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("to-xlsx", help="把规范 JSON 填入模板（数组则每份一张工作表）",
                       description="把规范 JSON 填入模板（数组则每份一张工作表）")
    p.add_argument("input", metavar="IN.json", help="规范 JSON 文件")
    p.add_argument("-o", "--output", required=True, metavar="OUT.xlsx", help="输出的工作簿")
    p.set_defaults(func=cmd_to_xlsx)

    p = sub.add_parser("bulk", help="批量转换文件夹中的申报表，输出 JSON、问题清单和汇总表",
                       description="批量转换文件夹中的申报表，输出 JSON、问题清单和汇总表")
    p.add_argument("input_dir", metavar="IN_DIR", help="收到的申报表所在的文件夹（含子文件夹）")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="输出文件夹（不能与输入文件夹相同）")
    p.add_argument("--jobs", type=_jobs, default=_default_jobs(), metavar="N",
                   help=f"并行进程数，1 到 {MAX_JOBS}（默认为处理器核数加一：读文件时的等待可由另一进程补上）")
    p.add_argument("--executor", choices=EXECUTORS, default="local", help="在本机或 Dask 集群上运行")
    p.add_argument("--dask-address", metavar="ADDR", help="已有 Dask 集群的调度器地址（不填则启动本机集群）")
    p.add_argument("--feedback", action="store_true",
                   help="另为每个收到的工作簿生成标注了问题的副本（OUT_DIR/反馈/，目录结构同输入）：出错单元格标色、"
                        "加批注，并附“校验结果”工作表；较慢，默认不生成")
    _add_reading_options(p)
    p.set_defaults(func=cmd_bulk)

    p = sub.add_parser("schema", help="输出规范 JSON 的 JSON Schema", description="输出规范 JSON 的 JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("rules", help="列出全部校验规则", description="列出全部校验规则及其依据")
    p.add_argument("--profile", type=_profile_name, metavar="NAME",
                   help=f"按该表式列出各规则的依据（{'、'.join(profile_names())}）")
    p.set_defaults(func=cmd_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse and run one command; whatever goes wrong ends as a Chinese line and an exit code."""
    _prepare_streams()
    try:
        args = parser.parse_args(argv)
        code: int = args.func(args)
        _flush_stdout()
    except KeyboardInterrupt:
        warn("已中断")
        return EXIT_INTERRUPTED
    except StdoutUnavailable as problem:
        return _stdout_failed(problem)
    except MemoryError:
        warn("内存不足，已停止")
        return EXIT_UNREADABLE
    except Exception as exc:
        if debug_wanted():
            raise
        from .syserrors import os_phrase, trim_detail

        reason = os_phrase(exc) if isinstance(exc, OSError) else type(exc).__name__
        warn(f"内部错误（{reason}：{trim_detail(str(exc))}），已停止；请把这一行告诉维护人员{DEBUG_HINT}")
        return EXIT_UNREADABLE
    return code


if __name__ == "__main__":
    sys.exit(main())
