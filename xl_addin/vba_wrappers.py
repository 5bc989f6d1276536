"""The VBA wrappers of the live functions, as xlwings' *Import Functions* would write them.

``xlwings.udfs`` holds the real UDF decorators and ``generate_vba_wrapper``; it imports pywin32, which Linux
lacks. In a child process (so this one stays clean) the pywin32 modules are stubbed, xlwings' decorators are
put in place of the Linux no-ops, ``xl_addin.functions`` is imported fresh — so the decorators check the
definitions as Windows would — and the wrappers are generated. Private xlwings API: xlwings is pinned, and
a test checks that the wrappers still come out and that ``macros/RibbonMyAddin.bas`` holds them
(``ribbon_build.module_source`` puts them after the ribbon's callbacks).
"""

from __future__ import annotations

import subprocess
import sys

MODULE = "xl_addin.functions"
BEGIN = "' ---- live functions: xlwings' wrappers of xl_addin/functions.py ----"
END = "' ---- end of generated live functions ----"

_CHILD = r"""
import io, sys, types
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
import xlwings, xlwings.udfs as udfs
xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
import importlib
module = importlib.import_module(sys.argv[1])
out = io.StringIO()
udfs.generate_vba_wrapper(sys.argv[1], module, out, types.SimpleNamespace(Name="perfgoal.xlam"))
sys.stdout.write(out.getvalue())
"""


def generate() -> str:
    """The wrappers' VBA text (LF line ends)."""
    done = subprocess.run([sys.executable, "-c", _CHILD, MODULE], capture_output=True, text=True, check=True)
    return done.stdout.replace("\r\n", "\n").strip("\n") + "\n"

