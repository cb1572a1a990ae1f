"""Browser tests: the registry served on loopback from the test database, driven by headless Chromium.

Debian's `chromium` and `chromium-driver` are used (`make test` installs them with apt when missing: see the
Makefile's `browser-deps`); without them every browser test is skipped with the reason. Screenshots of each
step go to tests/artifacts/browser/<test>/ (ignored by git), printed at the end of the run.
"""

import base64
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import next_totp_code

CHROMIUM = os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("REGISTRY_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
WAIT_SECONDS = 15


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return (f"browser tests skipped: {path} is missing. Install Debian's chromium and chromium-driver "
                    "(`make browser-deps`, as root: apt-get install -y chromium chromium-driver).")
    return None


@pytest.fixture(scope="session")
def live_server(app):
    """The app on 127.0.0.1 with a free port, in a thread, against the test database."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class Browser:
    """One browser context: its own Chromium (own cookies), a base URL and numbered screenshots."""

    def __init__(self, driver, base: str, shots: Path, name: str, downloads: Path):
        self.driver, self.base, self.shots, self.name, self.downloads = driver, base, shots, name, downloads

    def get(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def button(self, text: str):
        """The first button whose visible text is `text`."""
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")

    def link(self, text: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.LINK_TEXT, text)

    def fill(self, name: str, value: str) -> None:
        field = self.find(f'[name="{name}"]')
        if field.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(field).select_by_value(value)
        elif field.get_attribute("type") == "date":
            # A date input's typing order depends on the browser's locale: set the ISO value directly.
            self.driver.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            field.send_keys(value)

    def click_and_wait(self, element) -> None:
        """Click and wait for the next page to load (the old page's <html> goes stale)."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.find("html")
        element.click()

        def old_page_gone(_driver) -> bool:
            # Chromium answers for a node of the unloading page either "stale element" or, caught mid-navigation,
            # "node does not belong to the document": both mean the old page is gone.
            try:
                old.is_enabled()
            except WebDriverException:
                return True
            return False

        WebDriverWait(self.driver, WAIT_SECONDS).until(old_page_gone)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", self.find("body").text)

    def shot(self, step: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        count = len(list(self.shots.glob("*.png"))) + 1
        path = self.shots / f"{count:02d}-{self.name}-{step}.png"
        # The whole page, not only the window (Chromium's DevTools protocol).
        image = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True,
                                                                       "fromSurface": True})
        path.write_bytes(base64.b64decode(image["data"]))
        return path

    def sign_in(self, app, person) -> None:
        """Password, then (for roles that need it) a fresh TOTP code computed from the account's secret."""
        self.get("/login")
        self.fill("email", person.email)
        self.fill("password", person.password)
        self.click_and_wait(self.button("Sign in"))
        if self.path.startswith("/login/verify"):
            self.fill("code", next_totp_code(app, person))
            self.click_and_wait(self.find('main form button[type="submit"]'))
        assert self.path == "/", f"{person.email} did not reach the dashboard: {self.path} {self.text[:300]}"


@pytest.fixture
def browsers(live_server, request):
    """browsers("officer") -> a new Browser; all are closed after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened = []
    shots = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(shots, ignore_errors=True)

    def open_browser(name: str, width: int = 1280, height: int = 900) -> Browser:
        downloads = shots / f"downloads-{name}"
        downloads.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={width},{height}", "--lang=en-GB", "--no-first-run",
                         "--disable-extensions", "--password-store=basic"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(downloads), "download.prompt_for_download": False,
            "intl.accept_languages": "en", "credentials_enable_service": False,
        })
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        browser = Browser(driver, live_server, shots, name, downloads)
        opened.append(browser)
        return browser

    yield open_browser
    for browser in opened:
        browser.driver.quit()
    if shots.exists():
        print(f"\nscreenshots of {request.node.name}: {shots}")
