"""The ribbon, declared once: every button with its label, icon, tips and the Python handler it runs.

``customUI.xml`` and the VBA callbacks in ``RibbonMyAddin`` are generated from this (``ribbon_build.py``), and
``ribbon.run`` finds a handler by the button's key; a test holds ``macros/`` to what is generated. Adding a button
is one ``Button`` here and its handler in ``ribbon.py``.

This module is data only: the add-in's runtime (``ribbon.py``) and its build tools (``addin.py``) both read it,
and neither imports the other.

Icons are the ``imageMso`` names of Excel's own controls: another application's name (Word's ReviewAcceptChange,
Access's ExportTextFile) shows no icon in Excel. Microsoft's per-application lists are the authority
(OfficeDev/office-fluent-ui-command-identifiers, ``excelcontrols.xlsx``); where each control sits in Excel is
noted beside it, so it can be checked on the ribbon itself (README, *What only real Excel can prove*).
"""

from __future__ import annotations

from dataclasses import dataclass

TAB_ID = "perfgoalTab"
TAB_LABEL = "绩效目标"
# Message boxes (Python's and the VBA's) carry this title.
TITLE = TAB_LABEL


@dataclass(frozen=True)
class Button:
    """One ribbon button. ``key`` is ASCII and stable: the control id is ``pg<key>``, the VBA callback
    ``Pg<key>``. ``needs_workbook``: the handler works on the active workbook (without one the VBA says so
    instead of calling Python); otherwise a blank workbook is opened for the call and closed after it."""

    key: str
    label: str
    image_mso: str
    supertip: str
    handler: str
    needs_workbook: bool

    @property
    def control_id(self) -> str:
        return f"pg{self.key}"

    @property
    def callback(self) -> str:
        return f"Pg{self.key}"


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    buttons: tuple[Button, ...]

    @property
    def control_id(self) -> str:
        return f"pg{self.key}Group"


GROUPS = (
    Group("Check", "校验", (
        # Excel: Data › Data Tools › Data Validation
        Button("ValidateSheet", "校验本表", "DataValidation",
               "按全部校验规则检查当前申报表，标出有问题的单元格并生成“校验结果”工作表。",
               "validate_sheet", needs_workbook=True),
    )),
    Group("Data", "数据", (
        # Excel: Developer › XML › Export
        Button("ExportJson", "导出JSON", "XmlExport", "把本工作簿中的申报表导出为规范 JSON 文件。",
               "export_json", needs_workbook=True),
        # Excel: Developer › XML › Import
        Button("ImportJson", "从JSON导入", "XmlImport", "从规范 JSON 文件生成填好的申报表工作簿并打开。",
               "import_json", needs_workbook=False),
        # Excel: File › New
        Button("NewForm", "新建申报表", "FileNew", "按模板新建一份空白申报表。",
               "new_form", needs_workbook=False),
    )),
    Group("Bulk", "汇总", (
        # Excel: Data › Data Tools › Consolidate
        Button("BulkConvert", "批量转换", "Consolidate",
               "把一个文件夹中收到的申报表全部转换为 JSON，并生成问题清单和汇总表。",
               "bulk_convert", needs_workbook=False),
    )),
)

BUTTONS = tuple(b for g in GROUPS for b in g.buttons)
BY_KEY = {b.key: b for b in BUTTONS}

# What the VBA says itself, because Python cannot be reached: with no ordinary workbook active, xlwings'
# RunPython fails on ActiveWorkbook (VBA error 91).
NO_WORKBOOK = "请先打开或切换到要处理的申报表工作簿，再点此按钮。"
PROTECTED_VIEW = "当前文件处于“受保护的视图”，无法校验或导出。请先点黄色提示栏上的“启用编辑”，再点此按钮。"
