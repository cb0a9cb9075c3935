"""Each fact declared once: every WORKBOOK_* variable the code reads is declared in
settings.py, and every declared one is documented in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

from workbook.secrets import is_secret_name
from workbook.settings import VARIABLES

REPO = Path(__file__).resolve().parents[2]
# a variable's name as code and docs write it: quoted, in backticks, or after a $
NAME = re.compile(r"(?<=[\"'`$])WORKBOOK_[A-Z][A-Z_]*[A-Z]\b")


def test_every_variable_in_the_code_is_declared() -> None:
    declared = {v.name for v in VARIABLES}
    used = set()
    for path in (REPO / "workbook").rglob("*.py"):
        used |= set(NAME.findall(path.read_text(encoding="utf-8")))
    assert used - declared == set()


def test_every_declared_variable_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [v.name for v in VARIABLES if f"| `{v.name}` |" not in readme]
    assert missing == []


def test_the_secret_rule_is_by_words() -> None:
    secret = ["api_key", "STAGING_APPWRITE_KEY", "authToken", "db_password", "client_secret"]
    plain = ["monkey", "session_count", "key", "new_key", "two_way_key", "batch_size"]
    assert [n for n in secret if not is_secret_name(n)] == []
    assert [n for n in plain if is_secret_name(n)] == []
