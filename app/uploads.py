"""Helpers for uploaded files. Stored files are always named by the server; the user's
name is kept only as display text."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote


def display_name(raw: str, limit: int = 120) -> str:
    """The user's file name without any path part or control characters.

    Some clients percent-encode non-ASCII names in multipart headers, so the name is
    unquoted first; then everything up to the last slash or backslash is dropped.
    """
    name = unquote(raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[-limit:] or "file"
