"""The review loop as an editor lives it: headless Chromium, JavaScript off, a phone's
screen, against ``syndicate run --serve`` on the bundled sample (real Apertium).

The editor signs in with a token from the environment, opens the entry most in need of
review, corrects a sentence and saves; the served Atom feed of that language must carry
the correction, with the entry's ``updated`` moved, in under 2 seconds. The time is
printed, and asserted with that bound only (a benchmark's job is the rest).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.conftest import write_config
from tests.serve.conftest import run_cli, start_server
from tests.serve.test_status_page import CHROMIUM, DRIVER

TOKEN = "desk-token-for-the-browser-test-0123"

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
        reason="chromium/chromium-driver missing: run `make system-packages`",
    ),
]


def settle(done: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``done()`` (a page the browser is still loading), at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the browser did not get there in time"
        time.sleep(0.05)


def test_a_correction_on_the_review_page_reaches_the_served_feed_in_under_two_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    config = write_config(tmp_path, languages=("es", "ca"))
    result = run_cli(config, "once")
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv("SYNDICATE_EDITORS", f"marta:{TOKEN}")
    server = start_server(config, "run", "--serve")

    def browser(profile: str, phone: bool) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / profile}",
        ):
            options.add_argument(flag)
        if phone:  # (ChromeDriver's emulated taps do not submit forms with JavaScript off: the phone only looks)
            options.add_experimental_option(
                "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 1400, "pixelRatio": 1}}
            )
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        made = webdriver.Chrome(service=Service(DRIVER), options=options)
        made.set_page_load_timeout(30)
        return made

    driver = browser("profile", phone=False)
    try:
        driver.get(server.url("/review/es"))
        assert "Sign in" in driver.title  # not signed in: the sign-in form, nothing else
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        # A form's submission is not always awaited by the click: wait for the next page.
        settle(lambda: "es queue" in driver.title)
        assert "signed in as marta" in driver.find_element(By.TAG_NAME, "nav").text
        first = driver.find_element(By.CSS_SELECTOR, "tbody tr td a")
        first.click()
        settle(lambda: driver.current_url.rstrip("/").rsplit("/", 1)[1].isdigit())
        article = int(driver.current_url.rstrip("/").rsplit("/", 1)[1])

        # Source beside target for every segment; the title is segment 0.
        sections = driver.find_elements(By.CSS_SELECTOR, "section.seg")
        assert len(sections) > 5
        body = sections[1]
        source = body.find_element(By.CSS_SELECTOR, ".source").text
        box = body.find_element(By.TAG_NAME, "textarea")
        old = box.get_attribute("value")
        assert source and old and source != old
        fixed = "Texto corregido por la redacción: " + old[:60]
        box.clear()
        box.send_keys(fixed)
        feed_url = server.url("/news/feeds/es/atom.xml" if "/news/" in config.read_text() else "/feeds/es/atom.xml")
        before = feedparser.parse(httpx.get(feed_url, timeout=5).content)
        updated_before = {e.id: e.updated for e in before.entries}
        started = time.monotonic()
        body.find_element(By.CSS_SELECTOR, "button[value=save]").click()
        elapsed = None
        with httpx.Client(timeout=5) as client:
            while time.monotonic() - started < 10:
                if fixed in client.get(feed_url).text:
                    elapsed = time.monotonic() - started
                    break
                time.sleep(0.02)
        print(f"\ncorrection saved on the page -> in the served Atom feed after {elapsed:.3f} s" if elapsed else "")
        assert elapsed is not None, server.log.read_text(errors="replace")
        assert elapsed < 2.0
        after = feedparser.parse(httpx.get(feed_url, timeout=5).content)
        moved = [e for e in after.entries if fixed in e.content[0].value]
        assert len(moved) == 1 and moved[0].updated != updated_before[moved[0].id]

        # The page says so, shows the correction as the editor's, and the history holds it.
        settle(lambda: "flash=" in driver.current_url)
        assert "Saved. Published now" in driver.find_element(By.ID, "flash").text
        assert driver.find_element(By.ID, "t1").get_attribute("value") == fixed
        assert "marta" in driver.find_element(By.TAG_NAME, "table").text
        # Readable on a phone, signed in with the same session: nothing wider than the screen.
        phone = browser("phone", phone=True)
        try:
            phone.get(server.url("/review/login"))
            phone.add_cookie({k: v for k, v in driver.get_cookie("syndicate_review").items() if k != "sameSite"})
            phone.get(server.url(f"/review/es/{article}"))
            assert phone.find_element(By.ID, "t1").get_attribute("value") == fixed
            assert phone.find_element(By.TAG_NAME, "body").size["width"] <= 390
            assert phone.find_element(By.ID, "t1").size["width"] <= 390
            shot = tmp_path / "review.png"
            assert phone.save_screenshot(str(shot))
        finally:
            phone.quit()

        # Approve it: the queue of those waiting no longer lists it.
        driver.find_element(By.ID, "approve").click()
        settle(lambda: "Approved" in driver.current_url)
        assert "Approved." in driver.find_element(By.ID, "flash").text
        driver.get(server.url("/review/es"))
        assert f'/review/es/{article}"' not in driver.page_source
        if target := os.environ.get("SYNDICATE_SCREENSHOTS"):
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(target) / "review.png")
    finally:
        driver.quit()
        assert server.stop() == 0, server.log.read_text(errors="replace")
    # The audit log, from the command line, holds the page's change.
    history = run_cli(config, "review", "history", "es")
    assert history.returncode == 0 and "marta" in history.stdout and "correct (page)" in history.stdout
