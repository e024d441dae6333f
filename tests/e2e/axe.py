"""axe-core (npm, node_modules/axe-core) run inside a real page: WCAG 2.1 A/AA rules, and
the serious or critical violations as readable lines for an assertion message.

The source is evaluated through the DevTools protocol (page.evaluate), which the page's
CSP does not govern, so the pages are audited under their real CSP: an injected <script>
tag would be refused by `script-src 'self'`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `npm install` (make vendor) first")
    return AXE_JS.read_text(encoding="utf-8")


async def audit(page, where: str) -> list[str]:  # noqa: ANN001
    """The page's serious and critical WCAG 2.1 AA violations, one line per element."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    found = await page.evaluate(RUN, WCAG_TAGS)
    lines = []
    for v in found:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"{where}: [{v['impact']}] {v['id']} ({v['help']}) at {node['target']}: {summary}")
    return lines
