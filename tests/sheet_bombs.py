"""Hostile .xlsx files for import tests, built from a real openpyxl workbook whose parts are
then rewritten: a declared dimension far beyond the cells, a part whose declared size is
huge, a shared-strings table that takes long to load, formulas without saved values."""

from __future__ import annotations

import io
import struct
import zipfile

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The same zip with some parts replaced or added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            z.writestr(name, parts.get(name, src.read(name)))
        for name, body in parts.items():
            if name not in src.namelist():
                z.writestr(name, body)
    return out.getvalue()


def sheet_xml(rows: str, dimension: str) -> bytes:
    return (f'<worksheet {MAIN.decode()}><dimension ref="{dimension}"/>'
            f"<sheetData>{rows}</sheetData></worksheet>").encode()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def dimension_bomb(header: list[str], *rows: dict[str, str]) -> bytes:
    """About 2 KB declaring A1:XFD1048576 (16384 columns × 1048576 rows), the header in row 1
    and then `rows`, each {cell reference: text}, e.g. {"A1048576": "x"}. A cell in the last
    row made the old reader pad a million rows to 16384 cells: 46 minutes of a core."""
    def row(cells: dict[str, str]) -> str:
        number = "".join(ch for ch in next(iter(cells)) if ch.isdigit())
        return f'<row r="{number}">{"".join(inline(ref, t) for ref, t in cells.items())}</row>'
    head = {f"{chr(65 + i)}1": h for i, h in enumerate(header)}
    xml = "".join(row(cells) for cells in (head, *rows))
    return rewrite(workbook([["x"]]), {SHEET: sheet_xml(xml, "A1:XFD1048576")})


def declared_size_bomb(data: bytes, part: str = SHEET, size: int = 0xFFFF0000) -> bytes:
    """`data` with `part` declaring `size` uncompressed bytes in the zip's central directory
    (what zipfile trusts): a few KB on disk that claim ~4 GB."""
    out = bytearray(data)
    name = part.encode()
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + name_len] == name:
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{part} not in the zip")


def shared_strings_bomb(header: list[str], strings: int) -> bytes:
    """A workbook whose shared-strings table holds `strings` entries (17 bytes each):
    openpyxl loads it whole before the first row, about 6–7 s per million here. The sheet
    also declares A1:XFD1048576, the padding that made the old reader run for minutes."""
    data = workbook([header])
    src = zipfile.ZipFile(io.BytesIO(data))
    types = src.read("[Content_Types].xml").replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>')
    table = b"<sst " + MAIN + b">" + b"<si><t>x</t></si>" * strings + b"</sst>"
    cells = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(header))
    return rewrite(data, {"[Content_Types].xml": types, "xl/sharedStrings.xml": table,
                          SHEET: sheet_xml(f'<row r="1">{cells}</row>', "A1:XFD1048576")})


def formulas_only(header: list[str], rows: int, *, header_too: bool = False) -> bytes:
    """Every data cell a formula, saved without results (as programs write them)."""
    head: list[object] = [f'="{h}"' for h in header] if header_too else list(header)
    return workbook([head, *[[f"=ROW()*{c + 1}" for c in range(len(header))]
                             for _ in range(rows)]])
