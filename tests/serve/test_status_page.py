"""The status page as an operator sees it: headless Chromium at a phone's width.

Debian's ``chromium`` and ``chromium-driver`` (``make system-packages``), driven by
Selenium; JavaScript is switched off, since the page must work without it. The
screenshot is kept in the test's temporary folder (and copied to
``$SYNDICATE_SCREENSHOTS`` when set) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.serve.conftest import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
        reason="chromium/chromium-driver missing: run `make system-packages`",
    ),
]


def test_status_page_in_headless_chromium(server: Server, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    # A phone's screen (headless windows are never narrower than 500 pixels).
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 1100, "pixelRatio": 1}}
    )
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(server.url("/status"))
        assert "syndicate status" in driver.title
        daemon = driver.find_element(By.ID, "daemon").text
        assert "Daemon not running" in daemon and f"Server PID {server.process.pid}" in daemon
        source = driver.find_element(By.ID, "source-sample").text
        assert "ok" in source and "7 new, 0 updated, 0 failed" in source
        language = driver.find_element(By.ID, "language-es").text
        assert "Español" in language and "Pending translations\n0" in language.replace(": ", "\n")
        assert "apertium" in language and "https://news.example.org/news/feeds/es/atom.xml" in language
        # Readable on a phone: nothing wider than the screen.
        body = driver.find_element(By.TAG_NAME, "body")
        assert body.size["width"] <= 390
        shot = tmp_path / "status.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
        if target := os.environ.get("SYNDICATE_SCREENSHOTS"):
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(target) / "status.png")
    finally:
        driver.quit()
