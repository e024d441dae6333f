"""The style sheet: a class is defined once, and text on coloured labels is readable
(WCAG 2.1 AA: contrast of at least 4.5:1 for normal text)."""

import re
from pathlib import Path

CSS = (Path(__file__).resolve().parent.parent / "static/css/app.css").read_text()


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """(selectors, declarations) of every rule, @media blocks included (comments dropped)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*)\}", css):
        decls = dict((k.strip(), v.strip()) for k, _, v in
                     (d.partition(":") for d in body.split(";") if ":" in d))
        found.append(([s.strip() for s in selectors.split(",")], decls))
    return found


def colour(value: str, variables: dict[str, str]) -> tuple[float, float, float]:
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value).strip()
    hex_digits = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value).group(1)
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return tuple(int(hex_digits[i:i + 2], 16) / 255 for i in (0, 2, 4))


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(rgb: tuple[float, ...]) -> float:
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_known_pairs():
    assert round(contrast((0, 0, 0), (1, 1, 1)), 1) == 21.0
    assert round(contrast(colour("#f79009", {}), colour("#fff", {})), 2) == 2.35  # the old 已投递


def test_tag_is_defined_once_and_every_tag_is_readable():
    all_rules = rules(CSS)
    variables = {k: v for sel, decls in all_rules if ":root" in sel
                 for k, v in decls.items() if k.startswith("--")}
    tag_rules = [decls for sel, decls in all_rules if ".tag" in sel]
    assert len(tag_rules) == 1, f".tag is defined {len(tag_rules)} times"
    base = tag_rules[0]
    variants = {s: decls for sel, decls in all_rules for s in sel
                if re.fullmatch(r"\.tag-[\w-]+", s)}
    assert variants, "no .tag-… variant found"
    for name, decls in {".tag": {}, **variants}.items():
        fg = colour(decls.get("color", base["color"]), variables)
        bg = colour(decls.get("background", base["background"]), variables)
        assert contrast(fg, bg) >= 4.5, f"{name}: {contrast(fg, bg):.2f}:1"
