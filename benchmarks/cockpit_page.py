"""The web cockpit in a browser on loopback: what a first visit downloads (the page itself, and
plotly, which the page fetches only after its panels show their figures), the time to first
contentful paint, the time until every panel shows data, and the time until the charts are
drawn. Debian's Chromium driven by Playwright, a fresh browser context (cold cache) for each
load, then one reload in the same context (warm cache). A desk with real crypto and GOOG
bars in an embedded store, one filled order (a position, a fill, an audit trail) and one order
waiting for approval.

Run: uv run python -m benchmarks.cockpit_page
"""

from __future__ import annotations

import math
import shutil
import statistics
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.served_desk import desk_host, served

KEY = "bench-admin-key-0123456789"
LOADS = 5
VIEWPORT = {"width": 1440, "height": 1000}
TIMEOUT_MS = 60_000
PAGE_FILES = ("/", "/static/cockpit.js", "/static/cockpit.css")
PLOTLY = "/static/plotly.min.js"

# What a load reports, read in the page once the charts are drawn: performance timings
# (ms since navigation start) and each resource's bytes (transferred and decoded).
READ = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const files = [nav, ...performance.getEntriesByType("resource")].map((e) => ({
    path: new URL(e.name).pathname, transfer: e.transferSize, body: e.decodedBodySize,
    encoded: e.encodedBodySize,
  }));
  const c = window.__cockpit;
  return {
    fcp: paint ? paint.startTime : null,
    firstPanel: Math.min(...Object.values(c.firstData)),
    allPanels: Math.max(...Object.values(c.firstData)),
    panels: c.firstData,
    plotly: c.plotlyAt,
    charts: c.chartsAt,
    files,
  };
}"""


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is not installed: apt-get install chromium")
    with desk_host(KEY) as host:
        host.ask("buy 0.5 BTC", "bench")  # a fill, a position, an audit trail
        host.ask("buy 3 BTC", "bench-waiting")  # an approval card
        with served(host) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True)
            try:
                measure(browser, url)
            finally:
                browser.close()


def load(page: Page, url: str, *, reload: bool = False) -> dict[str, Any]:
    if reload:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_function(
        "document.querySelectorAll('section.panel[data-loaded]').length === 7"
        " && window.__cockpit.chartsAt !== null",
        timeout=TIMEOUT_MS,
    )
    page.locator("#price-chart .main-svg").first.wait_for(timeout=TIMEOUT_MS)
    result: dict[str, Any] = page.evaluate(READ)
    return result


def weight(files: list[dict[str, Any]], paths: tuple[str, ...]) -> tuple[int, int]:
    chosen = [f for f in files if f["path"] in paths]
    return sum(f["transfer"] for f in chosen), sum(f["body"] for f in chosen)


def api_weight(files: list[dict[str, Any]]) -> tuple[int, int, int]:
    calls = [f for f in files if f["path"].startswith("/v1/")]
    return len(calls), sum(f["transfer"] for f in calls), sum(f["body"] for f in calls)


def p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank: the max of 5
    return f"{statistics.median(ordered):7.0f} / {p95:7.0f} ms"


def measure(browser: Browser, url: str) -> None:
    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    for _ in range(LOADS):
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.add_init_script(f"sessionStorage.setItem('qd-key', {KEY!r});")
        page = context.new_page()
        cold.append(load(page, url))
        warm.append(load(page, url, reload=True))
        context.close()

    files = cold[0]["files"]
    page_t, page_b = weight(files, PAGE_FILES)
    plotly_t, plotly_b = weight(files, (PLOTLY,))
    calls, api_t, api_b = api_weight(files)
    print("first visit, bytes transferred (decoded):")
    print(f"  page (HTML, cockpit.js, cockpit.css)     {page_t:>10,} ({page_b:,})")
    for f in files:
        if f["path"] in (*PAGE_FILES, PLOTLY):
            print(f"    {f['path']:<36} {f['transfer']:>10,} ({f['body']:,})")
    print(f"  plotly.min.js, after the panels          {plotly_t:>10,} ({plotly_b:,})")
    print(f"  page + plotly                            {page_t + plotly_t:>10,} "
          f"({page_b + plotly_b:,})")  # fmt: skip
    print(f"  API reads for the first render ({calls:>2})     {api_t:>10,} ({api_b:,})")
    warm_t, _ = weight(warm[0]["files"], (*PAGE_FILES, PLOTLY))
    print(f"  reload, warm cache: page + plotly        {warm_t:>10,}")
    print(f"timings over {LOADS} loads, p50 / p95 (ms since navigation):")
    for label, key in (("first contentful paint", "fcp"),
                       ("first panel with data", "firstPanel"),
                       ("every panel with data", "allPanels"),
                       ("plotly loaded", "plotly"),
                       ("charts drawn", "charts")):  # fmt: skip
        print(f"  {label:<24} cold {p50_p95([r[key] for r in cold])}   "
              f"warm {p50_p95([r[key] for r in warm])}")  # fmt: skip
    print("each panel's first data, cold, p50 / p95:")
    for panel in sorted(cold[0]["panels"], key=lambda name: cold[0]["panels"][name]):
        print(f"  {panel:<24}      {p50_p95([r['panels'][panel] for r in cold])}")


if __name__ == "__main__":
    main()
