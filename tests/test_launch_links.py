"""Every launch link in the README and docs/ opens a notebook that exists, in this repository.

Binder links (mybinder.org/v2/gh/OWNER/REPO/REF?urlpath=lab/tree/PATH) and nbgitpuller links
(HUB/hub/user-redirect/git-pull?repo=...&urlpath=lab/tree/CLONE/PATH&branch=...) are parsed
offline: the repository must be the one in the README's Binder badge and PATH a notebook in
this checkout. Relative links to notebooks are checked too. Nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BADGE = re.compile(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((?P<url>[^)]+)\)")
URL = re.compile(r"https?://[^\s)<>\"'`\]]+")
RELATIVE_NOTEBOOK = re.compile(r"\]\((?P<target>(?!https?://)[^)#\s]+\.ipynb)(#[^)]*)?\)")
TREE_PREFIXES = ("lab/tree/", "tree/", "notebooks/", "doc/tree/")


def badge_slug() -> str:
    """OWNER/REPO from the README's Binder badge: the one repository every link must name."""
    match = BADGE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no Binder badge"
    parts = urlsplit(match["url"]).path.split("/")  # ['', 'v2', 'gh', OWNER, REPO, REF]
    assert parts[1:3] == ["v2", "gh"] and len(parts) >= 6, match["url"]
    return f"{parts[3]}/{parts[4]}"


def links(kind: str) -> list[tuple[str, str]]:
    """(document, url) for every Binder or nbgitpuller link in the README and docs/."""
    found = []
    for document in DOCUMENTS:
        for url in URL.findall(document.read_text(encoding="utf-8")):
            parts = urlsplit(url)
            binder = parts.hostname == "mybinder.org" and parts.path.startswith("/v2/")
            puller = parts.path.endswith("/git-pull")
            if (kind == "binder" and binder) or (kind == "nbgitpuller" and puller):
                found.append((str(document.relative_to(ROOT)), url))
    return found


def notebook_in_tree(urlpath: str, where: str) -> Path:
    """The checkout file a Jupyter urlpath (lab/tree/PATH) opens; it must be a notebook."""
    path = unquote(urlpath).lstrip("/")
    prefix = next((p for p in TREE_PREFIXES if path.startswith(p)), None)
    assert prefix, f"{where}: urlpath {urlpath!r} does not open a file (lab/tree/...)"
    target = PurePosixPath(path[len(prefix) :])
    assert target.suffix == ".ipynb", f"{where}: {target} is not a notebook"
    return ROOT.joinpath(*target.parts)


def test_there_are_launch_links_to_check() -> None:
    assert any(doc == "README.md" for doc, _ in links("binder")), "README: no Binder link"
    assert links("nbgitpuller"), "docs/: no nbgitpuller link for JupyterHub users"


@pytest.mark.parametrize(("document", "url"), links("binder"))
def test_binder_link_opens_an_existing_notebook(document: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.path == "/badge_logo.svg":
        return
    segments = parts.path.split("/")  # ['', 'v2', 'gh', OWNER, REPO, REF]
    assert segments[1:3] == ["v2", "gh"] and len(segments) >= 6, f"{document}: {url}"
    assert f"{segments[3]}/{segments[4]}" == badge_slug(), f"{document}: another repo in {url}"
    query = parse_qs(parts.query)
    if "labpath" in query:
        notebook = ROOT / unquote(query["labpath"][0])
    else:
        assert "urlpath" in query, (
            f"{document}: {url} opens no notebook (add ?urlpath=lab/tree/...)"
        )
        notebook = notebook_in_tree(query["urlpath"][0], document)
    assert notebook.is_file(), f"{document}: {url} opens {notebook.relative_to(ROOT)}: missing"


@pytest.mark.parametrize(("document", "url"), links("nbgitpuller"))
def test_nbgitpuller_link_pulls_this_repo_and_opens_an_existing_notebook(
    document: str, url: str
) -> None:
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path.endswith("/hub/user-redirect/git-pull"), f"{document}: {url}"
    repo = query.get("repo", [""])[0]
    assert repo.rstrip("/").removesuffix(".git") == f"https://github.com/{badge_slug()}", (
        f"{document}: {url} pulls {repo!r}"
    )
    assert query.get("branch"), f"{document}: name the branch in {url}"
    clone = query.get("targetPath", [repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")])[0]
    urlpath = unquote(query.get("urlpath", [""])[0])
    prefix = next((p for p in TREE_PREFIXES if urlpath.startswith(p)), "")
    assert urlpath.startswith(f"{prefix}{clone}/"), f"{document}: {urlpath!r} is not in {clone}/"
    notebook = notebook_in_tree(prefix + urlpath[len(prefix) + len(clone) + 1 :], document)
    assert notebook.is_file(), f"{document}: {url} opens {notebook.relative_to(ROOT)}: missing"


@pytest.mark.parametrize(
    ("document", "target"),
    [
        (str(doc.relative_to(ROOT)), match["target"])
        for doc in DOCUMENTS
        for match in RELATIVE_NOTEBOOK.finditer(doc.read_text(encoding="utf-8"))
    ],
)
def test_relative_notebook_links_resolve(document: str, target: str) -> None:
    path = (ROOT / document).parent / unquote(target)
    assert path.resolve().is_file(), f"{document}: {target} does not exist"
