"""Build ``perfgoal.xlam`` from xlwings' own quickstart ribbon add-in.

What changes, and how:
* ``customUI/customUI.xml`` — our ribbon (``macros/customUI.xml``, generated from ``ribbon_spec``), and the
  package relationship to it typed as its namespace requires: the 2006/01 customUI namespace goes with the 2006
  ``ui/extensibility`` relationship ([MS-CUSTOMUI] 2.1; [MS-OI29500] 3.4.1.3). The quickstart file carries
  the 2007 type, which belongs to the 2009/07 namespace.
* the VBA module ``RibbonMyAddin`` — its source becomes ``macros/RibbonMyAddin.bas``, compressed as MS-OVBA
  requires, its compiled cache dropped (MODULEOFFSET 0 in the ``dir`` stream). ``_VBA_PROJECT`` is written as
  the seven version-independent bytes with Version 0xFFFF and no performance cache, and every ``__SRP_`` stream
  is left out ([MS-OVBA] 2.3.4.1, 1.6): Excel then compiles the project from source and ignores the caches the
  other modules still carry. Every other module stays byte for byte.
* the config sheet ``_myaddin.conf`` is renamed ``myaddin.conf`` (the xlwings VBA reads it under that name) and
  holds only the settings that have a value: ``UDF Modules``, and the interpreter or conda environment when
  known. xlwings reads every key listed in column A, empty or not, before the user's own config files, so a
  row with an empty value would mask ``%USERPROFILE%\\.myaddin\\myaddin.conf``.
"""

from __future__ import annotations

import io
import ntpath
import os
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import olefile
from lxml import etree
from oletools.olevba import decompress_stream

from converter.atomic import write_bytes
from converter.writers.stable_zip import ZIP_TIME

from . import cfb, ovba
from .ribbon_build import CUSTOMUI_NS, MODULE

ADDIN_NAME = "perfgoal.xlam"
CONFIG_SHEET_OLD, CONFIG_SHEET = "_myaddin.conf", "myaddin.conf"
UDF_MODULES = "xl_addin.functions"
VBA_CODEPAGE = "cp1252"  # the quickstart project's code page; VBA text stays ASCII
# [MS-OVBA] 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF ("MUST be 0xFFFF on write"), Reserved2 0x00, Reserved3
# (0x0001 in the specification's example, 3.1.1), and no PerformanceCache ("MUST NOT be present on write").
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")
SRP_PREFIX = "__SRP_"
# The package relationship type of a customUI part, by the part's namespace ([MS-CUSTOMUI] 2.1, [MS-CUSTOMUI2]).
UI_RELATIONSHIPS = {
    CUSTOMUI_NS: "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
    "http://schemas.microsoft.com/office/2009/07/customui":
        "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",
}
CUSTOMUI_PART = "customUI/customUI.xml"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class Settings:
    """Which Python the add-in starts. ``interpreter`` is a ``python.exe`` (a venv's ``Scripts\\python.exe``
    works: xlwings finds its DLL one folder up); a conda environment is named by ``conda_path`` (the conda
    installation) and ``conda_env`` (its name or full path), and xlwings activates it. None of them: the
    ``python`` on PATH, unless the user's config file says otherwise."""

    interpreter: str | None = None
    conda_path: str | None = None
    conda_env: str | None = None

    def __post_init__(self) -> None:
        if bool(self.conda_path) != bool(self.conda_env):
            raise ValueError("conda_path and conda_env go together")
        if self.interpreter and self.conda_path:
            raise ValueError("an interpreter or a conda environment, not both")

    def rows(self) -> list[tuple[str, str]]:
        """The config sheet's rows: key, value; only the settings that have a value."""
        rows = [("UDF Modules", UDF_MODULES)]
        for key, value in (("Interpreter_Win", self.interpreter), ("Conda Path", self.conda_path),
                           ("Conda Env", self.conda_env)):
            if value:
                rows.append((key, value))
        return rows


def default_settings(platform: str = sys.platform, executable: str = sys.executable, prefix: str = sys.prefix,
                     environ: Mapping[str, str] = os.environ) -> Settings:
    """The building Python, when the add-in is built on Windows (where it will run): an activated conda
    environment by its conda installation and path, any other Python by its executable. Built elsewhere, the
    path of the Python that will run it is not known here: nothing is written."""
    if not platform.startswith("win"):
        return Settings()
    conda_exe = environ.get("CONDA_EXE", "")
    if conda_exe and ntpath.normcase(environ.get("CONDA_PREFIX", "")) == ntpath.normcase(prefix):
        return Settings(conda_path=ntpath.dirname(ntpath.dirname(conda_exe)), conda_env=prefix)
    return Settings(interpreter=executable)


def quickstart_addin() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def macro_text(name: str) -> str:
    return (resources.files("xl_addin.macros") / name).read_text(encoding="utf-8")


def module_bytes(source: str) -> bytes:
    """VBA source as the project stores it: CRLF line ends, in the project's code page."""
    text = source.replace("\r\n", "\n").rstrip("\n") + "\n"
    return text.replace("\n", "\r\n").encode(VBA_CODEPAGE)


def vba_project(original: bytes, module: str, source: bytes) -> bytes:
    """``original`` vbaProject.bin with ``module``'s source replaced and its compiled cache dropped,
    ``_VBA_PROJECT`` written version-independent and no ``__SRP_`` stream."""
    ole = olefile.OleFileIO(io.BytesIO(original))
    streams = {tuple(path): ole.openstream("/".join(path)).read() for path in ole.listdir()
               if not path[-1].upper().startswith(SRP_PREFIX)}
    ole.close()
    directory = bytes(decompress_stream(bytearray(streams[("VBA", "dir")])))
    streams[("VBA", "dir")] = ovba.compress(ovba.set_module_offset(directory, module, 0))
    streams[("VBA", module)] = ovba.compress(source)
    streams[("VBA", "_VBA_PROJECT")] = VBA_PROJECT_STREAM
    return cfb.write(cfb.tree(streams))


def _inline(row: etree._Element, ref: str, text: str, style: str | None) -> None:
    cell = etree.SubElement(row, f"{_MAIN}c", r=ref, t="inlineStr")
    if style:
        cell.set("s", style)
    etree.SubElement(etree.SubElement(cell, f"{_MAIN}is"), f"{_MAIN}t").text = text


def _config_sheet(workbook_xml: bytes, sheet_xml: bytes, rows: list[tuple[str, str]]) -> tuple[bytes, bytes]:
    """The workbook with the config sheet renamed, and the sheet holding exactly ``rows`` from A1 down (xlwings
    reads column A from A1 to the last filled cell)."""
    wb = etree.fromstring(workbook_xml)
    for sheet in wb.iter(f"{_MAIN}sheet"):
        if sheet.get("name") == CONFIG_SHEET_OLD:
            sheet.set("name", CONFIG_SHEET)
    ws = etree.fromstring(sheet_xml)
    data = ws.find(f"{_MAIN}sheetData")
    assert data is not None
    old = data.find(f"{_MAIN}row/{_MAIN}c")
    style = old.get("s") if old is not None else None
    for child in list(data):
        data.remove(child)
    for i, (key, value) in enumerate(rows, start=1):
        row = etree.SubElement(data, f"{_MAIN}row", r=str(i), spans="1:2")
        _inline(row, f"A{i}", key, style)
        _inline(row, f"B{i}", value, style)
    dimension = ws.find(f"{_MAIN}dimension")
    if dimension is not None:
        dimension.set("ref", f"A1:B{len(rows)}")
    declaration = {"xml_declaration": True, "encoding": "UTF-8", "standalone": True}
    return etree.tostring(wb, **declaration), etree.tostring(ws, **declaration)


def _package_rels(rels_xml: bytes, customui_xml: bytes) -> bytes:
    """``_rels/.rels`` with the customUI part's relationship typed for the part's namespace."""
    namespace = etree.QName(etree.fromstring(customui_xml)).namespace or ""
    rels = etree.fromstring(rels_xml)
    found = [r for r in rels.iter(f"{_RELS}Relationship") if r.get("Target", "").lstrip("/") == CUSTOMUI_PART]
    if len(found) != 1:
        raise ValueError(f"the package should relate to {CUSTOMUI_PART} once, not {len(found)} times")
    found[0].set("Type", UI_RELATIONSHIPS[namespace])
    return bytes(etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True))


def build(out_dir: Path, settings: Settings | None = None) -> Path:
    """Write ``perfgoal.xlam`` into ``out_dir`` (atomically) and return its path. ``settings`` default to
    ``default_settings()``: the building Python on Windows, nothing elsewhere."""
    settings = default_settings() if settings is None else settings
    with zipfile.ZipFile(quickstart_addin()) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    parts[CUSTOMUI_PART] = macro_text("customUI.xml").encode("utf-8")
    assert etree.QName(etree.fromstring(parts[CUSTOMUI_PART])).namespace == CUSTOMUI_NS
    parts["_rels/.rels"] = _package_rels(parts["_rels/.rels"], parts[CUSTOMUI_PART])
    parts["xl/vbaProject.bin"] = vba_project(parts["xl/vbaProject.bin"], MODULE,
                                             module_bytes(macro_text(f"{MODULE}.bas")))
    parts["xl/workbook.xml"], parts["xl/worksheets/sheet1.xml"] = _config_sheet(
        parts["xl/workbook.xml"], parts["xl/worksheets/sheet1.xml"], settings.rows())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    target = out_dir / ADDIN_NAME
    write_bytes(target, out.getvalue())
    return target
