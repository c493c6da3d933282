"""The browser every real-browser test drives: Debian's headless Chromium through playwright (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from child_env import child_env
from local_servers import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def browser(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is needed: apt-get install chromium (make test does it)"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=child_env(HOME=str(tmp_path)))
        yield chromium
        chromium.close()
