"""The ribbon and the VBA module as generated from their declarations, checked by independent oracles:
a schema written from [MS-CUSTOMUI]'s types (xmlschema), olevba reading the built add-in back, and LibreOffice
compiling and running the module's own code."""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from pathlib import Path

import pytest
import xmlschema
from lxml import etree
from oletools.olevba import VBA_Parser

from xl_addin import function_help, functions, ribbon, ribbon_build, ribbon_spec
from xl_addin.addin import build, macro_text
from xl_addin.vba_wrappers import generate

from . import lo
from .conftest import DATA

CUSTOMUI_XSD = DATA / "customui-subset.xsd"  # written here from [MS-CUSTOMUI]'s type descriptions
UI = "{http://schemas.microsoft.com/office/2006/01/customui}"
# Icons of other Office applications that the audit found on the ribbon; Excel shows none for them.
NOT_EXCEL = {"ReviewAcceptChange", "ExportTextFile", "ImportTextFile", "FolderProperties"}
# Excel's own controls the ribbon borrows icons from (Microsoft's Excel control list, excelcontrols.xlsx), with
# where each sits in Excel, so that the README's first-run check can find them.
EXCEL_CONTROLS = {
    "DataValidation": "数据 › 数据工具 › 数据验证",
    "XmlExport": "开发工具 › XML › 导出",
    "XmlImport": "开发工具 › XML › 导入",
    "FileNew": "文件 › 新建",
    "Consolidate": "数据 › 数据工具 › 合并计算",
}


@pytest.fixture(scope="module")
def wrappers() -> str:
    return generate()


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(CUSTOMUI_XSD))


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("addin"))


# --- in step with the declarations -------------------------------------------------------------------------
def test_macros_folder_is_what_the_declarations_generate(wrappers: str) -> None:
    assert macro_text("RibbonMyAddin.bas") == ribbon_build.module_source(wrappers), \
        "run `perfgoal addin vba > macros/RibbonMyAddin.bas`"
    assert macro_text("customUI.xml") == ribbon_build.custom_ui(), \
        "run `perfgoal addin customui > macros/customUI.xml`"


def test_a_button_is_one_declaration(monkeypatch: pytest.MonkeyPatch, wrappers: str, schema: xmlschema.XMLSchema,
                                     ) -> None:
    extra = ribbon_spec.Button("Extra", "新按钮", "DataValidation", "说明", "validate_sheet", needs_workbook=True)
    groups = (*ribbon_spec.GROUPS, ribbon_spec.Group("More", "更多", (extra,)))
    monkeypatch.setattr(ribbon_spec, "GROUPS", groups)
    monkeypatch.setattr(ribbon_spec, "BUTTONS", (*ribbon_spec.BUTTONS, extra))
    xml = ribbon_build.custom_ui()
    schema.validate(xml)
    button = next(b for b in etree.fromstring(xml.encode()).iter(f"{UI}button") if b.get("id") == "pgExtra")
    assert (button.get("label"), button.get("onAction")) == ("新按钮", "RibbonMyAddin.PgExtra")
    assert 'Sub PgExtra(control As IRibbonControl)\n    PgRun "Extra", True\nEnd Sub' in \
        ribbon_build.module_source(wrappers)


def test_every_button_reaches_its_handler() -> None:
    keys = [b.key for b in ribbon_spec.BUTTONS]
    assert len(keys) == len(set(keys))
    for b in ribbon_spec.BUTTONS:
        handler = ribbon.HANDLERS[b.key]
        assert handler.__name__ == b.handler
        assert list(inspect.signature(handler).parameters) == ["book", "ui"]


# --- the ribbon part ---------------------------------------------------------------------------------------
def test_customui_is_valid_against_the_specifications_types(schema: xmlschema.XMLSchema, xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        schema.validate(z.read("customUI/customUI.xml").decode("utf-8"))
    # The oracle can say no: an unknown attribute, a button size Excel does not have, a duplicate id.
    good = ribbon_build.custom_ui()
    for bad in (good.replace('screentip="', 'tooltip="', 1), good.replace('size="large"', 'size="huge"', 1),
                good.replace('id="pgExportJson"', 'id="pgValidateSheet"')):
        assert not schema.is_valid(bad)


def test_icons_are_excels_own() -> None:
    images = {b.image_mso for b in ribbon_spec.BUTTONS}
    assert images <= set(EXCEL_CONTROLS), images - set(EXCEL_CONTROLS)
    assert not images & NOT_EXCEL


# --- the VBA module ----------------------------------------------------------------------------------------
def _modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_const_app_comes_before_the_first_if_app_in_every_module(xlam: Path, wrappers: str) -> None:
    """A #Const is private to its module; undefined, ``#If App = "Microsoft Excel"`` takes the #Else branch and
    the wrappers call Python without the workbook, the caller and the error handler."""
    modules = _modules(xlam)
    assert "#If App" in modules[ribbon_build.MODULE]
    for name, code in {**modules, "generated": ribbon_build.module_source(wrappers)}.items():
        lines = [ln.strip() for ln in code.splitlines()]
        uses = [i for i, ln in enumerate(lines) if re.match(r"#(If|ElseIf) App\b", ln)]
        if not uses:
            continue
        defines = [i for i, ln in enumerate(lines) if re.fullmatch(r'#Const App = "Microsoft Excel"(\s*\'.*)?', ln)]
        assert defines and defines[0] < uses[0], name


def test_module_is_ascii_and_its_texts_decode_to_the_declared_ones(wrappers: str) -> None:
    source = ribbon_build.module_source(wrappers)
    assert source.isascii()
    assert max(len(line) for line in source.splitlines()) < 1023  # VBA's line limit

    def decoded(block: str) -> str:
        return "".join(bytes.fromhex(h).decode("utf-16-be") for h in re.findall(r'PgText\("([0-9A-F]*)"\)', block))

    for name, text in ribbon_build.TEXTS.items():
        block = re.search(rf"Private Function PgText{name}\(\) As String\n(.*?)End Function", source, re.S)
        assert block and decoded(block[1]) == text, name
    describe = source.split("Private Sub PgDescribeFunctions()", 1)[1].split("End Sub", 1)[0]
    for call in re.finditer(r'((?:.*\n)*?)    PgDescribe "(\w+)", description, arguments\n', describe):
        statements, name = call[1], call[2]
        help_ = function_help.HELP[name]
        description = "".join(decoded(m[0]) for m in re.finditer(r"description = .*", statements))
        assert description == help_.description, name
        params = list(inspect.signature(getattr(functions, name)).parameters)
        for i, param in enumerate(params):
            value = "".join(decoded(m[0]) for m in re.finditer(rf"arguments\({i}\) = .*", statements))
            assert value == help_.arguments[param], (name, param)
        describe = describe.replace(call[0], "", 1)
    assert "PgDescribe " not in describe.replace("Sub PgDescribeFunctions", "")


def test_function_help_follows_the_signatures(wrappers: str) -> None:
    wrapped = dict(ribbon_build.wrapped_functions(wrappers))
    assert set(wrapped) == {f.__name__ for f in functions.LIVE_FUNCTIONS} == set(function_help.HELP)
    for f in functions.LIVE_FUNCTIONS:
        params = list(inspect.signature(f).parameters)
        assert wrapped[f.__name__] == params
        help_ = function_help.HELP[f.__name__]
        assert list(help_.arguments) == params, f.__name__
        assert all(0 < len(t) <= 255 for t in [help_.description, *help_.arguments.values()])  # MacroOptions' limit


def test_libreoffice_compiles_the_module_and_runs_its_texts(xlam: Path) -> None:
    names = [f"PgText{n}" for n in ribbon_build.TEXTS] + ["PgNoWorkbookMessage"]
    out = json.loads(lo.uno("basic-texts", xlam, "MyAddin", ribbon_build.MODULE, *names).strip().splitlines()[-1])
    assert out["modules"] == ["Dictionary", ribbon_build.MODULE, "Sheet2", "ThisWorkbook", "xlwings"]
    # PgNoWorkbookMessage asks for Excel's Protected View window, which LibreOffice has not: its error handling
    # runs, and the text for no workbook at all comes back.
    assert out["texts"] == {**{f"PgText{n}": text for n, text in ribbon_build.TEXTS.items()},
                            "PgNoWorkbookMessage": ribbon_spec.NO_WORKBOOK}
    assert out["broken"] in (None, "") or str(out["broken"]).startswith("error")
