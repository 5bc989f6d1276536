"""The ribbon and the VBA module as generated from their declarations, checked by independent oracles:
Microsoft's own schema of the customUI namespace (as the Open XML SDK publishes it, compiled by xmlschema), the
Open XML SDK's validation rules as openxml-audit applies them to the whole built add-in, a schema written here from
[MS-CUSTOMUI]'s types, olevba reading the built add-in back, and LibreOffice compiling and running the module's own
code."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree
from oletools.olevba import VBA_Parser
from openxml_audit import FileFormat, OpenXmlValidator

from xl_addin import function_help, functions, ribbon, ribbon_build, ribbon_spec
from xl_addin.addin import build, macro_text
from xl_addin.vba_wrappers import generate

from . import lo
from .conftest import DATA

CUSTOMUI_XSD = DATA / "customui-subset.xsd"  # written here from [MS-CUSTOMUI]'s type descriptions
# Microsoft's machine-readable schema of the customUI namespace our ribbon uses (…/2006/01/customui, the one
# customUI.xsd governs): the Open XML SDK's data/schemas file, which Microsoft generates from its XSDs and
# publishes under MIT. No registry reachable here ships customUI.xsd itself; the openxml-audit wheel (PyPI, the
# dev extra) ships this file verbatim. The pin says which file the verdicts below come from.
SDK_SCHEMA = "data/openxml/schemas/schemas_microsoft_com_office_2006_01_customui.json"
SDK_SCHEMA_SHA256 = "aa3cec30348f7794fd1d7e62baee915d4f4f9141b926ec58cbe95c4364329ab3"
XS = "http://www.w3.org/2001/XMLSchema"
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


def sdk_schema_xsd(data: dict[str, Any]) -> str:
    """An XSD saying what the Open XML SDK's schema data ``data`` says, for xmlschema to compile: one complex type
    per element type, its content model from the SDK's particle (Group inlined as a sequence with the group's
    occurrence), its attributes from the SDK's validators (string kind and length, number range, enumeration,
    required). The translation is mechanical: every constraint comes from Microsoft's file."""
    ns = data["TargetNamespace"]
    enums = {e["Name"]: [f["Value"] for f in e["Facets"]] for e in data["Enums"]}
    types = {t["Name"]: t for t in data["Types"] if not t.get("IsAbstract")}
    root = etree.Element(f"{{{XS}}}schema", nsmap={"xsd": XS, "t": ns}, targetNamespace=ns,
                         elementFormDefault="qualified", attributeFormDefault="unqualified")

    def local(name: str) -> str:  # "mso:CT_Button/mso:button" -> "button"
        return name.split("/")[1].split(":", 1)[1]

    def type_name(name: str) -> str:  # -> "CT_Button.button": one CT_ serves several elements
        return f"{name.split('/')[0].split(':', 1)[1]}.{local(name)}"

    def add_particle(parent: etree._Element, particle: dict[str, Any]) -> None:
        if "Name" in particle:
            node = etree.SubElement(parent, f"{{{XS}}}element", name=local(particle["Name"]),
                                    type=f"t:{type_name(particle['Name'])}")
        else:
            kind = {"Sequence": "sequence", "Choice": "choice", "All": "all", "Group": "sequence"}[particle["Kind"]]
            node = etree.SubElement(parent, f"{{{XS}}}{kind}")
            for item in particle["Items"]:
                add_particle(node, item)
        for o in particle.get("Occurs", []):  # absent: exactly once; a bound left out: 0 / unbounded
            node.set("minOccurs", str(o.get("Min", 0)))
            node.set("maxOccurs", str(o.get("Max", "unbounded")))

    def add_type(attribute: etree._Element, spec: dict[str, Any]) -> None:
        kind: str = spec["Type"]
        if kind == "BooleanValue":
            attribute.set("type", "xsd:boolean")
            return
        restriction = etree.SubElement(etree.SubElement(attribute, f"{{{XS}}}simpleType"), f"{{{XS}}}restriction")
        if kind.startswith("EnumValue<"):
            restriction.set("base", "xsd:token")
            for value in enums[kind.removesuffix(">").rsplit(".", 1)[1]]:
                etree.SubElement(restriction, f"{{{XS}}}enumeration", value=value)
            return
        args = {a["Name"]: a["Value"] for v in spec.get("Validators", []) for a in v.get("Arguments", [])}
        if kind == "IntegerValue":
            restriction.set("base", "xsd:positiveInteger" if args.get("IsPositive") == "True" else "xsd:integer")
            facets = {"MinInclusive": "minInclusive", "MaxInclusive": "maxInclusive"}
        else:
            assert kind == "StringValue", kind
            restriction.set("base", next((base for flag, base in (("IsId", "xsd:ID"), ("IsQName", "xsd:QName"),
                                                                  ("IsNcName", "xsd:NCName"), ("IsToken", "xsd:token"))
                                          if args.get(flag) == "True"), "xsd:string"))
            facets = {"MinLength": "minLength", "MaxLength": "maxLength"}
        for arg, facet in facets.items():
            if arg in args:
                etree.SubElement(restriction, f"{{{XS}}}{facet}", value=args[arg])

    for name, spec in types.items():
        complex_type = etree.SubElement(root, f"{{{XS}}}complexType", name=type_name(name))
        if "Particle" in spec:
            add_particle(complex_type, spec["Particle"])
        for a in spec.get("Attributes", []):
            attribute = etree.SubElement(complex_type, f"{{{XS}}}attribute", name=a["QName"].lstrip(":"))
            if any(v["Name"] == "RequiredValidator" for v in a.get("Validators", [])):
                attribute.set("use", "required")
            add_type(attribute, a)
    (top,) = (n for n in types if local(n) == "customUI")
    etree.SubElement(root, f"{{{XS}}}element", name="customUI", type=f"t:{type_name(top)}")
    return str(etree.tostring(root, encoding="unicode"))


@pytest.fixture(scope="module")
def microsoft_schema() -> xmlschema.XMLSchema:
    raw = (resources.files("openxml_audit") / SDK_SCHEMA).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SDK_SCHEMA_SHA256, "openxml-audit ships another schema file: review"
    data = json.loads(raw)
    assert data["TargetNamespace"] == ribbon_build.CUSTOMUI_NS
    return xmlschema.XMLSchema(sdk_schema_xsd(data))


# --- in step with the declarations -------------------------------------------------------------------------
def test_macros_folder_is_what_the_declarations_generate(wrappers: str) -> None:
    assert macro_text("RibbonMyAddin.bas") == ribbon_build.module_source(wrappers), \
        "run `perfgoal addin vba > macros/RibbonMyAddin.bas`"
    assert macro_text("customUI.xml") == ribbon_build.custom_ui(), \
        "run `perfgoal addin customui > macros/customUI.xml`"


def test_a_button_is_one_declaration(monkeypatch: pytest.MonkeyPatch, wrappers: str, schema: xmlschema.XMLSchema,
                                     microsoft_schema: xmlschema.XMLSchema) -> None:
    extra = ribbon_spec.Button("Extra", "新按钮", "DataValidation", "说明", "validate_sheet", needs_workbook=True)
    groups = (*ribbon_spec.GROUPS, ribbon_spec.Group("More", "更多", (extra,)))
    monkeypatch.setattr(ribbon_spec, "GROUPS", groups)
    monkeypatch.setattr(ribbon_spec, "BUTTONS", (*ribbon_spec.BUTTONS, extra))
    xml = ribbon_build.custom_ui()
    schema.validate(xml)
    microsoft_schema.validate(xml)
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
def _mutations(good: str) -> dict[str, str]:
    """Ribbons Office refuses: each breaks one rule of Microsoft's schema."""
    long_tip = "说" * 1025
    return {
        "unknown attribute": good.replace('screentip="', 'tooltip="', 1),
        "size Excel has not": good.replace('size="large"', 'size="huge"', 1),
        "duplicate id": good.replace('id="pgExportJson"', 'id="pgValidateSheet"'),
        "imageMso not a name": good.replace('imageMso="XmlExport"', 'imageMso="Xml Export"', 1),
        "empty label": good.replace(f'label="{ribbon_spec.TAB_LABEL}"', 'label=""', 1),
        "supertip over 1024": re.sub(r'supertip="[^"]*"', f'supertip="{long_tip}"', good, count=1),
        "button outside a group": good.replace("<tabs>", '<tabs><button id="x" label="x"/>', 1),
        "empty tabs": good.replace("</tabs>", "</tabs><tabs/>", 1),
        "another namespace": good.replace(ribbon_build.CUSTOMUI_NS, "http://schemas.microsoft.com/office/2009/07/customui"),
    }


def test_customui_is_valid_against_microsofts_schema(microsoft_schema: xmlschema.XMLSchema, xlam: Path) -> None:
    good = ribbon_build.custom_ui()
    microsoft_schema.validate(good)
    with zipfile.ZipFile(xlam) as z:
        microsoft_schema.validate(z.read("customUI/customUI.xml").decode("utf-8"))
    accepted = [what for what, bad in _mutations(good).items() if microsoft_schema.is_valid(bad)]
    assert accepted == []


def test_the_open_xml_sdk_rules_pass_the_whole_addin(xlam: Path, tmp_path: Path) -> None:
    """openxml-audit applies the Open XML SDK's schema data and semantic checks to every part of the package, the
    ribbon part found through its relationship, as Office would. Its 2007/2010 modes do not skip the
    template's ``mc:AlternateContent`` that requires x15 (as Office 2010 does) and then report the workbook
    part; 2013 is the earliest mode that reads it as Office does."""
    validator = OpenXmlValidator(file_format=FileFormat.OFFICE_2013)
    result = validator.validate(str(xlam))
    assert result.is_valid, [(e.part_uri, e.description) for e in result.errors]
    broken = tmp_path / "broken.xlam"
    with zipfile.ZipFile(xlam) as z, zipfile.ZipFile(broken, "w") as out:
        for item in z.infolist():
            data = z.read(item)
            if item.filename == "customUI/customUI.xml":
                data = data.replace(b'size="large"', b'size="huge"', 1)
            out.writestr(item, data)
    assert [e.part_uri for e in validator.validate(str(broken)).errors] == ["/customUI/customUI.xml"]


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
