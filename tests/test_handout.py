"""The printable handout (docs/handout.md): rendered in real Chromium, one or two A4 pages, and
every fact it states checked against the code that defines it.

The Markdown is turned into HTML with mistune (installed with nbconvert, which JupyterLab needs)
and styled by docs/handout.css; headless Debian Chromium driven by playwright prints it with
``page.pdf()``. The PDF lands in a temp folder (``make handout`` writes ``build/handout.pdf``:
``python tests/test_handout.py OUT.pdf``), so no generated PDF is committed to go stale.

The facts: the status bodies are the gateway's own constants, the rotation steps pass exercise
10.3's check, the policy order is what ``labkit.aws.evaluate`` decides, every ``labkit`` command
and option named exists in the CLI's parser (and every command is named), and the verifier's
limits are ``labkit.verify``'s.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
HANDOUT = ROOT / "docs" / "handout.md"
STYLE = ROOT / "docs" / "handout.css"
SECTIONS = (
    "401, 403, 500: who says no",
    "How API Gateway evaluates a policy",
    "The verify checklist",
    "Key rotation, in order",
    "The command line",
)
A4_POINTS = (595.0, 842.0)  # 210 x 297 mm at 72 points per inch, rounded down


def markdown() -> str:
    return HANDOUT.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The Markdown of one ``## title`` section, up to the next heading."""
    text = markdown()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def to_html(text: str) -> str:
    """The handout as one self-contained HTML page (the stylesheet inlined)."""
    import mistune

    body = _no_break_at_hyphens(mistune.create_markdown(plugins=["table"])(text))
    title = html.escape(text.splitlines()[0].lstrip("# "))
    style = STYLE.read_text(encoding="utf-8")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body><main>{body}</main></body></html>\n"
    )


def _no_break_at_hyphens(page: str) -> str:
    """Keep ``--alg`` and ``execute-api`` whole: Chromium may break a line after any hyphen."""

    def words(code: re.Match[str]) -> str:
        inner = re.sub(r"[^\s<>]*-[^\s<>]*", r'<span class="nobreak">\g<0></span>', code[1])
        return f"<code>{inner}</code>"

    return re.sub(r"<code>(.*?)</code>", words, page, flags=re.DOTALL)


def render_pdf(out: Path) -> str:
    """Print the handout to ``out`` in headless Chromium; return the page's rendered text."""
    return print_html(to_html(markdown()), out)


def print_html(page_html: str, out: Path) -> str:
    """Print one HTML page to the PDF ``out`` (beside it: the HTML); return its rendered text."""
    from playwright.sync_api import sync_playwright

    page_file = out.with_suffix(".html")
    page_file.write_text(page_html, encoding="utf-8")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.emulate_media(media="print")
            page.pdf(path=str(out), prefer_css_page_size=True, print_background=True)
            return page.inner_text("body")
        finally:
            browser.close()


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height in points of each page of a PDF as Chromium (Skia) writes it.

    Skia writes each page as its own ``N 0 obj << /Type /Page ... /MediaBox [...] >> endobj``
    (no object streams) and one page tree with ``/Count``: both are read, and must agree.
    """
    objects = re.findall(r"\d+ 0 obj\s*(.*?)endobj", pdf.decode("latin-1"), re.DOTALL)
    pages = [o for o in objects if re.match(r"<<\s*/Type\s*/Page(?![a-zA-Z])", o)]
    trees = [o for o in objects if re.match(r"<<\s*/Type\s*/Pages\b", o)]
    counts = [int(re.search(r"/Count\s+(\d+)", tree)[1]) for tree in trees]
    assert counts == [len(pages)], f"page objects {len(pages)}, page tree /Count {counts}"
    sizes = []
    for page in pages:
        box = re.search(r"/MediaBox\s*\[([^\]]*)\]", page)
        assert box, "a page without its own /MediaBox"
        x0, y0, x1, y1 = (float(v) for v in box[1].split())
        sizes.append((x1 - x0, y1 - y0))
    return sizes


# The rendered PDF -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's `chromium` package")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("mistune", reason="mistune (installed with nbconvert) is missing")
    out = tmp_path_factory.mktemp("handout") / "handout.pdf"
    text = render_pdf(out)
    return out, text


def test_handout_prints_on_one_or_two_a4_pages(rendered: tuple[Path, str]) -> None:
    pdf, _ = rendered
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-"), "not a PDF"
    sizes = pdf_pages(data)
    print(f"handout: {len(sizes)} page(s), {len(data) // 1024} KB, {pdf}")
    assert 1 <= len(sizes) <= 2, f"{len(sizes)} pages: the handout must fit on two A4 pages"
    for width, height in sizes:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)


def test_the_page_count_counts_every_page(rendered: tuple[Path, str], tmp_path: Path) -> None:
    """The counter is not stuck at one: three forced pages of the same stylesheet count three."""
    style = STYLE.read_text(encoding="utf-8")
    pages = "".join(f'<p style="break-after: page">page {n}</p>' for n in (1, 2, 3))
    out = tmp_path / "three.pdf"
    print_html(f"<!doctype html><style>{style}</style>{pages}", out)  # no columns
    assert len(pdf_pages(out.read_bytes())) == 3


def test_every_section_heading_is_in_the_rendered_text(rendered: tuple[Path, str]) -> None:
    _, text = rendered
    lines = {line.strip() for line in text.splitlines()}
    for title in SECTIONS:
        assert title in lines, f"the rendered handout has no heading {title!r}"


def test_the_pdf_holds_text_not_an_image(rendered: tuple[Path, str]) -> None:
    """Chromium embeds fonts for real text (searchable, sharp in print), never a bitmap page."""
    data = rendered[0].read_bytes()
    assert b"/FontFile2" in data or b"/FontFile3" in data, "no embedded font in the PDF"


# The facts, against the code --------------------------------------------------------------------


def _compact(body: object) -> str:
    return json.dumps(body, separators=(",", ":"))


def test_status_bodies_are_the_gateways_own() -> None:
    from labkit.aws import gateway

    text = section(SECTIONS[0])
    bodies = [
        gateway.UNAUTHORIZED,
        gateway.EXPLICIT_DENY,
        gateway.IMPLICIT_DENY,
        gateway.FORBIDDEN,
        gateway.MISSING_TOKEN,
        {"message": None},  # REST authorizer failure (AuthorizerConfigurationException)
        {"message": "Internal Server Error"},  # HTTP API authorizer failure
    ]
    for body in bodies:
        assert f"`{_compact(body)}`" in text, f"the handout does not quote {_compact(body)}"
    quoted = re.findall(r"`(\{[^`]*\})`", text)
    for body in quoted:
        assert json.loads(body) in bodies, (
            f"the handout quotes a body the gateway never sends: {body}"
        )


def test_cache_figures_are_the_gateways() -> None:
    from labkit.aws import cache

    text = section(SECTIONS[0])
    assert f"{cache.DEFAULT_TTL} s by default" in text
    assert f"{cache.MAX_TTL} s at most" in text


def test_policy_order_is_what_evaluate_decides() -> None:
    """Deny beats Allow, Allow beats the default, nothing matching is an implicit deny."""
    from labkit.aws import AuthPolicy, evaluate
    from labkit.aws.policy import Decision

    text = section(SECTIONS[1])
    order = [
        text.index(word) for word in ("1. **Explicit deny", "2. **Allow", "3. **Implicit deny")
    ]
    assert order == sorted(order)
    arn = "arn:aws:execute-api:us-east-1:123456789012:labkit0001/dev/GET/api/profile"
    base = arn.rsplit("/GET/", 1)[0]
    policy = AuthPolicy.for_arn("alice", arn).allow("*", "/api/*").deny("GET", "/api/admin")
    document = policy.build()["policyDocument"]
    assert evaluate(document, f"{base}/GET/api/admin") is Decision.EXPLICIT_DENY
    assert evaluate(document, f"{base}/GET/api/a/b/c") is Decision.ALLOW  # `*` crosses `/`
    assert evaluate(document, f"{base}/GET/health") is Decision.IMPLICIT_DENY


def test_rotation_steps_pass_exercise_10_3() -> None:
    from labkit import exercises

    steps = re.findall(r"^\d\. (.+)$", section(SECTIONS[3]), re.MULTILINE)
    assert len(steps) == 5, steps
    assert exercises.get("10.3").verify(steps) is None, "the handout's order fails exercise 10.3"


def test_rotation_cache_figures_are_the_kits() -> None:
    from labkit.aws import authorizer, jwt_authorizer

    text = " ".join(section(SECTIONS[3]).split())
    assert jwt_authorizer.HTTP_JWKS_MAX_AGE == 2 * 3600 and "two hours" in text
    assert jwt_authorizer.REST_JWKS_MAX_AGE == 3600 and "up to one hour" in text
    assert authorizer._JWKS_TTL == 5 * 60 and "5 minutes for the kit's Lambda authorizer" in text


def test_verify_limits_are_labkit_verifys() -> None:
    from labkit.verify import _UNTRUSTED_HEADERS, MAX_LENGTH, MIN_HMAC_BYTES, MIN_RSA_BITS

    text = " ".join(section(SECTIONS[2]).split())
    assert f"at most {MAX_LENGTH} characters" in text
    assert f"RSA of {MIN_RSA_BITS} bits or more" in text
    assert f"HMAC secrets of {MIN_HMAC_BYTES} bytes or more" in text
    for header in _UNTRUSTED_HEADERS:
        assert f"`{header}`" in text, f"the checklist does not name the {header} header"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands() -> dict[str, argparse.ArgumentParser]:
    """Every ``labkit`` command line, e.g. "decode" and "workshop build", with its parser."""
    from labkit import cli

    found = {}
    for name, sub in _subparsers(cli._parser()).items():
        tasks = _subparsers(sub)
        found.update({f"{name} {task}": parser for task, parser in tasks.items()} or {name: sub})
    return found


def test_every_cli_command_and_option_named_exists() -> None:
    """Both ways: no command of the CLI missing, no command or option the CLI lacks."""
    commands = _commands()
    items = re.split(r"^- ", section(SECTIONS[4]), flags=re.MULTILINE)[1:]
    rows = [re.match(r"`labkit ([^`]+)`(.*)", item.split("\n\n")[0], re.DOTALL) for item in items]
    assert rows and all(rows), "each item of the command line section starts `labkit ...`"
    named = {}
    for usage, rest in (row.groups() for row in rows if row):
        command = next((c for c in commands if usage == c or usage.startswith(c + " ")), None)
        assert command, f"the handout names `labkit {usage}`: no such command"
        named[command] = usage + rest
    assert sorted(named) == sorted(commands), f"commands missing: {set(commands) - set(named)}"
    for command, row in named.items():
        options = {o for a in commands[command]._actions for o in a.option_strings}
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", row):
            assert option in options, f"`labkit {command}` has no option {option}"


if __name__ == "__main__":  # `make handout`: python tests/test_handout.py build/handout.pdf
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/test_handout.py OUT.pdf")
    try:
        import mistune  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        sys.exit(
            f"make handout: {exc.name} is missing: install the test tools (make test installs them)"
        )
    if not CHROMIUM.exists():
        sys.exit(f"make handout: no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    target = Path(sys.argv[1]).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    render_pdf(target)
    print(f"{target}: {len(pdf_pages(target.read_bytes()))} A4 page(s)")
