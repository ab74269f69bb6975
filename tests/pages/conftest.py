"""Page tests reuse the API tests' app and accounts; the browser journeys share one Chromium per module."""

import pytest
from playwright.sync_api import sync_playwright

from tests.api.conftest import PASSWORD, accounts, api, app, client, login, settings  # noqa: F401
from tests.pages.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (nothing downloaded), for a module's journeys."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
