"""A real browser against a real JupyterLab: run notebook 01, type a token into its inspector.

Debian's chromium driven by Python playwright (`executable_path`, never `playwright install`).
CI installs chromium first (.ci/run); on a machine without it the test skips and says why.
The screenshot lands in test-output/ (gitignored) for a person to look at.

Every verdict starts with ✅ or ❌, and Debian's Chromium has no font for them unless an emoji
font is installed (CI: fonts-noto-color-emoji, .ci/run): without one a learner sees a box. The
emoji test finds that font with fc-list (or skips and says why, except under CI, where a missing
font fails), then checks that the ✅ of a stored verdict, drawn in the page with the font
family and size Lab gives outputs, comes out in colour, next to a character no font has, which
comes out as the grey missing-glyph box.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from labserver import ROOT, jupyter_lab

from labkit import algorithms, keys
from labkit.browser import CHROMIUM, CHROMIUM_ARGS  # one launch recipe for every browser test

NOTEBOOK = ROOT / "notebooks" / "01-token-anatomy.ipynb"
SCREENSHOT = ROOT / "test-output" / "browser-inspector.png"
EMOJI_SHOT = ROOT / "test-output" / "browser-emoji.png"
CHECK_MARK = "\u2705"  # ✅, the start of every "correct" verdict
NO_GLYPH = "\U0010fffd"  # a private-use character no font draws: the missing-glyph box
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


# Copy the first stored verdict that starts with ✅ into a box pinned to the page's top-left
# corner, with the font family and size Lab gives it (Lab scrolls its notebook by itself, so a
# glyph inside it can move between measuring and screenshotting), and put a character no font
# has right after the ✅. Returns where the two glyphs are drawn.
PIN_GLYPHS = """([mark, missing]) => {
  const output = [...document.querySelectorAll('.jp-OutputArea-output pre')]
    .find(el => el.textContent.includes(mark));
  if (!output) return null;
  const style = getComputedStyle(output);
  const pinned = document.createElement('pre');
  Object.assign(pinned.style, {
    position: 'fixed', left: '0px', top: '0px', margin: '0px', padding: '4px', zIndex: 100000,
    background: 'white', color: style.color, fontFamily: style.fontFamily,
    fontSize: style.fontSize, lineHeight: style.lineHeight,
  });
  const span = (text) => Object.assign(document.createElement('span'), {textContent: text});
  const [glyph, reference] = [span(mark), span(missing)];
  pinned.append(glyph, ' ', reference, ' ' + output.textContent.split(mark)[1].slice(0, 40));
  document.body.appendChild(pinned);
  const box = el => {
    const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height};
  };
  return {mark: box(glyph), missing: box(reference), pinned: box(pinned), font: style.fontFamily};
}"""
STORED_CHECK_MARK = """(mark) => [...document.querySelectorAll('.jp-OutputArea-output')]
  .some(el => el.textContent.includes(mark))"""


def emoji_fonts() -> list[str]:
    """The installed fonts that have a glyph for ✅ (fontconfig, which Chromium uses on Linux)."""
    if shutil.which("fc-list") is None:
        return []
    listed = subprocess.run(
        ["fc-list", f":charset={ord(CHECK_MARK):x}", "family"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return sorted({line.strip() for line in listed.stdout.splitlines() if line.strip()})


def coloured_share(png: bytes, box: dict[str, float]) -> float:
    """The share of the pixels in `box` of a screenshot that are clearly coloured (not grey)."""
    from PIL import Image  # matplotlib's own dependency

    left, top = round(box["x"]), round(box["y"])
    crop = (left, top, left + round(box["width"]), top + round(box["height"]))
    raw = Image.open(io.BytesIO(png)).convert("RGB").crop(crop).tobytes()
    pixels = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    return sum(max(p) - min(p) > 60 for p in pixels) / len(pixels)


def test_check_mark_renders_as_an_emoji_not_a_box(tmp_path: Path) -> None:
    """The ✅ of a verdict is a colour glyph; a character without a glyph, beside it, is not."""
    fonts = emoji_fonts()
    if not fonts:
        reason = (
            "no font with a glyph for ✅ (fc-list ':charset=2705'): install Debian's "
            "fonts-noto-color-emoji (CI does: .ci/run)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, but {reason}")
        pytest.skip(reason)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    served = tmp_path / "served"  # a copy: Lab autosaves
    served.mkdir()
    shutil.copy(NOTEBOOK, served / NOTEBOOK.name)
    with jupyter_lab(tmp_path, root=served) as lab, sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?reset&token={lab.token}")
            # The instructor copy stores its verdicts ("✅ 01.1 correct. ..."): no need to run it.
            page.wait_for_function(STORED_CHECK_MARK, arg=CHECK_MARK, timeout=TIMEOUT_MS)
            boxes = page.evaluate(PIN_GLYPHS, [CHECK_MARK, NO_GLYPH])
            assert boxes, f"no ✅ in any output of {NOTEBOOK.name}"
            EMOJI_SHOT.parent.mkdir(exist_ok=True)
            shot = page.screenshot(path=str(EMOJI_SHOT), clip=boxes["pinned"])
        finally:
            browser.close()
    assert boxes["mark"]["width"] > 4 and boxes["mark"]["height"] > 4, boxes
    in_colour = coloured_share(shot, boxes["mark"])  # the pinned box is at (0, 0)
    boxed = coloured_share(shot, boxes["missing"])
    print(
        f"fonts with ✅: {fonts}; ✅ {in_colour:.0%} of its pixels coloured, a missing glyph's "
        f"{boxed:.0%}; screenshot {EMOJI_SHOT}"
    )
    assert boxed < 0.02, (
        f"the missing-glyph reference is coloured too: the measure is broken {boxes}"
    )
    assert in_colour > 0.25, f"✅ is drawn without colour: a box, not an emoji ({boxes})"


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
