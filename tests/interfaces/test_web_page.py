"""The web page in real headless Chromium (Debian's, driven by Playwright): chat with the PM,
see the approval card, approve it, see the fill, the position and the equity plot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.server import serve_in_background
from tests.interfaces.conftest import KEYS, desk_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (`make test` does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def test_chat_approve_and_see_the_fill_in_the_browser(
    host: DeskHost, tmp_path: Path, browser: Browser
):
    with serve_in_background(create_app(desk_settings(tmp_path), host)) as url:
        page = browser.new_page()
        page.goto(url)
        page.fill("#key", KEYS["approver"])
        page.dispatch_event("#key", "change")
        page.fill("#message", "buy 3 BTC")
        page.click("#send")
        card = page.locator("#approvals .card")
        expect(card).to_have_count(1, timeout=30_000)
        expect(card).to_contain_text("buy 3 bitstamp:BTC/USD")
        expect(card).to_contain_text("APPROVAL_REQUIRED")
        card.locator("button.approve").click()
        expect(page.locator("#log")).to_contain_text("filled", timeout=30_000)
        expect(page.locator("#approvals")).to_contain_text("none")
        expect(page.locator("#positions tbody tr")).to_have_count(1)
        expect(page.locator("#positions tbody")).to_contain_text("bitstamp:BTC/USD")
        expect(page.locator("#equity polyline")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "desk-page.png"), full_page=True)
    assert host.session.desk.gateway.positions()[0].quantity == pytest.approx(3)
