"""A real browser against a real JupyterLab: run notebook 01, type a token into its inspector.

Debian's chromium driven by Python playwright (`executable_path`, never `playwright install`).
CI installs chromium first (.ci/run); on a machine without it the test skips and says why.
The screenshot lands in test-output/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from labserver import ROOT, jupyter_lab

from labkit import algorithms, keys

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = ROOT / "notebooks" / "01-token-anatomy.ipynb"
SCREENSHOT = ROOT / "test-output" / "browser-inspector.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000
NAME = "Ada Lovelace"  # a claim no stored output of notebook 01 contains

# Lab's toolbar says "idle" before the kernel's websocket is up, and a Run All sent then is
# silently lost: wait for the kernel object itself.
KERNEL_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const session = panel && panel.sessionContext && panel.sessionContext.session;
  const kernel = session && session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
ALL_CELLS_RUN = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const code = panel.content.widgets.filter(cell => cell.model.type === 'code');
  return panel.sessionContext.session.kernel.status === 'idle'
    && code.every(cell => cell.model.executionCount !== null);
}"""
ERRORS = """() => {
  const errors = [];
  for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
    if (cell.model.type !== 'code') continue;
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const output = cell.model.outputs.get(i).toJSON();
      if (output.output_type === 'error') errors.push(`${output.ename}: ${output.evalue}`);
    }
  }
  return errors;
}"""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM}: install Debian's `chromium` package to run the "
    "browser test (CI does: .ci/run)",
)


def test_inspector_decodes_a_typed_token_in_jupyterlab(tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    # The server gets a copy: Lab autosaves, and the committed notebook must stay as it is.
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(NOTEBOOK, served / NOTEBOOK.name)
    token = algorithms.sign_token(
        {"sub": "ada", "name": NAME, "exp": int(time.time()) + 30 * 86400},  # a finding
        keys.demo_secret(),
        "HS256",
    )
    start = time.monotonic()
    with jupyter_lab(tmp_path, root=served) as lab, sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?reset&token={lab.token}")
            page.wait_for_function(KERNEL_READY, timeout=TIMEOUT_MS)
            # Clear the stored outputs first, so "every cell has run" means run here.
            page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(ALL_CELLS_RUN, timeout=TIMEOUT_MS)
            assert page.evaluate(ERRORS) == [], lab.logs()

            box = page.locator(".labkit-inspector-token textarea")
            box.fill(token)  # fires the input events a person's typing does
            payload = page.locator(".labkit-inspector-payload")
            sync_api.expect(payload).to_contain_text(NAME, timeout=TIMEOUT_MS)
            findings = page.locator(".labkit-inspector-findings")
            sync_api.expect(findings).to_contain_text("more than a day away")
            page.locator(".labkit-inspector").evaluate("el => el.scrollIntoView({block: 'center'})")
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    print(f"browser test: {time.monotonic() - start:.1f} s, screenshot {SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 10_000
