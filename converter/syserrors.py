"""Chinese words for what the operating system says when a file cannot be read or written.

``strerror`` is English on most systems ("No such file or directory"), and users read Chinese; the phrase
here says what happened, and the system's own text follows as detail for whoever has to look further.
"""

from __future__ import annotations

import errno
import re

_PHRASES = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "操作不被允许",
    errno.EROFS: "所在位置只读",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中的一部分不是文件夹",
    errno.EEXIST: "已存在同名的文件或文件夹",
    errno.ENAMETOOLONG: "文件名或路径过长",
    errno.ENOSPC: "磁盘空间已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EFBIG: "文件超出系统允许的大小",
    errno.EIO: "磁盘读写出错",
    errno.EBUSY: "文件正被占用",
    errno.ETXTBSY: "文件正被占用",
    errno.EINVAL: "文件名无效",
    errno.EMFILE: "同时打开的文件过多",
    errno.ENFILE: "同时打开的文件过多",
    errno.ELOOP: "符号链接循环",
    errno.EPIPE: "接收输出的程序已退出",
    errno.EBADF: "输出已关闭",
    errno.ENOTEMPTY: "文件夹不为空",
    errno.EXDEV: "不能跨磁盘移动",
}
_WINDOWS = {32: "文件正被其他程序（如 Excel）占用", 33: "文件的一部分被其他程序锁定", 206: "文件名或路径过长"}


def _windows_error(exc: OSError) -> int | None:
    """Windows' own error number where the system gave one (a file Excel holds open is 32, not an errno)."""
    winerror = getattr(exc, "winerror", None)
    return winerror if isinstance(winerror, int) else None


def os_phrase(exc: OSError) -> str:
    """What went wrong, in Chinese, without the system's text."""
    own = getattr(exc, "phrase", None)  # an error of ours that says it itself
    if isinstance(own, str):
        return own
    winerror = _windows_error(exc)
    if winerror in _WINDOWS:
        return _WINDOWS[winerror]
    phrase = _PHRASES.get(exc.errno) if exc.errno is not None else None
    return phrase or "系统错误"


def os_reason(exc: OSError) -> str:
    """The Chinese phrase, with the system's own words after it as detail (``没有访问权限（Permission
    denied）``); where the system already speaks Chinese, the words are not said twice."""
    phrase = os_phrase(exc)
    detail = trim_detail(exc.strerror or str(exc) or type(exc).__name__)
    return f"{phrase}（{detail}）" if detail and detail != phrase else phrase


_THREAD = re.compile(r"thread '[^']*'(?: \(\d+\))?")
_THREAD_ID = re.compile(r"\b(?:ThreadId|tid)[ (=:]*\d+\)?", re.IGNORECASE)
_ABS_PATH = re.compile(r"(?<![^\s('\"])(?:[A-Za-z]:)?(?:[\\/][^\\/\s:'\"]+)+[\\/]([^\\/\s:'\"]+)")
_HEX_ADDR = re.compile(r"0x[0-9a-fA-F]{8,}")


def trim_detail(text: str, limit: int = 120) -> str:
    """A library's message as detail: its first line, without thread ids, memory addresses or the
    absolute paths of the machine it was built on (``/root/.cargo/registry/…/xls.rs`` → ``xls.rs``),
    so that the same file gives the same words on every run and every machine."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _THREAD.sub("thread", line)
    line = _THREAD_ID.sub("", line)
    line = _ABS_PATH.sub(r"\1", line)
    line = _HEX_ADDR.sub("0x…", line)
    line = re.sub(r"\s{2,}", " ", line).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
