"""``macros/customUI.xml`` and ``macros/RibbonMyAddin.bas``, generated from the declarations.

* the ribbon XML from ``ribbon_spec`` ([MS-CUSTOMUI], namespace ``…/2006/01/customui``);
* the VBA module: ``#Const App`` first (a ``#Const`` is private to its module, and xlwings' wrappers test
  ``#If App = "Microsoft Excel"``: undefined, it is Empty and every wrapper would take its fallback branch),
  one callback per button, the guard for no active workbook, the function wizard's help (``Auto_Open`` →
  ``MacroOptions``), then the live functions' wrappers as xlwings writes them (``vba_wrappers``).

VBA stays ASCII (the project's code page is 1252): every Chinese text is written as its UTF-16 code units in hex
and decoded by ``PgText`` at run time. ``perfgoal addin vba`` / ``perfgoal addin customui`` print the files; a
test holds ``macros/`` to them, and the build uses the committed files.
"""

from __future__ import annotations

import re

from lxml import etree

from . import function_help, ribbon_spec
from .vba_wrappers import BEGIN, END

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
MODULE = "RibbonMyAddin"
CONST_APP = '#Const App = "Microsoft Excel"'
ENTRY = "import xl_addin.ribbon; xl_addin.ribbon.run('\" & key & \"')"
# Texts the VBA shows or registers itself, each behind ``Private Function PgText<name>() As String``.
TEXTS = {
    "Title": ribbon_spec.TITLE,  # the tab, the message boxes, and the category the function wizard files ours under
    "NoWorkbook": ribbon_spec.NO_WORKBOOK,
    "ProtectedView": ribbon_spec.PROTECTED_VIEW,
}
_HEX_PER_LINE = 200  # 50 characters per statement: far below VBA's 1023-character line


def custom_ui() -> str:
    """The ribbon part's XML."""
    q = f"{{{CUSTOMUI_NS}}}"
    root = etree.Element(f"{q}customUI", nsmap={None: CUSTOMUI_NS})
    tabs = etree.SubElement(etree.SubElement(root, f"{q}ribbon"), f"{q}tabs")
    tab = etree.SubElement(tabs, f"{q}tab", id=ribbon_spec.TAB_ID, label=ribbon_spec.TAB_LABEL)
    for group in ribbon_spec.GROUPS:
        g = etree.SubElement(tab, f"{q}group", id=group.control_id, label=group.label)
        for b in group.buttons:
            etree.SubElement(g, f"{q}button", id=b.control_id, label=b.label, size="large", imageMso=b.image_mso,
                             screentip=b.label, supertip=b.supertip, onAction=f"{MODULE}.{b.callback}")
    etree.indent(root, space="    ")
    return str(etree.tostring(root, encoding="unicode")) + "\n"


def hex_units(text: str) -> str:
    """``text`` as UTF-16 code units, four hex digits each: what ``PgText`` decodes."""
    data = text.encode("utf-16-be")
    return data.hex().upper()


def _assign(target: str, text: str, indent: str = "    ") -> list[str]:
    """Statements setting ``target`` to ``text``, a line per 50 characters."""
    units = hex_units(text)
    chunks = [units[i:i + _HEX_PER_LINE] for i in range(0, len(units), _HEX_PER_LINE)] or [""]
    lines = [f'{indent}{target} = PgText("{chunks[0]}")']
    lines += [f'{indent}{target} = {target} & PgText("{c}")' for c in chunks[1:]]
    return lines


_HELPERS = """\
Private Function PgText(units As String) As String
    ' The text whose UTF-16 code units ``units`` holds, four hex digits each (Val gives &H8000 and above as
    ' negative Integers).
    Dim i As Long, unit As Long
    For i = 1 To Len(units) Step 4
        unit = Val("&H" & Mid$(units, i, 4))
        If unit < 0 Then unit = unit + 65536
        PgText = PgText & ChrW(unit)
    Next i
End Function

Private Sub PgRun(key As String, needsWorkbook As Boolean)
    ' Every button comes here. RunPython reads ActiveWorkbook first: without one (an empty Excel, a file in
    ' Protected View) it would stop with error 91. Actions on the form say why they cannot run; the others
    ' run on a blank workbook, closed again afterwards if it is still untouched.
    Dim temporary As Workbook
    If ActiveWorkbook Is Nothing Then
        If needsWorkbook Then
            MsgBox PgNoWorkbookMessage(), vbExclamation, PgTextTitle()
            Exit Sub
        End If
        Set temporary = Workbooks.Add
    End If
    RunPython "%ENTRY%"
    If Not temporary Is Nothing Then
        On Error Resume Next
        If temporary.Saved Then temporary.Close SaveChanges:=False
        On Error GoTo 0
    End If
End Sub

Private Function PgNoWorkbookMessage() As String
    ' Late bound: ActiveProtectedViewWindow exists from Excel 2010 on.
    Dim app As Object, protectedView As Boolean
    Set app = Application
    On Error Resume Next
    protectedView = Not (app.ActiveProtectedViewWindow Is Nothing)
    On Error GoTo 0
    If protectedView Then
        PgNoWorkbookMessage = PgTextProtectedView()
    Else
        PgNoWorkbookMessage = PgTextNoWorkbook()
    End If
End Function

Private Sub Auto_Open()
    ' Runs when Excel loads the add-in: the live functions' help for the function wizard. Registering it is
    ' not a change to the add-in worth keeping.
    PgDescribeFunctions
    ThisWorkbook.Saved = True
End Sub

Private Sub PgDescribe(functionName As String, description As String, arguments As Variant)
    ' Late bound, so that an Excel without ArgumentDescriptions (2007) fails at run time, not at compile time.
    Dim app As Object, macroName As String
    Set app = Application
    macroName = "'" & ThisWorkbook.Name & "'!" & functionName
    On Error Resume Next
    app.MacroOptions Macro:=macroName, Description:=description, Category:=PgTextTitle(), _
        ArgumentDescriptions:=arguments
    If Err.Number <> 0 Then
        Err.Clear
        app.MacroOptions Macro:=macroName, Description:=description, Category:=PgTextTitle()
    End If
    On Error GoTo 0
End Sub
""".replace("%ENTRY%", ENTRY)


def _text_functions() -> list[str]:
    lines: list[str] = []
    for name, text in TEXTS.items():
        lines += [f"Private Function PgText{name}() As String", *_assign(f"PgText{name}", text), "End Function", ""]
    return lines


_WRAPPER = re.compile(r"^Function (\w+)\((.*)\)$", re.M)


def wrapped_functions(wrappers: str) -> list[tuple[str, list[str]]]:
    """(name, parameters) of every function in xlwings' wrappers, in their order: the arguments Excel shows."""
    return [(m[1], [p.strip().removeprefix("Optional ").strip() for p in m[2].split(",") if p.strip()])
            for m in _WRAPPER.finditer(wrappers)]


def _describe_functions(wrappers: str) -> list[str]:
    lines = ["Private Sub PgDescribeFunctions()", "    Dim description As String", "    Dim arguments() As Variant"]
    for name, params in wrapped_functions(wrappers):
        entry = function_help.HELP[name]
        lines += _assign("description", entry.description)
        lines.append(f"    ReDim arguments(0 To {len(params) - 1})")
        for i, param in enumerate(params):
            lines += _assign(f"arguments({i})", entry.arguments[param])
        lines.append(f'    PgDescribe "{name}", description, arguments')
    return [*lines, "End Sub", ""]


def module_source(wrappers: str) -> str:
    """The whole ``RibbonMyAddin`` module (LF line ends), with ``wrappers`` as xlwings generated them."""
    head = [
        f'Attribute VB_Name = "{MODULE}"',
        CONST_APP,
        "' perfgoal add-in: ribbon callbacks, the function wizard's help and the live functions' wrappers.",
        "' Generated by `perfgoal addin vba` from xl_addin/ribbon_spec.py, xl_addin/function_help.py and",
        "' xl_addin/functions.py; do not edit. Each callback only hands over to Python (xl_addin.ribbon.run),",
        "' where all the logic is. VBA stays ASCII: Chinese texts are UTF-16 code units in hex (PgText).",
        "",
    ]
    callbacks: list[str] = []
    for b in ribbon_spec.BUTTONS:
        callbacks += [f"Sub {b.callback}(control As IRibbonControl)",
                      f'    PgRun "{b.key}", {"True" if b.needs_workbook else "False"}', "End Sub", ""]
    generated = "\n".join(_text_functions() + _describe_functions(wrappers))
    return "\n".join(head + callbacks) + f"\n{_HELPERS}\n{generated}\n{BEGIN}\n{wrappers}{END}\n"
