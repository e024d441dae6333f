"""Helpers for uploaded files. Stored files are always named by the server; the user's
name is kept only as display text."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import unquote

from .validators import Invalid


def display_name(raw: str, limit: int = 120) -> str:
    """The user's file name without any path part or control characters.

    Some clients percent-encode non-ASCII names in multipart headers, so the name is
    unquoted first; then everything up to the last slash or backslash is dropped.
    """
    name = unquote(raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[-limit:] or "file"


# What a stored file is, in words, from its stored content type (set by the content check,
# never by the name the browser sent): lists show it beside the file.
TYPE_LABELS = {"image/jpeg": "JPG 图片", "image/png": "PNG 图片", "application/pdf": "PDF 文件",
               "application/msword": "DOC 文档",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX 文档"}


def type_label(content_type: str | None) -> str:
    return TYPE_LABELS.get(content_type or "", "文件")


def clean_upload_name(raw: str, ext: str) -> str:
    """Display name whose extension matches the sniffed type (a renamed file shows its real kind)."""
    stem = display_name(raw).rsplit(".", 1)[0] or "file"
    return f"{stem[:100]}.{ext}"


# ---- content checks ---------------------------------------------------------------

DOC_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_document(data: bytes) -> tuple[str, str]:
    """(extension, content type) of a PDF, DOC or DOCX judged by its bytes, never its name."""
    if data.startswith(b"%PDF-"):
        return "pdf", DOC_TYPES["pdf"]
    if data.startswith(OLE2_MAGIC):
        return "doc", DOC_TYPES["doc"]
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    check_unpacked_size(z)
                    return "docx", DOC_TYPES["docx"]
        except zipfile.BadZipFile:
            pass
    raise Invalid("只支持 PDF、DOC、DOCX 格式的文件（按文件内容识别）")


# A zip (DOCX, XLSX) whose members unpack to more than this is a zip bomb, not a document.
# Python's zipfile never inflates a member past its declared size (the CRC check fails
# instead), so the declared sizes are a real bound on what opening it can cost.
ZIP_MAX_UNPACKED = 256 * 1024 * 1024


def check_unpacked_size(z: zipfile.ZipFile, limit: int = ZIP_MAX_UNPACKED) -> None:
    if sum(info.file_size for info in z.infolist()) > limit:
        raise Invalid(f"文件解压后超过{limit // (1024 * 1024)}MB，请确认文件未损坏")


class FileStore:
    """Files on disk under DATA_DIR/files, named by a random id the server chooses.

    `quota_bytes` is STORAGE_QUOTA_BYTES (0: none); app/files.py enforces it."""

    def __init__(self, data_dir: Path, quota_bytes: int = 0) -> None:
        self.folder = Path(data_dir) / "files"
        self.quota_bytes = quota_bytes

    def new_id(self) -> str:
        return secrets.token_urlsafe(24)

    def path(self, file_id: str) -> Path:
        if not file_id.replace("-", "").replace("_", "").isalnum():
            raise FileNotFoundError(file_id)
        return self.folder / file_id

    def write(self, file_id: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path(file_id).write_bytes(data)

    def link(self, file_id: str, new_id: str) -> None:
        """A second name for the same bytes: a copy that costs no disk while both exist,
        and keeps the bytes when the first name is removed."""
        try:
            os.link(self.path(file_id), self.path(new_id))
        except OSError:            # a file system without hard links
            shutil.copyfile(self.path(file_id), self.path(new_id))

    def read(self, file_id: str) -> bytes:
        return self.path(file_id).read_bytes()

    def remove(self, file_id: str) -> None:
        self.path(file_id).unlink(missing_ok=True)
