"""Photos for the 推荐表: cleaned by app/images.py (checked by content, bounded, re-encoded
to a plain JPEG without EXIF), stored under a server-chosen name in DATA_DIR (never under
static/, so only the views that check access can serve them)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

NAME = re.compile(r"[0-9a-f]{32}\.jpg")


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / "photos"


def store(data_dir: Path, jpeg: bytes) -> str:
    target = folder(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.jpg"
    (target / name).write_bytes(jpeg)
    return name


def read(data_dir: Path, name: str | None) -> bytes | None:
    if not name or not NAME.fullmatch(name):
        return None
    path = folder(data_dir) / name
    return path.read_bytes() if path.is_file() else None


def remove(data_dir: Path, name: str | None) -> None:
    if name and NAME.fullmatch(name):
        (folder(data_dir) / name).unlink(missing_ok=True)
