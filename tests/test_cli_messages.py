"""Every command answers with a Chinese message and an exit code, never a Python trace: narrow console
encodings, outputs that cannot be written, hostile JSON, closed or full stdout, bad option values, reader
errors, encrypted files told by content. Each case runs the installed ``perfgoal`` as a user would."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import olefile
import pytest
import python_calamine

from converter.profile import profile_names
from converter.reading import read_file, reader_reason
from converter.syserrors import trim_detail
from xl_addin import cfb

from . import lo
from .conftest import SAMPLE
from .shared import CORPUS, needs_corpus

PERFGOAL = shutil.which("perfgoal", path=str(Path(sys.executable).parent)) or "perfgoal"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WORKBOOKS = sorted(EXAMPLES.glob("*.xlsx"))
TEXT_EXPORT = EXAMPLES / "declarations-2020.txt"
CHINESE = re.compile(r"[\u3400-\u9fff]")


def run(*args: str | Path, encoding: str = "utf-8", stdin: int | None = subprocess.DEVNULL,
        shell_redirect: str = "") -> subprocess.CompletedProcess[bytes]:
    """``perfgoal ARGS`` with stdout in ``encoding`` (as on a console or a redirect there); output as bytes.
    ``shell_redirect`` (``>&-``, ``> /dev/full``) runs it through the shell with that redirection."""
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    env.pop("PERFGOAL_DEBUG", None)
    argv = [PERFGOAL, *map(str, args)]
    if shell_redirect:
        command = " ".join(subprocess.list2cmdline([a]) for a in argv) + " " + shell_redirect
        return subprocess.run(["sh", "-c", command], capture_output=True, env=env, stdin=stdin, timeout=300)
    return subprocess.run(argv, capture_output=True, env=env, stdin=stdin, timeout=300)


def stderr_of(out: subprocess.CompletedProcess[bytes]) -> str:
    """stderr is in the encoding the run was given: UTF-8 unless a cp936 run wrote it (ascii ones escape)."""
    try:
        return out.stderr.decode("utf-8")
    except UnicodeDecodeError:
        return out.stderr.decode("gb18030", "replace")


def assert_answered(out: subprocess.CompletedProcess[bytes], code: int, *words: str) -> str:
    """Exit ``code``, no trace, and a Chinese line on stderr holding each of ``words``."""
    err = stderr_of(out)
    assert out.returncode == code, (out.returncode, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    for word in words:
        assert word in err, (word, err)
    if words:
        line = [ln for ln in err.splitlines() if words[0] in ln][-1]  # the message, not the usage above it
        assert CHINESE.search(line), line
    return err


# --- narrow console encodings ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def canonical_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What ``to-json`` prints for the bundled examples on a UTF-8 console: the bytes every console must get."""
    out = run("to-json", *WORKBOOKS, TEXT_EXPORT)
    assert out.returncode == 0, stderr_of(out)
    assert "²".encode() in out.stdout  # the character cp936 cannot encode is really in the output
    return out.stdout


@pytest.mark.parametrize("encoding", ["cp936", "ascii"])
def test_every_command_runs_on_a_console_that_cannot_show_every_character(
        encoding: str, tmp_path: Path, canonical_json: bytes) -> None:
    """On Chinese Windows a redirected stdout is cp936, which has no ``²`` (m²): JSON is still written,
    byte for byte as on a UTF-8 console; text output shows what it can."""
    # JSON on stdout is UTF-8 whatever the console says.
    to_json = run("to-json", *WORKBOOKS, TEXT_EXPORT, encoding=encoding)
    assert_answered(to_json, 0)
    assert to_json.stdout == canonical_json
    schema = run("schema", encoding=encoding)
    assert_answered(schema, 0)
    assert json.loads(schema.stdout.decode("utf-8"))["$schema"].endswith("2020-12/schema")
    findings = run("check", *WORKBOOKS, TEXT_EXPORT, "--format", "json", encoding=encoding)
    assert_answered(findings, 1)
    assert any("m²" in f["message"] or "m ²" in f["message"] or f["severity"] == "error"
               for f in json.loads(findings.stdout.decode("utf-8")))
    # Text output in the console's encoding, with what it cannot show replaced.
    check = run("check", *WORKBOOKS, TEXT_EXPORT, encoding=encoding)
    assert_answered(check, 1)
    lines = check.stdout.decode(encoding).splitlines()
    assert sum(ln.startswith("== ") for ln in lines) == len(WORKBOOKS) + 1
    if encoding == "cp936":
        assert "表式：shanghai-2020" in lines[-1]
    rules = run("rules", encoding=encoding)
    assert_answered(rules, 0)
    assert "I007" in rules.stdout.decode(encoding)
    vba = run("addin", "vba", encoding=encoding)
    assert_answered(vba, 0)
    assert "Function PG_CHECK_INDICATOR" in vba.stdout.decode(encoding)
    # Commands that write files say what they did on stderr, whatever its encoding.
    (tmp_path / "in").mkdir()
    shutil.copy(WORKBOOKS[0], tmp_path / "in")
    one = tmp_path / "one.json"
    one.write_bytes(run("to-json", WORKBOOKS[0]).stdout)
    commands: list[tuple[str | Path, ...]] = [
        ("template", "-o", tmp_path / "t.xlsx"),
        ("to-xlsx", one, "-o", tmp_path / "one.xlsx"),
        ("to-json", *WORKBOOKS, "-o", tmp_path / "json"),
        ("bulk", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "1"),
        ("addin", "build", "-o", tmp_path / "addin"),
    ]
    for args in commands:
        assert_answered(run(*args, encoding=encoding), 0)
    assert (tmp_path / "t.xlsx").is_file() and (tmp_path / "one.xlsx").is_file()
    assert (tmp_path / "addin" / "perfgoal.xlam").is_file() and (tmp_path / "out" / "findings.csv").is_file()
    assert len(list((tmp_path / "json").iterdir())) == len(WORKBOOKS)


# --- outputs that cannot be written ------------------------------------------------------------------


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process may not write into: read-only for a normal user; for root (who ignores
    permissions) a folder of sysfs, where even root may not create files."""
    if os.geteuid() != 0:
        folder = tmp_path / "只读"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if not Path("/sys/kernel").is_dir():
        pytest.skip("running as root without sysfs: no folder here refuses root")
    return Path("/sys/kernel")


@pytest.mark.parametrize("case", ["read-only folder", "existing folder", "name too long", "parent is a file"])
def test_write_errors_are_one_chinese_line_naming_the_path(case: str, tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_bytes(run("to-json", WORKBOOKS[0]).stdout)
    (tmp_path / "a file").write_text("x", encoding="utf-8")
    (tmp_path / "in").mkdir()
    shutil.copy(WORKBOOKS[0], tmp_path / "in")
    reason: tuple[str, ...]
    if case == "read-only folder":
        where, reason = _unwritable_folder(tmp_path), ("没有访问权限", "操作不被允许", "只读")
    elif case == "name too long":
        where, reason = tmp_path / ("长" * 200), ("过长",)
    elif case == "parent is a file":
        where, reason = tmp_path / "a file" / "sub", ("不是文件夹",)
    else:
        where, reason = tmp_path, ("文件夹",)
        for name in ("t.xlsx", "one.xlsx", "perfgoal.xlam"):
            (tmp_path / name).mkdir()  # the output's name is taken by a folder
    outputs = {
        "template": (("template", "-o", where / "t.xlsx"), where / "t.xlsx"),
        "to-xlsx": (("to-xlsx", one, "-o", where / "one.xlsx"), where / "one.xlsx"),
        "addin build": (("addin", "build", "-o", where), where / "perfgoal.xlam"),
    }
    if case != "existing folder":
        outputs["to-json"] = (("to-json", WORKBOOKS[0], "-o", where / "json"), where / "json")
        outputs["bulk"] = (("bulk", tmp_path / "in", "-o", where / "out", "--jobs", "1"), where / "out")
    for command, (args, named) in outputs.items():
        out = run(*args)
        err = assert_answered(out, 2)
        line = err.strip().splitlines()[-1]
        assert str(named) in line or str(named.parent) in line, (command, line)
        assert any(r in line for r in reason), (command, line)
        assert CHINESE.match(line.split("：", 1)[1]), (command, line)
    assert (tmp_path / "a file").read_text(encoding="utf-8") == "x"


# --- hostile JSON for to-xlsx ------------------------------------------------------------------------


@functools.cache
def _declaration_json() -> str:
    data: list[dict[str, object]] = json.loads(run("to-json", WORKBOOKS[0]).stdout)
    return json.dumps(data[0], ensure_ascii=False)


def _with(path: tuple[str, ...], value: object) -> Callable[[], bytes]:
    """The first example's declaration with one value replaced (built when the test runs, not when collected)."""
    def build() -> bytes:
        data = json.loads(_declaration_json())
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return json.dumps(data).encode()
    return build


def _raw(data: bytes) -> Callable[[], bytes]:
    return lambda: data


HOSTILE_JSON: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "deep nesting": (_raw(b"[" * 100_000 + b"]" * 100_000), ("嵌套层数过多", "第 1 行第 101 列")),
    "deep nesting in an object": (_raw(b'{"a": ' * 50_000 + b"1" + b"}" * 50_000), ("嵌套层数过多",)),
    "huge amount as text": (_with(("budget", "total"), "1e999999999"), ("数值过大", "budget.total")),
    "huge amount as number": (_with(("budget", "total"), 10 ** 400), ("数值过大", "budget.total")),
    "infinite amount": (_with(("budget", "total"), 1e999), ("budget.total",)),
    "too many digits": (_raw(b'{"year": ' + b"9" * 5000 + b"}"), ("位数过多", "第 1 行第 10 列")),
    "lone surrogate": (_with(("unit_name",), "\ud800"), ("孤立的代理项", "unit_name")),
    "lone surrogate in a key": (_raw(b'{"\\udc80": 1}'), ("孤立的代理项",)),
    "not UTF-8": (_raw('{"unit_name": "上海"}'.encode("gb18030")), ("不是 UTF-8", "第 1 行")),
    "broken JSON": (_raw(b'{\n  "year": 2020,\n  "profile" "x"\n}'), ("缺少冒号", "第 3 行第 13 列")),
    "a number": (_raw(b"5"), ("不是有效的申报表", "最外层")),
    "not a declaration": (_raw(b'{"a": 1}'), ("不是有效的申报表", "位置：")),
    "a wrong type": (_with(("year",), "二〇二〇"), ("应为整数", "year")),
    "an empty array": (_raw(b"[]"), ("没有申报表",)),
    "an unknown profile": (_with(("profile",), "nowhere-1999"), ("未知的表式版本", "nowhere-1999")),
}


@pytest.mark.parametrize("case", list(HOSTILE_JSON))
def test_hostile_json_is_refused_with_its_place(case: str, tmp_path: Path) -> None:
    build, words = HOSTILE_JSON[case]
    source = tmp_path / "in.json"
    source.write_bytes(build())
    out = run("to-xlsx", source, "-o", tmp_path / "out.xlsx")
    assert_answered(out, 2, "in.json", *words)
    assert not (tmp_path / "out.xlsx").exists()


def test_utf16_json_with_its_bom_is_read(tmp_path: Path) -> None:
    source = tmp_path / "记事本.json"
    source.write_bytes(run("to-json", WORKBOOKS[0]).stdout.decode("utf-8").encode("utf-16"))
    assert_answered(run("to-xlsx", source, "-o", tmp_path / "out.xlsx"), 0)
    again = run("to-json", tmp_path / "out.xlsx")
    assert again.stdout == run("to-json", WORKBOOKS[0]).stdout


# --- stdout closed or full ---------------------------------------------------------------------------

STDOUT_COMMANDS = [("schema",), ("rules",), ("addin", "vba"), ("check", str(SAMPLE)), ("to-json", str(SAMPLE))]


@pytest.mark.parametrize("args", STDOUT_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_closed_or_full_stdout_is_a_short_message(args: tuple[str, ...]) -> None:
    closed = run(*args, shell_redirect=">&-")
    assert_answered(closed, 2, "标准输出已关闭")
    if Path("/dev/full").exists():
        full = run(*args, shell_redirect="> /dev/full")
        assert_answered(full, 2, "标准输出", "磁盘空间已满")


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    out = subprocess.run(["sh", "-c", f"{subprocess.list2cmdline([PERFGOAL])} schema | head -c 1"],
                         capture_output=True, timeout=120)
    assert out.stdout == b"{" and out.stderr == b""


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of bytes that are not UTF-8 is Linux's")
def test_names_that_are_not_utf8_are_shown_apart(tmp_path: Path) -> None:
    """``check`` names a file whose name is not UTF-8 as bulk conversion does (``\\xNN``): two such names stay
    two, in the text and in the JSON, where "?" would make them one."""
    form = (Path(__file__).resolve().parents[1] / "examples" / "declarations-2020-01.xlsx").read_bytes()
    paths = [os.fsdecode(os.fsencode(tmp_path) + b"/" + name) for name in (b"\xff\xfe.xlsx", b"\xfe\xff.xlsx")]
    for path in paths:
        Path(path).write_bytes(form)
    text = run("check", *paths).stdout.decode("utf-8")
    assert "\\xff\\xfe.xlsx" in text and "\\xfe\\xff.xlsx" in text
    found = json.loads(run("check", "--format", "json", *paths).stdout)
    assert {f["file"].rsplit("/", 1)[-1] for f in found} == {"\\xff\\xfe.xlsx", "\\xfe\\xff.xlsx"}


def test_commands_that_write_files_need_no_stdout(tmp_path: Path) -> None:
    out = run("template", "-o", tmp_path / "t.xlsx", shell_redirect=">&-")
    assert_answered(out, 0)
    assert (tmp_path / "t.xlsx").is_file()


# --- option values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (("bulk", "{in}", "-o", "{out}", "--jobs", "0"), ("--jobs", "1 到 64")),
    (("bulk", "{in}", "-o", "{out}", "--jobs", "65"), ("--jobs", "1 到 64")),
    (("bulk", "{in}", "-o", "{out}", "--jobs", "两个"), ("--jobs", "整数")),
    (("bulk", "{in}", "-o", "{out}", "--timeout", "0"), ("--timeout", "大于 0")),
    (("bulk", "{in}", "-o", "{out}", "--timeout", "-1"), ("--timeout", "大于 0")),
    (("bulk", "{in}", "-o", "{out}", "--timeout", "nan"), ("--timeout", "有限")),
    (("bulk", "{in}", "-o", "{out}", "--timeout", "inf"), ("--timeout", "有限")),
    (("check", "{sample}", "--timeout", "0"), ("--timeout", "大于 0")),
    (("to-json", "{sample}", "--timeout", "nan"), ("--timeout", "有限")),
    (("check", "{sample}", "--profile", "nowhere"), ("--profile", "未知的表式版本", *profile_names())),
    (("to-json", "{sample}", "--profile", "nowhere"), ("未知的表式版本",)),
    (("bulk", "{in}", "-o", "{out}", "--profile", "nowhere"), ("未知的表式版本",)),
    (("template", "-o", "{out}", "--profile", "nowhere"), ("未知的表式版本",)),
    (("bulk", "{in}", "-o", "{in}"), ("不能与输入文件夹相同",)),
    (("bulk", "{in}", "-o", "{in}/."), ("不能与输入文件夹相同",)),
    (("check", "{sample}", "--format", "xml"), ("--format", "无效", "text")),
    (("frob",), ("命令", "无效", "to-json")),
    (("to-json",), ("缺少必需的参数", "INPUT")),
    (("schema", "extra"), ("无法识别的参数", "extra")),
])
def test_option_values_are_checked(args: tuple[str, ...], words: tuple[str, ...], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder)
    values = {"in": str(folder), "out": str(tmp_path / "out"), "sample": str(SAMPLE)}
    out = run(*(a.format(**values) for a in args))
    err = assert_answered(out, 2, *words)
    assert "参数错误" in err or "不能与输入文件夹相同" in err
    assert sorted(p.name for p in folder.iterdir()) == [SAMPLE.name]  # nothing written beside the input
    assert not (tmp_path / "out").exists()


def test_help_is_chinese() -> None:
    out = run("bulk", "--help")
    text = out.stdout.decode("utf-8")
    assert out.returncode == 0 and text.startswith("用法：") and "显示本帮助并退出" in text
    assert "--profile NAME" in text and "--jobs N" in text and "usage" not in text


# --- --profile ---------------------------------------------------------------------------------------


def test_profile_forces_the_form_version_and_the_detected_one_is_named(tmp_path: Path) -> None:
    detected = {d["profile"] for d in json.loads(run("to-json", WORKBOOKS[0]).stdout)}
    assert len(detected) == 1
    (found,) = detected
    check = run("check", WORKBOOKS[0])
    assert f"1 份申报表（表式：{found}）" in check.stdout.decode("utf-8")
    forced = next(p for p in profile_names() if p != found)
    out = run("to-json", WORKBOOKS[0], TEXT_EXPORT, "--profile", forced)
    assert out.returncode in (0, 2), stderr_of(out)
    assert {d["profile"] for d in json.loads(out.stdout)} == {forced}
    check = run("check", WORKBOOKS[0], "--profile", forced)
    assert f"（表式：{forced}）" in check.stdout.decode("utf-8")
    assert read_file(WORKBOOKS[0], profile=forced).declarations[0].declaration.profile == forced


# --- reader errors are Chinese -----------------------------------------------------------------------


def _reader_messages(path: Path) -> list[str]:
    return [f.message for f in read_file(path).findings]


def test_reader_errors_are_chinese_with_the_original_as_detail(tmp_path: Path) -> None:
    missing = _reader_messages(tmp_path / "nope.xls")
    assert missing == ["文件无法读取：文件或文件夹不存在（No such file or directory）"]
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(WORKBOOKS[0].read_bytes()[:3000])
    ole_garbage = tmp_path / "garbage.xls"
    ole_garbage.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 40)
    for path in (truncated, ole_garbage, tmp_path):
        (message,) = _reader_messages(path)
        assert CHINESE.match(message) and message.startswith("文件"), message
        reason = message.split("：", 1)[1]
        assert CHINESE.match(reason), message  # the phrase leads; English, if any, follows in brackets
        assert "/" not in reason.split("（", 1)[-1] or "I/O" in reason, message  # no absolute paths


@needs_corpus
def test_every_corpus_message_is_chinese_led() -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    assert files
    out = run("check", *files, "--format", "json", "--timeout", "60")
    assert_answered(out, 2)
    findings = json.loads(out.stdout)
    assert {f["file"] for f in findings} == {str(p) for p in files}
    for f in findings:
        assert CHINESE.match(f["message"]), f
        assert not re.search(r"thread '|/root/|\.cargo|0x[0-9a-f]{8}", f["message"]), f


# --- encrypted files told by content -----------------------------------------------------------------

FILEPASS_RC4 = struct.pack("<HH", 0x002F, 54) + struct.pack("<HHH", 1, 1, 1) + bytes(range(48))


def _with_filepass(workbook_stream: bytes) -> bytes:
    """The BIFF8 workbook stream with a FILEPASS record right after its BOF, as Excel writes it; the sheet
    offsets of the BOUNDSHEET records are moved by the record's length so the stream stays consistent."""
    bof_end = 4 + struct.unpack_from("<H", workbook_stream, 2)[0]
    stream = bytearray(workbook_stream[:bof_end] + FILEPASS_RC4 + workbook_stream[bof_end:])
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind == 0x0085:
            struct.pack_into("<I", stream, pos + 4, struct.unpack_from("<I", stream, pos + 4)[0] + len(FILEPASS_RC4))
        pos += 4 + size
    return bytes(stream)


def _rewrite_ole(source: bytes, change: dict[str, bytes] | None = None) -> bytes:
    """The compound file's streams, written anew by the project's CFB writer (olefile cannot write)."""
    with olefile.OleFileIO(source) as ole:
        streams = {tuple(path): ole.openstream(path).read() for path in ole.listdir(streams=True, storages=False)}
    for name, data in (change or {}).items():
        streams[(name,)] = data
    return cfb.write(cfb.tree(streams))


def test_encrypted_xls_is_told_by_its_filepass_record_whatever_its_name(tmp_path: Path) -> None:
    (xls,) = lo.convert([WORKBOOKS[0]], "xls", tmp_path)  # a real xls, as LibreOffice writes it
    with olefile.OleFileIO(xls.read_bytes()) as ole:
        workbook = ole.openstream("Workbook").read()
    plain = tmp_path / "plain.dat"
    plain.write_bytes(_rewrite_ole(xls.read_bytes()))
    assert len(read_file(plain).declarations) == 1  # the rewritten container reads as before
    encrypted = _rewrite_ole(xls.read_bytes(), {"Workbook": _with_filepass(workbook)})
    for name in ("申报表.xls", "申报表.txt", "data.dat", "申报表.xlsx"):
        (tmp_path / name).write_bytes(encrypted)
        assert [f.code for f in read_file(tmp_path / name).findings] == ["F004"], name
    out = run("check", tmp_path / "申报表.txt")
    assert_answered(out, 2)
    assert "文件已加密" in out.stdout.decode("utf-8")


def test_encrypted_ooxml_is_told_by_its_encrypted_package_stream_whatever_its_name(tmp_path: Path) -> None:
    info = struct.pack("<HHI", 4, 4, 0x40) + bytes(range(200))  # agile encryption's version header
    package = struct.pack("<Q", 9000) + bytes(i * 7 % 256 for i in range(9008))
    encrypted = cfb.write(cfb.tree({("EncryptionInfo",): info, ("EncryptedPackage",): package}))
    for name in ("报表.xlsx", "报表.txt", "报表.dat"):
        (tmp_path / name).write_bytes(encrypted)
        assert [f.code for f in read_file(tmp_path / name).findings] == ["F004"], name
    other = tmp_path / "other.xlsx"
    other.write_bytes(cfb.write(cfb.tree({("EncryptionInfo",): info, ("Package",): package})))
    (finding,) = read_file(other).findings
    assert finding.code in ("F001", "F002") and CHINESE.match(finding.message)


def test_reader_details_carry_no_thread_ids_addresses_or_build_paths() -> None:
    """A native reader's panic names its thread and the path it was built from; neither may reach a finding,
    or two runs over the same files would differ."""
    panic = ("thread '<unnamed>' (48213) panicked at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/"
             "calamine-0.26.1/src/xls.rs:1043:38:\nattempt to subtract with overflow")
    other_run = panic.replace("48213", "7").replace("/root/.cargo", "/home/ci/.cargo")
    assert trim_detail(panic) == trim_detail(other_run) == "thread panicked at xls.rs:1043:38:"
    assert trim_detail("object at 0x7f93fdda1640 failed") == "object at 0x… failed"
    assert trim_detail("Xlsx error: Relationship not found for xl/worksheets/_rels/sheet1.xml.rels").endswith(
        "xl/worksheets/_rels/sheet1.xml.rels")  # a path inside the package is kept
    reason = reader_reason(python_calamine.CalamineError(panic))
    assert CHINESE.match(reason) and "48213" not in reason and "/root" not in reason
