"""What an import does to every cell before checking it, and the tally of what it changed.

Files come from Excel, from other systems' exports and from people typing: full-width
digits (１３８…), spaces pasted around or inside a value, and words that mean a code's label
(硕士研究生 for 硕士生, 男性 for 男). Such a cell is corrected rather than refused, and every
kind of correction is counted by field, so the job's report can say what was changed and in
how many rows ("学历：硕士研究生 → 硕士生 — 37 行"). Pure: no database, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Callable, Mapping

from .. import codes

# A field's own corrections: the typed (already tidied) text → (meant text, how it is
# described in the report), or None when the text is left as it is.
Synonyms = Callable[[str], "tuple[str, str] | None"]

FULL_WIDTH_ALNUM = re.compile("[０-９Ａ-Ｚａ-ｚ]")
FULL_WIDTH = re.compile("[\uff01-\uff5e]")
CJK = "\u3400-\u9fff\uf900-\ufaff"
SPACE_BETWEEN_CJK = re.compile(f"(?<=[{CJK}]) (?=[{CJK}])")
WIDTH_FIXED = "全角字符改为半角"
SPACES_FIXED = "去掉多余的空格"


def tidy(text: str, *, compact: bool = False) -> tuple[str, list[str]]:
    """(the text with full-width letters and digits made half-width and its spaces tidied,
    what was done). A cell that is all full-width letters, digits and signs (an ID number,
    a phone, an e-mail typed with a Chinese input method) is made half-width whole; inside
    Chinese text only letters and digits are, since （）：， are right there. Spaces: none at
    either end, one between words, none between two Chinese characters (王 小明), and none at
    all in a `compact` field (codes, numbers), where a space is never part of the value."""
    done = []
    if FULL_WIDTH.search(text):
        whole = unicodedata.normalize("NFKC", text)
        fixed = whole if whole.isascii() else FULL_WIDTH_ALNUM.sub(
            lambda m: unicodedata.normalize("NFKC", m.group()), text)
        if fixed != text:
            text = fixed
            done.append(WIDTH_FIXED)
    spaced = " ".join(text.split())  # str.split: every Unicode space, 全角 and NBSP too
    spaced = spaced.replace(" ", "") if compact else SPACE_BETWEEN_CJK.sub("", spaced)
    if spaced != text:
        text = spaced
        done.append(SPACES_FIXED)
    return text, done


def table_synonyms(table: Mapping[str, str]) -> Synonyms:
    """Corrections from a {typed: label} table (app/codes.py's *_SYNONYMS)."""
    def correct(text: str) -> tuple[str, str] | None:
        meant = table.get(text)
        return None if meant is None else (meant, f"{text} → {meant}")
    return correct


def county_synonyms(text: str) -> tuple[str, str] | None:
    """A county written as the drop-down offers it ("500103 重庆市渝中区") or by its full
    name ("重庆市渝中区"): its 6-digit code, which is what the field holds."""
    found = re.fullmatch(r"(\d{6}) ?(.+)", text)
    if found and codes.is_county(found[1]) and found[2] in (codes.area_name(found[1]),
                                                              codes.areas()[found[1]]):
        return found[1], "“代码 名称”只保留代码"
    if not text.isdigit():
        code = codes.county_of(text)
        if code is not None and codes.area_name(code) == text:
            return code, "区县名称改为代码"
    return None


class Cleaner:
    """Tidies the cells of one import's rows and counts each correction once per row.

    `synonyms`: field → its corrections. `compact`: fields where a space never belongs
    (codes, 学号, 身份证号, 手机 …)."""

    def __init__(self, labels: Mapping[str, str], synonyms: Mapping[str, Synonyms] | None = None,
                 compact: tuple[str, ...] = ()) -> None:
        self.labels = labels
        self.synonyms = dict(synonyms or {})
        self.compact = set(compact)
        self.tally: Counter[tuple[str, str]] = Counter()

    def row(self, values: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for field, raw in values.items():
            text, done = tidy(raw, compact=field in self.compact)
            correct = self.synonyms.get(field)
            meant = correct(text) if correct and text else None
            if meant is not None:
                text = meant[0]
                done.append(meant[1])
            for change in done:
                self.tally[(self.labels.get(field, field), change)] += 1
            out[field] = text
        return out

    def changes(self) -> list[dict[str, object]]:
        """Each correction with its number of rows, the most frequent first."""
        return [{"field": field, "change": change, "rows": n}
                for (field, change), n in sorted(self.tally.items(), key=lambda kv: -kv[1])]
