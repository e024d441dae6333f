"""Driving a page with the keyboard alone: Tab to a control by its visible name or its
label, checking on the way that every stop shows a focus indicator."""

from __future__ import annotations

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id,
          text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
          label: label.trim(),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0};
}"""


async def focused(page) -> dict | None:  # noqa: ANN001
    return await page.evaluate(FOCUSED)


async def tab_to(page, name: str, *, label: bool = False, limit: int = 80) -> dict:  # noqa: ANN001
    """Press Tab until the focused control's text (or its <label>, label=True) starts with
    `name`; every control passed must show its focus outline."""
    passed = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        el = await focused(page)
        if el is None:
            continue
        assert el["outline"], f"no visible focus on {el} (Tab order so far: {passed})"
        if (el["label"] if label else el["text"]).startswith(name):
            return el
        passed.append(el["label"] or el["text"][:20])
    raise AssertionError(f"{name!r} not reached by Tab; passed: {passed}")


async def type_into(page, label: str, text: str) -> None:  # noqa: ANN001
    await tab_to(page, label, label=True)
    await page.keyboard.type(text)


async def press_and_load(page, key: str = "Enter") -> None:  # noqa: ANN001
    """Enter on a focused link or in a form: wait for the page it opens."""
    async with page.expect_navigation():
        await page.keyboard.press(key)
