"""The web cockpit in real headless Chromium (Debian's, driven by Playwright), against a desk
with real bars: a streamed research turn and a message that waits its turn, an order answered
by two approvers in two browsers, a halt from the button and a re-arm by an admin, the audit
search finding the filled order, live updates without reloading, a viewer who sees no
buttons, and a phone-width page with no horizontal scroll. The run leaves screenshots of the
cockpit (`QUANTDESK_SCREENSHOTS=<folder>` keeps them; the README shows them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.server import serve_in_background
from tests.interfaces.conftest import KEYS, ROLES, desk_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
TURN_S = 120_000  # ms: a research turn backtests and walks forward on a busy machine
UI_S = 20_000
MARKUP = "<img src=x onerror=window.__xss=1>"
DUAL_ORDER = "buy 12 BTC"
"""About 231,000 notional at the last stored close (19,248.82): above the default limits'
dual_approval_notional (200,000), below the fat-finger cap (250,000)."""


@pytest.fixture
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (`make test` does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def cockpit(host: DeskHost, tmp_path: Path) -> Iterator[str]:
    with serve_in_background(create_app(desk_settings(tmp_path), host)) as url:
        yield url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QUANTDESK_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Pages:
    """Browser contexts, one per person (sessionStorage is per tab), each page's script
    errors collected so the test can say none happened."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.errors: list[str] = []

    def open(self, who: str, viewport: dict[str, int] = DESKTOP) -> Page:
        page = self.browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
        page.on("pageerror", lambda exc: self.errors.append(f"{who}: {exc}"))
        page.goto(self.url)
        page.fill("#key", KEYS[who])
        page.dispatch_event("#key", "change")
        expect(page.locator("#me")).to_have_text(f"{who} ({ROLES[who]})", timeout=UI_S)
        # Every panel shows its figures, and the event stream is up.
        expect(page.locator("section.panel[data-loaded]")).to_have_count(7, timeout=UI_S)
        expect(page.locator("#live")).to_have_text("live", timeout=UI_S)
        return page


@pytest.fixture
def pages(browser: Browser, cockpit: str) -> Iterator[Pages]:
    opened = Pages(browser, cockpit)
    yield opened
    assert opened.errors == []


def send(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.click("#send")


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"page is {width}px wide"


def charts_drawn(page: Page) -> None:
    expect(page.locator("#equity-chart .main-svg").first).to_be_visible(timeout=UI_S)
    expect(page.locator("#price-chart .main-svg").first).to_be_visible(timeout=UI_S)


def test_a_streamed_turn_then_a_queued_message_each_under_its_own_request(
    host: DeskHost, pages: Pages
):
    trader = pages.open("trader")
    turns = trader.locator("#turns .turn")
    first, second = turns.nth(0), turns.nth(1)
    # The test holds the desk, as another turn would, so the research turn is still running
    # when the second message is sent: on a fast machine it could otherwise end first.
    with host.lock:
        send(trader, "research momentum for BTC")
        expect(first.locator(".ask")).to_contain_text("research momentum for BTC")
        # Sent while the research turn runs: it waits, visibly, and is not sent yet. Its
        # markup is shown as text, never run.
        send(trader, f"what is our exposure? {MARKUP}")
        expect(trader.locator("#queued li")).to_contain_text("what is our exposure?")
        expect(trader.locator("#chat-busy")).to_be_visible()
    # Steps arrive under the research request as each agent finishes.
    for agent in ("research", "judge", "risk"):
        expect(first.locator(".step .agent", has_text=agent).first).to_be_visible(timeout=TURN_S)
    expect(turns).to_have_count(2, timeout=TURN_S)
    expect(first).to_have_attribute("data-finished", "1")
    expect(trader.locator("#queued li")).to_have_count(0)
    expect(second.locator(".ask")).to_contain_text(f"what is our exposure? {MARKUP}")
    expect(second).to_have_attribute("data-finished", "1", timeout=TURN_S)
    assert trader.evaluate("window.__xss") is None
    expect(second.locator("img")).to_have_count(0)
    expect(second.locator(".step").first).to_be_visible()
    assert "what is our exposure" not in first.inner_text()
    expect(first.locator(".error")).to_have_count(0)
    expect(second.locator(".error")).to_have_count(0)
    expect(trader.locator("#chat-busy")).to_be_hidden()


def test_two_approvers_fill_an_order_the_audit_finds_it_and_a_halt_is_rearmed(
    pages: Pages, shots: Path
):
    trader = pages.open("trader")
    send(trader, DUAL_ORDER)
    note = trader.locator("#turns .turn .approval-note")
    expect(note).to_contain_text("Approvals panel", timeout=TURN_S)

    approver = pages.open("approver")
    card = approver.locator("#approvals .card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("buy 12 bitstamp:BTC/USD")
    expect(card).to_contain_text("APPROVAL_REQUIRED")
    expect(card.locator(".approvers")).to_contain_text("0 of 2")
    expect(card.locator(".countdown")).to_contain_text("left")
    # Rejecting needs a reason: nothing is sent without one.
    card.locator("button.reject").click()
    expect(card.locator(".result")).to_contain_text("reason is required")
    card.locator(".reason").fill("sized as the desk asked")
    card.locator("button.approve").click()
    expect(card.locator(".approvers")).to_contain_text("1 of 2", timeout=TURN_S)
    expect(card.locator(".approvers")).to_contain_text("approver")

    second = pages.open("approver2")
    card2 = second.locator("#approvals .card")
    expect(card2.locator(".approvers")).to_contain_text("1 of 2")
    card2.locator(".reason").fill("second pair of eyes")
    card2.locator("button.approve").click()
    expect(second.locator("#approval-log")).to_contain_text("filled", timeout=TURN_S)
    expect(card2).to_have_count(0)

    # Without a reload, the other pages hear of it over the event stream.
    expect(approver.locator("#approvals .card")).to_have_count(0, timeout=UI_S)
    expect(trader.locator("#positions tbody")).to_contain_text("bitstamp:BTC/USD", timeout=UI_S)
    expect(trader.locator("#positions tbody tr")).to_have_count(1)

    # The audit trail joins the decision, the gate's verdict, both approvals and the fill.
    trader.fill("#audit-instrument", "bitstamp:BTC/USD")
    trail = trader.locator("#trails .trail", has_text="buy 12 bitstamp:BTC/USD")
    expect(trail).to_have_count(1, timeout=UI_S)
    expect(trail.locator(".decision")).to_contain_text(DUAL_ORDER)
    expect(trail.locator(".gate")).to_contain_text("APPROVAL_REQUIRED")
    expect(trail.locator(".approvals")).to_contain_text("approver2")
    expect(trail.locator(".fills")).not_to_contain_text("none")
    order_id = trail.get_attribute("data-order")
    assert order_id
    trader.fill("#audit-instrument", "")
    trader.fill("#audit-q", order_id)
    expect(trader.locator("#trails .trail")).to_have_count(1, timeout=UI_S)
    expect(trader.locator("#trails .trail")).to_have_attribute("data-order", order_id)

    # A halt from the button, with the trader's name and reason; approvers cannot re-arm.
    expect(trader.locator("#rearm")).to_be_hidden()
    expect(approver.locator("#rearm")).to_be_hidden()
    trader.click("#halt")
    expect(trader.locator("#state-result")).to_contain_text("reason is required")
    expect(trader.locator("#state-value")).to_have_text("ACTIVE")
    trader.fill("#halt-reason", "drill: venue looks wrong")
    trader.click("#halt")
    expect(trader.locator("#state-value")).to_have_text("HALTED", timeout=UI_S)
    expect(trader.locator("#state-meta")).to_contain_text("trader")
    expect(trader.locator("#state-meta")).to_contain_text("drill: venue looks wrong")
    expect(approver.locator("#state-value")).to_have_text("HALTED", timeout=UI_S)

    admin = pages.open("admin")
    expect(admin.locator("#state-value")).to_have_text("HALTED")
    admin.fill("#rearm-reason", "drill over")
    admin.click("#rearm")
    expect(admin.locator("#state-value")).to_have_text("ACTIVE", timeout=UI_S)
    expect(admin.locator("#state-meta")).to_contain_text("admin")
    expect(admin.locator("#state-meta")).to_contain_text("drill over")
    expect(trader.locator("#state-value")).to_have_text("ACTIVE", timeout=UI_S)

    # The cockpit with a strategy researched and an order filled, at a laptop's width and a
    # phone's.
    send(admin, "research momentum for BTC")
    expect(admin.locator("#turns .turn")).to_have_attribute("data-finished", "1", timeout=TURN_S)
    expect(admin.locator("#strategies")).to_contain_text("bitstamp:BTC/USD", timeout=UI_S)
    admin.locator("#turns").evaluate("el => el.replaceChildren()")
    send(admin, "what is our exposure?")
    expect(admin.locator("#turns .turn")).to_have_attribute("data-finished", "1", timeout=TURN_S)
    expect(admin.locator("#turns .turn .step table")).to_contain_text("bitstamp:BTC/USD")
    expect(admin.locator("#kpis")).to_contain_text("VaR 95")
    expect(admin.locator("#limits .bar-row").first).to_be_visible()
    expect(admin.locator("#exposure")).to_contain_text("BTC")
    charts_drawn(admin)
    expect(admin.locator("#price-chart .scatterlayer .point").first).to_be_attached()
    expect(admin.locator(".panel.flash")).to_have_count(0)
    admin.screenshot(path=str(shots / "cockpit-desktop.png"), full_page=True)
    phone = pages.open("admin", PHONE)
    charts_drawn(phone)
    no_horizontal_scroll(phone)
    expect(phone.locator(".panel.flash")).to_have_count(0)
    phone.screenshot(path=str(shots / "cockpit-phone.png"), full_page=True)


def test_a_viewer_sees_the_desk_and_no_buttons(host: DeskHost, pages: Pages):
    host.ask("buy 3 BTC", "waiting")  # a card to look at, but not to answer
    host.ask("write the desk report", "report")
    viewer = pages.open("viewer", PHONE)
    expect(viewer.locator("#approvals .card")).to_have_count(1)
    expect(viewer.locator("#approvals .card")).to_contain_text("buy 3 bitstamp:BTC/USD")
    expect(viewer.locator("#state-value")).to_have_text("ACTIVE")
    expect(viewer.locator("#market #series option").first).to_be_attached()
    expect(viewer.locator("#message")).to_be_hidden()
    expect(viewer.locator("#message")).to_be_disabled()
    expect(viewer.locator("#chat-readonly")).to_be_visible()
    assert viewer.locator("section.panel button:visible").count() == 0
    assert viewer.locator("button:visible").count() == 0
    # The search works without a button: typing is enough.
    viewer.fill("#audit-q", "no such order anywhere")
    expect(viewer.locator("#trails")).to_contain_text("no orders match", timeout=UI_S)
    charts_drawn(viewer)
    no_horizontal_scroll(viewer)
    # A report opens in a new tab from a blob fetched with the key (its URL holds no key),
    # with its picture, which the tab could not fetch by itself.
    link = viewer.locator('#reports a.report-file[data-file="report.html"]').first
    expect(link).to_be_visible()
    with viewer.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    assert report.url.startswith("blob:")
    assert KEYS["viewer"] not in report.url
    expect(report).to_have_title("Desk report")
    expect(report.locator("body")).to_contain_text("Positions")
    report.wait_for_function("document.images[0].complete && document.images[0].naturalWidth > 0")
