"""Under nbval, skip notebook 14 where its browser is missing, and say why.

Notebook 14 drives Debian's Chromium through playwright (``labkit.browser``); its setup cell
stops with the same reason when run by hand. tests/test_browser_tokens.py skips alike.
"""

from __future__ import annotations

import pytest

from labkit.browser import chromium_missing

BROWSER_NOTEBOOKS = ("14-tokens-in-the-browser.ipynb",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = chromium_missing()
    if missing is None:
        return
    skip = pytest.mark.skip(reason=f"{missing}: this notebook drives a real browser")
    for item in items:
        if item.path.name in BROWSER_NOTEBOOKS:
            item.add_marker(skip)
