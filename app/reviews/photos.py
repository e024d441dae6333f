"""Photos for the 推荐表: checked by content (not by name), size-capped, re-encoded to a
plain JPEG (which drops EXIF such as GPS), stored under a server-chosen name in DATA_DIR
(never under static/, so only the views that check access can serve them)."""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..validators import Invalid

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000          # refuse decompression bombs before decoding
BOX = (600, 800)                 # stored size: plenty for a 3.5 × 4.9 cm print photo
NAME = re.compile(r"[0-9a-f]{32}\.jpg")


def clean(data: bytes) -> bytes:
    if not data:
        raise Invalid("请选择照片")
    if len(data) > MAX_BYTES:
        raise Invalid("照片不能超过5MB")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG"):
                raise Invalid("照片应为 JPG 或 PNG 图片")
            if img.width * img.height > MAX_PIXELS:
                raise Invalid("照片尺寸过大")
            img = ImageOps.exif_transpose(img)   # keep the orientation the camera meant
            img = img.convert("RGB")
            img.thumbnail(BOX)
            out = io.BytesIO()
            img.save(out, "JPEG", quality=88)    # a new file: no EXIF or other metadata
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("无法识别的图片文件，请上传 JPG 或 PNG 照片") from exc


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
