"""Helpers for uploaded files. Stored files are always named by the server; the user's
name is kept only as display text."""

from __future__ import annotations

import io
import secrets
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
                    return "docx", DOC_TYPES["docx"]
        except zipfile.BadZipFile:
            pass
    raise Invalid("只支持 PDF、DOC、DOCX 格式的文件（按文件内容识别）")


def clean_image(data: bytes, max_side: int = 2400) -> tuple[bytes, str]:
    """Re-encode a JPEG/PNG image: turns it upright, drops EXIF (GPS and all), caps its size."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG"):
                raise Invalid("只支持 JPG 或 PNG 图片")
            img = ImageOps.exif_transpose(img)
            img.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            img.save(out, format="JPEG", quality=88)  # no exif= argument: metadata is gone
            return out.getvalue(), "image/jpeg"
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise Invalid("图片无法识别，请上传 JPG 或 PNG 图片") from None


class FileStore:
    """Files on disk under DATA_DIR/files, named by a random id the server chooses."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "files"

    def new_id(self) -> str:
        return secrets.token_urlsafe(24)

    def path(self, file_id: str) -> Path:
        if not file_id.replace("-", "").replace("_", "").isalnum():
            raise FileNotFoundError(file_id)
        return self.folder / file_id

    def write(self, file_id: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path(file_id).write_bytes(data)

    def read(self, file_id: str) -> bytes:
        return self.path(file_id).read_bytes()


def clean_evidence(data: bytes, filename: str) -> tuple[str, str, bytes]:
    """A photographed or scanned document (a JPG/PNG image, re-encoded without EXIF, or a
    PDF), judged by its bytes → (display name, content type, bytes to keep). CPU-heavy for
    images: run it in the CPU pool."""
    if not data:
        raise Invalid("文件是空的，请重新选择")
    if data.startswith(b"%PDF-"):
        ext, content_type = sniff_document(data)
        return clean_upload_name(filename, ext), content_type, data
    try:
        jpeg, content_type = clean_image(data)
    except Invalid:
        raise Invalid("只支持 JPG、PNG 图片或 PDF 文件（按文件内容识别）") from None
    return clean_upload_name(filename, "jpg"), content_type, jpeg
