"""Automated WCAG 2.1 AA checks with axe-core, the engine behind most accessibility audits.

Royal Decree 1112/2018 requires public-sector sites to meet EN 301 549, whose web clauses are
WCAG 2.1 level AA; these are the axe rules tagged for those levels.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

WCAG_21_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_21_AA_TAGS},
    # Only violations travel back from the browser; passes would be most of the payload.
    "resultTypes": ["violations"],
}
MAX_NODES_SHOWN = 5
MAX_SNIPPET_CHARS = 200

_axe = Axe()  # reads the bundled axe.min.js once; no network needed


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe on the page as it is now and return its violations (axe-core's own dicts).

    axe is injected with `page.evaluate`, which goes through the DevTools protocol and so is not
    blocked by the site's Content-Security-Policy (script-src 'self'): no `bypass_csp` needed,
    and the page is checked under the same policy a citizen's browser enforces.
    """
    return _axe.run(page, options=AXE_OPTIONS).response["violations"]


def violations_report(violations: list[dict[str, Any]], url: str) -> str:
    """A readable summary: one block per rule, with the first few failing nodes."""
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        nodes = violation["nodes"]
        lines.append("")
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({len(nodes)} node(s))"
        )
        lines.append(f"    {violation['helpUrl']}")
        for node in nodes[:MAX_NODES_SHOWN]:
            target = " ".join(str(part) for part in node["target"])
            snippet = " ".join(node["html"].split())
            if len(snippet) > MAX_SNIPPET_CHARS:
                snippet = snippet[:MAX_SNIPPET_CHARS] + "…"
            lines.append(f"    - {target}")
            lines.append(f"      {snippet}")
            if summary := node.get("failureSummary"):
                lines.extend(f"      {line.strip()}" for line in summary.splitlines()[1:])
        if len(nodes) > MAX_NODES_SHOWN:
            lines.append(f"    … and {len(nodes) - MAX_NODES_SHOWN} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail unless axe finds no WCAG 2.1 A/AA violation on the page."""
    violations = axe_violations(page)
    if violations:
        pytest.fail(violations_report(violations, page.url))
