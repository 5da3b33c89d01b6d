"""The notebook map: catalog, notebooks folder and README agree."""

from __future__ import annotations

from pathlib import Path

from labkit import catalog
from labkit.display import colour_token
from labkit.environment import check_environment, problems

ROOT = Path(__file__).resolve().parents[1]


def test_catalog_lists_exactly_the_notebooks() -> None:
    files = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [nb.file for nb in catalog.NOTEBOOKS] == files


def test_readme_map_names_every_notebook_with_its_minutes() -> None:
    readme = (ROOT / "README.md").read_text()
    for nb in catalog.NOTEBOOKS:
        assert f"notebooks/{nb.file}" in readme, nb.file
        assert f"| {nb.teach} + {nb.exercises} |" in readme, nb.file


def test_map_renders_markdown_with_links() -> None:
    table = catalog.notebook_map()._repr_markdown_()
    assert "| [01](01-token-anatomy.ipynb) | Token anatomy | 15 + 10 |" in table
    assert repr(catalog.notebook_map()).endswith("min in all")


def test_coloured_token_has_three_labelled_parts() -> None:
    shown = colour_token("aa.bb.cc")
    page = shown._repr_html_()
    parts = ("header", "payload", "signature")
    assert [page.count(f'title="{part}"') for part in parts] == [1, 1, 1]
    assert repr(shown) == "   header: aa\n  payload: bb\nsignature: cc"


def test_environment_check_passes_here(capsys) -> None:  # type: ignore[no-untyped-def]
    assert problems() == []
    assert check_environment() is True
    assert capsys.readouterr().out.startswith("✅ Environment ready")
