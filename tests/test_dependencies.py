"""Dependencies that fit: every runtime dependency in pyproject.toml is used by the app (or
named here with the reason it is used without an import), and nothing the app imports at
run time comes only with the test extra."""

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# used at run time without an import of their own
INDIRECT = {"aiosqlite": "SQLAlchemy's sqlite+aiosqlite driver",
            "asyncpg": "SQLAlchemy's postgresql+asyncpg driver",
            "lxml": "openpyxl writes write-only workbooks through it"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.\-]+", requirement).group()).lower()


def _imported_distributions() -> set[str]:
    modules = set()
    for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "rtc").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    providers = importlib.metadata.packages_distributions()
    return {_name(d) for m in modules for d in providers.get(m, ())}


def test_every_runtime_dependency_is_used_and_no_test_package_is_imported():
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    test_only = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]}
    used = _imported_distributions()
    assert runtime - used - set(INDIRECT) == set(), "declared but never used"
    assert used & test_only == set(), "the app imports a test-only package"
    assert "python-stdnum" in used  # 身份证号 goes through stdnum.cn.ric
    assert "aiosmtpd" in test_only and "aiosmtpd" not in runtime


def test_a_server_process_loads_the_workbook_and_qr_libraries_only_when_used():
    """openpyxl (about 20 MB resident) and segno (10 MB) serve a few admin exports and the
    printed documents; a hall process holding thousands of sockets must not carry them
    from its start (issue 13's RSS figure)."""
    import subprocess
    import sys
    probe = ("import sys; from app.config import Settings; from app.web import create_app; "
             "create_app(Settings.from_env()); "
             "print(sorted(m for m in ('openpyxl', 'segno', 'weasyprint', 'pypdfium2') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
