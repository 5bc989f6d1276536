"""Build ``perfgoal.xlam`` from xlwings' own quickstart ribbon add-in.

What changes, and how:
* ``customUI/customUI.xml`` — our ribbon (``macros/customUI.xml``); its relationship is already in ``_rels/.rels``.
* the VBA module ``RibbonMyAddin`` — its source becomes ``macros/RibbonMyAddin.bas`` (the ribbon callbacks and
  the live functions' wrappers), compressed as MS-OVBA requires. Its compiled cache is dropped (MODULEOFFSET 0
  in the ``dir`` stream); ``_VBA_PROJECT`` already carries version 0xFFFF and no cache, so Excel compiles the
  project from source when it first loads it. Every other module stays byte for byte.
* the config sheet ``_myaddin.conf`` is renamed ``myaddin.conf`` (the xlwings VBA reads it under that name) and
  its "UDF Modules" entry set to ``xl_addin.functions``.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path

import olefile
from lxml import etree
from oletools.olevba import decompress_stream

from converter.atomic import write_bytes
from converter.writers.stable_zip import ZIP_TIME

from . import cfb, ovba

ADDIN_NAME = "perfgoal.xlam"
MODULE = "RibbonMyAddin"
CONFIG_SHEET_OLD, CONFIG_SHEET = "_myaddin.conf", "myaddin.conf"
UDF_MODULES = "xl_addin.functions"
VBA_CODEPAGE = "cp1252"  # the quickstart project's code page; VBA text stays ASCII
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


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
    """``original`` vbaProject.bin with ``module``'s source replaced and its compiled cache dropped."""
    ole = olefile.OleFileIO(io.BytesIO(original))
    streams = {tuple(path): ole.openstream("/".join(path)).read() for path in ole.listdir()}
    ole.close()
    directory = bytes(decompress_stream(bytearray(streams[("VBA", "dir")])))
    streams[("VBA", "dir")] = ovba.compress(ovba.set_module_offset(directory, module, 0))
    streams[("VBA", module)] = ovba.compress(source)
    return cfb.write(cfb.tree(streams))


def _config_sheet(workbook_xml: bytes, sheet_xml: bytes, strings_xml: bytes) -> tuple[bytes, bytes]:
    wb = etree.fromstring(workbook_xml)
    for sheet in wb.iter(f"{_MAIN}sheet"):
        if sheet.get("name") == CONFIG_SHEET_OLD:
            sheet.set("name", CONFIG_SHEET)
    strings = [("".join(si.itertext())) for si in etree.fromstring(strings_xml).iter(f"{_MAIN}si")]
    ws = etree.fromstring(sheet_xml)
    for row in ws.iter(f"{_MAIN}row"):
        cells = row.findall(f"{_MAIN}c")
        first = cells[0] if cells else None
        if first is None or first.get("t") != "s":
            continue
        if strings[int(first.findtext(f"{_MAIN}v") or -1)] == "UDF Modules":
            for extra in cells[1:]:
                row.remove(extra)
            cell = etree.SubElement(row, f"{_MAIN}c", r=f"B{row.get('r')}", t="inlineStr")
            if first.get("s"):
                cell.set("s", first.get("s", ""))
            etree.SubElement(etree.SubElement(cell, f"{_MAIN}is"), f"{_MAIN}t").text = UDF_MODULES
            row.set("spans", "1:2")
    declaration = {"xml_declaration": True, "encoding": "UTF-8", "standalone": True}
    return etree.tostring(wb, **declaration), etree.tostring(ws, **declaration)


def build(out_dir: Path) -> Path:
    """Write ``perfgoal.xlam`` into ``out_dir`` (atomically) and return its path."""
    with zipfile.ZipFile(quickstart_addin()) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    parts["customUI/customUI.xml"] = macro_text("customUI.xml").encode("utf-8")
    parts["xl/vbaProject.bin"] = vba_project(parts["xl/vbaProject.bin"], MODULE,
                                             module_bytes(macro_text(f"{MODULE}.bas")))
    parts["xl/workbook.xml"], parts["xl/worksheets/sheet1.xml"] = _config_sheet(
        parts["xl/workbook.xml"], parts["xl/worksheets/sheet1.xml"], parts["xl/sharedStrings.xml"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    target = out_dir / ADDIN_NAME
    write_bytes(target, out.getvalue())
    return target
