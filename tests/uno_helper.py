#!/usr/bin/python3
"""Drive a real LibreOffice (headless) for the tests; run with the system python3 that has python3-uno.

    uno_helper.py invalid FILE...                   cells LibreOffice's Mark Invalid Data circles, as JSON
    uno_helper.py insert-rows IN OUT SHEET ROW N    insert N rows before 1-based ROW as a user would, save xlsx
    uno_helper.py set-cells IN OUT SHEET A1=v...    type values into cells as a user would, save xlsx
    uno_helper.py basic-texts XLAM LIBRARY MODULE NAME...
                                                    import an add-in's VBA, compile the module, run its functions
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def start():
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    pipe = f"perfgoal{os.getpid()}"
    proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo",
                             f"-env:UserInstallation=file://{profile}", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            time.sleep(0.1)
    else:
        proc.kill()
        sys.exit("LibreOffice did not start")
    return proc, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def load(desktop, path, *options):
    return desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                        (prop("Hidden", True), *options))


def basic_texts(desktop, path, library, module, names):
    """The VBA project LibreOffice imports from an add-in: its modules, and what the named functions of one
    module return once it compiles (xlwings' own modules use Windows declarations LibreOffice cannot compile;
    a library that does not compile runs nothing, so they are taken out to let it judge ours alone). A module
    that does not compile is run too, so that the answers are known to mean something."""
    doc = load(desktop, path, prop("FilterName", "Calc MS Excel 2007 VBA XML"))
    libs = doc.BasicLibraries
    libs.loadLibrary(library)
    lib = libs.getByName(library)
    out = {"modules": sorted(lib.getElementNames())}
    for other in ("xlwings", "Dictionary"):
        lib.removeByName(other)
    provider = doc.getScriptProvider()

    def call(mod, name):
        url = f"vnd.sun.star.script:{library}.{mod}.{name}?language=Basic&location=document"
        try:
            return provider.getScript(url).invoke((), (), ())[0]
        except Exception as exc:
            return "error: " + type(exc).__name__

    out["texts"] = {name: call(module, name) for name in names}
    lib.insertByName("Broken", "Option VBASupport 1\nFunction Probe() As String\n Probe = (\nEnd Function\n")
    out["broken"] = call("Broken", "Probe")
    doc.close(True)
    return out


def save_xlsx(doc, path):
    doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(path)), (prop("FilterName", "Calc MS Excel 2007 XML"),))


def marked(sheet):
    sheet.showInvalid()
    page = sheet.DrawPage
    centres = [(s.Position.X + s.Size.Width / 2, s.Position.Y + s.Size.Height / 2)
               for s in (page.getByIndex(i) for i in range(page.Count))]
    out = []
    if centres:
        cur = sheet.createCursor()
        cur.gotoEndOfUsedArea(False)
        for r in range(cur.RangeAddress.EndRow + 2):
            for c in range(cur.RangeAddress.EndColumn + 2):
                cell = sheet.getCellByPosition(c, r)
                x, y, w, h = cell.Position.X, cell.Position.Y, cell.Size.Width, cell.Size.Height
                if any(x <= cx <= x + w and y <= cy <= y + h for cx, cy in centres):
                    out.append(cell.AbsoluteName.split(".")[-1].replace("$", ""))
    sheet.clearArrows()
    return out


def main(argv):
    proc, desktop = start()
    try:
        if argv[0] == "invalid":
            result = {}
            for path in argv[1:]:
                doc = load(desktop, path)
                sheets = doc.Sheets
                result[path] = {sheets.getByIndex(i).Name: marked(sheets.getByIndex(i)) for i in range(sheets.Count)}
                doc.close(True)
            print(json.dumps(result, ensure_ascii=False))
        elif argv[0] == "insert-rows":
            src, dst, sheet_name, row, count = argv[1:6]
            doc = load(desktop, src)
            sheet = doc.Sheets.getByName(sheet_name)
            sheet.Rows.insertByIndex(int(row) - 1, int(count))
            save_xlsx(doc, dst)
            doc.close(True)
        elif argv[0] == "set-cells":
            src, dst, sheet_name, *assignments = argv[1:]
            doc = load(desktop, src)
            sheet = doc.Sheets.getByName(sheet_name)
            for a in assignments:
                ref, value = a.split("=", 1)
                sheet.getCellRangeByName(ref).setString(value)
            save_xlsx(doc, dst)
            doc.close(True)
        elif argv[0] == "basic-texts":
            path, library, module, *names = argv[1:]
            print(json.dumps(basic_texts(desktop, path, library, module, names)), flush=True)
        else:
            sys.exit(f"unknown command {argv[0]}")
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main(sys.argv[1:])
