import dataclasses
from pathlib import Path

import pytest

from app.config import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_fill_database_and_secret(tmp_path):
    s = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'app.db').resolve()}"
    assert len(s.secret_key) > 40
    # the generated key is kept, so a restart keeps sessions and codes valid
    assert Settings.from_env({"DATA_DIR": str(tmp_path)}).secret_key == s.secret_key
    assert s.is_sqlite and not s.secure_cookies


def test_environment_values_are_parsed(tmp_path):
    s = Settings.from_env({"DATA_DIR": str(tmp_path), "SMTP_PORT": "2525", "SMTP_STARTTLS": "yes",
                           "DATABASE_URL": "postgresql+asyncpg://u@h/db",
                           "PUBLIC_BASE_URL": "https://jy.example.edu.cn"})
    assert s.smtp_port == 2525 and s.smtp_starttls is True
    assert not s.is_sqlite and s.secure_cookies


def test_bad_number_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="SMTP_PORT"):
        Settings.from_env({"DATA_DIR": str(tmp_path), "SMTP_PORT": "abc"})


def test_table_and_dataclass_agree():
    assert [s.name for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]


def test_docs_settings_is_generated_from_the_table():
    """docs/settings.md is what `python -m app settings-doc` prints: a setting added, renamed
    or given a new default or help changes the document, or this test fails."""
    from app.config import settings_document
    document = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert document == settings_document(), \
        "docs/settings.md is stale: run `python -m app settings-doc > docs/settings.md`"
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in document
