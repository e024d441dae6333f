"""The table modules stay free of import circles: app/schema.py and the shared core
(app/tables.py) import no domain, and app/all_tables.py (what Alembic and the tests use for
the whole schema) gathers every domain's tables.py."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _app_modules_after(import_line: str) -> set[str]:
    # A fresh interpreter: this test process has imported the whole app already.
    out = subprocess.run(
        [sys.executable, "-c",
         f"import sys; {import_line}; print('\\n'.join(m for m in sys.modules if m.startswith('app')))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_tables_import_no_domain():
    assert _app_modules_after("import app.tables") == {"app", "app.schema", "app.tables"}


def test_all_tables_gathers_every_domain_tables_module():
    declared = {".".join(p.relative_to(ROOT).with_suffix("").parts)
                for p in (ROOT / "app").glob("**/tables.py")}
    assert len(declared) > 2
    assert declared <= _app_modules_after("import app.all_tables")
