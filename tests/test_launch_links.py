"""Every launch link in the README and docs/ opens the learner edition, which holds no answers.

Binder links (mybinder.org/v2/gh/OWNER/REPO/REF?urlpath=lab/tree/PATH), nbgitpuller links
(HUB/hub/user-redirect/git-pull?repo=...&urlpath=lab/tree/CLONE/PATH&branch=...) and relative
links to notebooks are parsed offline: the repository must be the one in the README's Binder
badge, and PATH a notebook in this checkout, under learner/. A link may open an instructor copy
in notebooks/ only when its link text says "instructor", so that it is a deliberate choice.

Each learner target is then read: every exercise cell holds the bank's starter, no cell holds any
exercise's solution, nothing has stored outputs. A link with a #fragment into a notebook must
name one of its headings, spelled as JupyterLab writes heading ids (the text, spaces as "-").
Nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import nbformat
import pytest

from labkit import exercises

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BADGE = re.compile(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((?P<url>[^)]+)\)")
URL = re.compile(r"https?://[^\s)<>\"'`\]]+")
# [text](target): the text may hold one level of brackets, as the badge's [![Binder](...)](...).
LINK = re.compile(r"\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]\((?P<url>[^)\s]+)\)")
TREE_PREFIXES = ("lab/tree/", "tree/", "notebooks/", "doc/tree/")
LEARNER, INSTRUCTOR = ROOT / "learner", ROOT / "notebooks"
INSTRUCTOR_WORD = re.compile(r"\binstructor", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """One markdown link in a document, and the notebook it opens (None: not a notebook link)."""

    document: str
    text: str
    url: str
    kind: str  # "binder", "nbgitpuller" or "relative"

    @property
    def for_instructors(self) -> bool:
        return bool(INSTRUCTOR_WORD.search(self.text))

    def __str__(self) -> str:
        return f"{self.document}: [{self.text}]({self.url})"


def badge_slug() -> str:
    """OWNER/REPO from the README's Binder badge: the one repository every link must name."""
    match = BADGE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no Binder badge"
    parts = urlsplit(match["url"]).path.split("/")  # ['', 'v2', 'gh', OWNER, REPO, REF]
    assert parts[1:3] == ["v2", "gh"] and len(parts) >= 6, match["url"]
    return f"{parts[3]}/{parts[4]}"


def kind_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.hostname == "mybinder.org" and parts.path.startswith("/v2/"):
        return "binder"
    if parts.path.endswith("/git-pull"):
        return "nbgitpuller"
    if not parts.scheme and PurePosixPath(unquote(parts.path)).suffix == ".ipynb":
        return "relative"
    return None


def links(kind: str | None = None) -> list[Link]:
    """Every markdown link to a notebook in the README and docs/ (of one kind, if given)."""
    found = []
    for document in DOCUMENTS:
        for match in LINK.finditer(document.read_text(encoding="utf-8")):
            found_kind = kind_of(match["url"])
            if found_kind and (kind is None or found_kind == kind):
                name = str(document.relative_to(ROOT))
                found.append(Link(name, match["text"], match["url"], found_kind))
    return found


def notebook_in_tree(urlpath: str, where: str) -> Path:
    """The checkout file a Jupyter urlpath (lab/tree/PATH) opens; it must be a notebook."""
    path = unquote(urlpath).lstrip("/")
    prefix = next((p for p in TREE_PREFIXES if path.startswith(p)), None)
    assert prefix, f"{where}: urlpath {urlpath!r} does not open a file (lab/tree/...)"
    target = PurePosixPath(path[len(prefix) :])
    assert target.suffix == ".ipynb", f"{where}: {target} is not a notebook"
    return ROOT.joinpath(*target.parts)


def binder_target(link: Link) -> Path:
    parts = urlsplit(link.url)
    segments = parts.path.split("/")  # ['', 'v2', 'gh', OWNER, REPO, REF]
    assert segments[1:3] == ["v2", "gh"] and len(segments) >= 6, str(link)
    assert f"{segments[3]}/{segments[4]}" == badge_slug(), f"another repository: {link}"
    query = parse_qs(parts.query)
    if "labpath" in query:
        return ROOT / unquote(query["labpath"][0])
    assert "urlpath" in query, f"{link} opens no notebook (add ?urlpath=lab/tree/...)"
    return notebook_in_tree(query["urlpath"][0], str(link))


def nbgitpuller_target(link: Link) -> Path:
    query = parse_qs(urlsplit(link.url).query)
    assert urlsplit(link.url).path.endswith("/hub/user-redirect/git-pull"), str(link)
    repo = query.get("repo", [""])[0]
    assert repo.rstrip("/").removesuffix(".git") == f"https://github.com/{badge_slug()}", (
        f"{link} pulls {repo!r}"
    )
    assert query.get("branch"), f"name the branch in {link}"
    clone = query.get("targetPath", [repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")])[0]
    urlpath = unquote(query.get("urlpath", [""])[0])
    prefix = next((p for p in TREE_PREFIXES if urlpath.startswith(p)), "")
    assert urlpath.startswith(f"{prefix}{clone}/"), f"{link}: {urlpath!r} is not in {clone}/"
    return notebook_in_tree(prefix + urlpath[len(prefix) + len(clone) + 1 :], str(link))


def relative_target(link: Link) -> Path:
    return ((ROOT / link.document).parent / unquote(urlsplit(link.url).path)).resolve()


def target(link: Link) -> Path:
    """The notebook in this checkout that the link opens."""
    resolve = {"binder": binder_target, "nbgitpuller": nbgitpuller_target}
    return resolve.get(link.kind, relative_target)(link).resolve()


def heading_anchors(notebook: Path) -> set[str]:
    """The ids JupyterLab gives a notebook's markdown headings: their text, spaces as "-"."""
    anchors = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            heading = re.match(r"#{1,6}\s+(?P<text>.+?)\s*#*\s*$", line)
            if heading:
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading["text"])  # links: text
                text = text.replace("`", "").replace("**", "")
                anchors.add(text.replace(" ", "-"))
    return anchors


ALL_LINKS = links()
LEARNER_TARGETS = sorted({target(link) for link in ALL_LINKS if not link.for_instructors})


def test_there_are_launch_links_to_check() -> None:
    assert any(link.document == "README.md" for link in links("binder")), "README: no Binder"
    assert links("nbgitpuller"), "docs/: no nbgitpuller link for JupyterHub users"
    assert any(link.document == "README.md" for link in links("relative")), "README: no table"


def test_every_launch_url_is_a_markdown_link() -> None:
    """Bare URLs would escape the link-text rule below; every launch URL must be [text](url)."""
    linked = {link.url for link in ALL_LINKS}
    for document in DOCUMENTS:
        for url in URL.findall(document.read_text(encoding="utf-8")):
            launch = kind_of(url) in ("binder", "nbgitpuller")
            if launch and urlsplit(url).path != "/badge_logo.svg":
                assert url in linked, f"{document.name}: {url} is not a markdown link"


@pytest.mark.parametrize("link", ALL_LINKS, ids=str)
def test_launch_link_opens_the_learner_edition(link: Link) -> None:
    notebook = target(link)
    assert notebook.is_file(), f"{link} opens {notebook}: missing"
    if link.for_instructors:
        assert notebook.parent == INSTRUCTOR, f"{link}: says instructor, opens {notebook}"
    else:
        assert notebook.parent == LEARNER, (
            f"{link} opens {notebook.relative_to(ROOT)}: learners get learner/ "
            "(say 'instructor' in the link text if this link is for instructors only)"
        )


@pytest.mark.parametrize("notebook", LEARNER_TARGETS, ids=lambda path: path.stem)
def test_learner_link_target_holds_starters_and_no_answers(notebook: Path) -> None:
    if notebook.parent != LEARNER or not notebook.is_file():
        pytest.skip("not a learner notebook: test_launch_link_opens_the_learner_edition fails")
    bank = exercises.all_exercises()
    nb = nbformat.read(notebook, as_version=4)
    spots = 0
    for index, cell in enumerate(nb.cells):
        where = f"{notebook.relative_to(ROOT)}, cell {index}"
        exercise_id = cell.metadata.get("labkit", {}).get("exercise")
        if exercise_id is not None:
            spots += 1
            assert cell.source == exercises.get(exercise_id).starter, f"{where}: not the starter"
        for other in bank.values():
            assert other.solution.strip() not in cell.source, f"{where}: {other.id}'s solution"
        assert "solution" not in cell.metadata.get("tags", []), f"{where}: tagged solution"
        assert "instructor-only" not in cell.metadata.get("tags", []), f"{where}: instructor-only"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where}: stored outputs"
            assert cell.execution_count is None, f"{where}: an execution count"
    assert spots >= 2, f"{notebook.name}: no exercises found"
    assert "widgets" not in nb.metadata, f"{notebook.name}: stored widget state"


@pytest.mark.parametrize(
    "link", [link for link in links("relative") if urlsplit(link.url).fragment], ids=str
)
def test_notebook_link_anchor_names_a_heading(link: Link) -> None:
    notebook = target(link)
    assert notebook.is_file(), f"{link}: {notebook} does not exist"
    anchor = unquote(urlsplit(link.url).fragment)
    anchors = heading_anchors(notebook)
    assert anchor in anchors, f"{link}: no heading #{anchor}; the headings: {sorted(anchors)}"
