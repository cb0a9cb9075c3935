"""Done when: a backfill of 20,000 rows shows progress in JupyterLab, and the HTML run page
of that run shows its header — in a real headless Chromium, with screenshots kept beside
the test (tmp_path): the banner, the progress bar while it moves and when done, the page.

One JupyterLab serves the whole test; the operator opens 002 (a 20k-row backfill of a
table seeded through the SDK and adopted with ``workbook stamp 001``) and clicks Run All.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_harness as harness
import pytest
from appwrite.services.tables_db import TablesDB
from progress_support import ROWS, backfill_migrations, seed

from workbook.local.server import LocalServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not harness.CHROMIUM.exists(),
        reason=f"{harness.CHROMIUM} is absent (./dev test installs Debian's chromium package)",
    ),
]

KEY_ENV = "TEST_APPWRITE_KEY"
OUTPUT = ".jp-NotebookPanel .jp-OutputArea-output"
# the bar says "backfill posts: 4200/? [00:05<00:00, 840 rows/s]" with 0 < count < all
COUNTING_JS = """([el, all]) => {
  const m = el.textContent.replace(/\\u2007/g, ' ').match(/backfill posts:\\s+(\\d+)\\//);
  return Boolean(m) && Number(m[1]) > 0 && Number(m[1]) < all;
}"""


@pytest.fixture
def page() -> Iterator[Any]:
    with harness.chromium_page() as page:
        yield page


def test_a_20k_row_backfill_shows_a_bar_in_jupyterlab_and_the_run_page_its_header(
    tmp_path: Path,
    page: Any,
    local_server: LocalServer,
    tables: TablesDB,
    database_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(harness, "_RUN_TIMEOUT_MS", 300_000)  # 20k rows on a loaded CI box
    seed(tables, database_id)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "workbook.toml").write_text(
        f'[environments.test]\nendpoint = "{local_server.endpoint}"\n'
        f'project = "{local_server.project_id}"\ndatabase = "{database_id}"\n'
        f'key_env = "{KEY_ENV}"\n'
    )
    key = {KEY_ENV: local_server.api_key}
    backfill_migrations(root, "test")
    stamped = harness.cli(root, "stamp", "001", "--env", "test", extra_env=key)
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr

    with harness.jupyterlab(root, tmp_path / "lab", extra_env=key) as lab:
        harness.open_notebook(page, lab, "migrations/002_backfill_posts.ipynb")
        harness.run_all(page)
        bar = page.locator(f"{OUTPUT} .widget-hbox", has_text="backfill posts")
        bar.wait_for(timeout=harness._RUN_TIMEOUT_MS)
        page.wait_for_function(COUNTING_JS, arg=[bar.element_handle(), ROWS], polling=100)
        moving = (bar.text_content() or "").replace("\u2007", " ")
        bar.screenshot(path=str(tmp_path / "progress_bar_moving.png"))
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "002_run_all.png"))
        problems = harness.errors(page)
        assert not problems, "the run raised in JupyterLab:\n" + "\n".join(problems)

        done = (bar.text_content() or "").replace("\u2007", " ")  # tqdm's figure spaces
        bar.screenshot(path=str(tmp_path / "progress_bar_done.png"))
        assert bar.locator(".widget-hprogress, .progress").count() >= 1  # a drawn bar
        assert f"backfill posts:  {ROWS}/?" in done and "rows/s]" in done, done
        # the table was backed up just before the backfill's first write, with its own bar
        backup = page.locator(f"{OUTPUT} .widget-hbox", has_text="backup before upsert_rows")
        backed_up = (backup.text_content() or "").replace("\u2007", " ")
        assert f"{ROWS}/?" in backed_up and "rows/s]" in backed_up, backed_up
        backup.screenshot(path=str(tmp_path / "backup_bar_done.png"))
        counted = int(moving.split("backfill posts:")[1].split("/")[0])
        assert 0 < counted < ROWS, moving  # caught while it counted, with its rate
        banner = page.locator(f"{OUTPUT}[data-mime-type='text/html']", has_text="WORKBOOK · TEST")
        assert banner.count() >= 1
        banner.first.screenshot(path=str(tmp_path / "banner.png"))
        shown = " ".join(c for cell in harness.cells(page) for c in cell.outputs)
        assert f"backfilled {ROWS} rows" in shown
        assert "002 up: recorded as applied on 'test'" in shown, shown

    site = harness.cli(root, "history", "--html", extra_env=key)
    assert site.returncode == 0, site.stdout + site.stderr
    [run_page] = sorted((root / "history" / "test").glob("*002*.html"))
    page.goto(run_page.as_uri())
    header = page.locator(".wb-run-header")
    header.screenshot(path=str(tmp_path / "run_page_header.png"))
    text = header.text_content() or ""
    for expected in ("applied", "test", "002 Backfill posts", "up", harness.OPERATOR, "← all runs"):
        assert expected in text, f"{expected!r} not in the run page header: {text}"
