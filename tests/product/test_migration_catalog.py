"""The catalog finds every way a migrations folder can be wrong, before anything runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from workbook.core.catalog import find, load_catalog, next_version, read_migration
from workbook.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", dest)
    return dest


def test_examples_are_ordered_and_described(folder: Path) -> None:
    catalog = load_catalog(folder)
    assert [m.version for m in catalog] == ["001", "002", "003"]
    assert catalog[0].description == "Initial schema"
    assert catalog[1].description == "Add blog views"
    assert all(m.reversible for m in catalog)
    assert catalog[1].parameters["batch_size"] == "100"


def test_checksum_ignores_outputs_but_not_code(folder: Path) -> None:
    path = folder / "002_add_blog_views.ipynb"
    before = read_migration(path).checksum
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="ran by hand\n")]
    nb.cells[3].execution_count = 7
    nbformat.write(nb, path)
    assert read_migration(path).checksum == before
    nb.cells[5].source += "\n# changed"
    nbformat.write(nb, path)
    assert read_migration(path).checksum != before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("002_other.ipynb", None, "two migrations have version 002"),
        ("Bad Name.ipynb", None, "is not named NNN_slug.ipynb"),
        ("004_broken.ipynb", "{not json", "is not a valid notebook"),
    ],
)
def test_bad_files_are_named(folder: Path, name: str, content: str | None, message: str) -> None:
    path = folder / name
    if content is None:
        shutil.copy(folder / "002_add_blog_views.ipynb", path)
    else:
        path.write_text(content)
    with pytest.raises(CatalogError, match=message):
        load_catalog(folder)


def test_missing_parameters_cell(folder: Path) -> None:
    path = folder / "004_no_params.ipynb"
    nb = nbformat.read(folder / "002_add_blog_views.ipynb", as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    with pytest.raises(CatalogError, match="no cell tagged 'parameters'"):
        load_catalog(folder)


def test_connect_must_name_its_own_version(folder: Path) -> None:
    shutil.copy(folder / "002_add_blog_views.ipynb", folder / "004_copy.ipynb")
    with pytest.raises(CatalogError, match="connects as version 002"):
        load_catalog(folder)


def test_non_notebooks_and_checkpoints_are_ignored(folder: Path) -> None:
    (folder / "README.md").write_text("notes")
    (folder / ".ipynb_checkpoints").mkdir()
    assert len(load_catalog(folder)) == 3


def test_find_by_version_name_or_slug_and_refuse_paths(folder: Path) -> None:
    catalog = load_catalog(folder)
    assert find(catalog, "2").version == "002"
    assert find(catalog, "002").version == "002"
    assert find(catalog, "002_add_blog_views.ipynb").version == "002"
    assert find(catalog, "add_blog_views").version == "002"
    with pytest.raises(CatalogError, match="looks like a path"):
        find(catalog, "../x")
    with pytest.raises(CatalogError, match="no migration '9'"):
        find(catalog, "9")
    assert next_version(catalog) == "004"
