"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven through Selenium.

The browser and its driver come from the same Debian package set, so their versions always
match and nothing is downloaded. Selenium calls block: call them from a thread when the page's
server runs on the test's event loop.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Flags for a headless run as root in a container, with no network beyond 127.0.0.1.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def browser_missing() -> str | None:
    """Why no browser can run here, or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        return f"{' and '.join(missing)} missing (Debian: apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def headless_chromium(profile_dir: Path) -> Iterator[webdriver.Chrome]:
    """A fresh browser with its own profile under `profile_dir`, closed afterwards."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def full_page_png(driver: webdriver.Chrome) -> bytes:
    """The whole page, not only the window, as PNG bytes."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    return base64.b64decode(shot["data"])


def main() -> None:
    """`python -m tests.browser URL OUT.png`: a full-page screenshot, e.g. of the demo's page."""
    import sys
    import tempfile

    url, out = sys.argv[1], Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as profile, headless_chromium(Path(profile)) as driver:
        driver.get(url)
        out.write_bytes(full_page_png(driver))


if __name__ == "__main__":
    main()
