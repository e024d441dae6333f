"""Every uploaded image (营业执照, 推荐表 photo) goes through here: checked by content, bounded
by bytes and by pixels before anything is decoded, then decoded and re-encoded as a plain
JPEG (EXIF such as GPS dropped, the camera's orientation applied) in the CPU pool; a photo
or scan of a paper document that came as a PNG is re-drawn as a plain PNG instead.

Why the pixel bound comes first: a 0.5 MB PNG can declare 13000×13000 pixels and decode to
hundreds of MB. `Image.open` reads only the header, so the declared size is known before a
single pixel is decoded. Pillow's own MAX_IMAGE_PIXELS check (DecompressionBombWarning /
DecompressionBombError, raised inside `Image.open`) stays as a second net.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .config import Settings
from .offload import CpuPool
from .validators import Invalid

ORIENTATION_TAG = 0x0112
# EXIF orientation → the transpose that shows the picture as the camera meant it
# (the same table ImageOps.exif_transpose uses).
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
             6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}
SIDEWAYS = {5, 6, 7, 8}      # orientations that swap width and height
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class ImageUse:
    """What an image is for: the word the messages use and the box it is shrunk into."""
    noun: str
    box: tuple[int, int]


LICENCE = ImageUse("图片", (2400, 2400))
PHOTO = ImageUse("照片", (600, 800))    # plenty for a 3.5 × 4.9 cm print photo
# A photo of a paper document (a stamped 就业协议书, a 解约函, an 入伍通知书): A4 upright.
DOCUMENT = ImageUse("图片", (2400, 3400))


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int

    @classmethod
    def of(cls, settings: Settings) -> "ImageLimits":
        return cls(settings.image_max_bytes, settings.image_max_pixels)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g}MB"


def check_bytes(data: bytes, use: ImageUse, limits: ImageLimits) -> None:
    """The cheap checks, done on the loop before the image is handed to the pool."""
    if not data:
        raise Invalid(f"请选择{use.noun}")
    if len(data) > limits.max_bytes:
        raise Invalid(f"{use.noun}不能超过{_megabytes(limits.max_bytes)}")


def _too_many_pixels(use: ImageUse, limits: ImageLimits) -> Invalid:
    return Invalid(f"{use.noun}尺寸过大，请缩小到{limits.max_pixels / 10_000:g}万像素以内")


def clean(data: bytes, use: ImageUse, limits: ImageLimits) -> bytes:
    """A new JPEG of the image, shrunk into `use.box`. Blocking: run it in the CPU pool."""
    return _redraw(data, use, limits, keep_png=False)[0]


def clean_document(data: bytes, use: ImageUse, limits: ImageLimits) -> tuple[bytes, str]:
    """Like `clean`, but a PNG stays a PNG: a scan of a paper keeps its small print and its
    stamp sharp (JPEG blurs them), and the file the student chose as .png is listed and
    served as one. (bytes, "jpg" or "png"). Blocking: run it in the CPU pool."""
    return _redraw(data, use, limits, keep_png=True)


# PNG modes written as they are; any other is converted (with its alpha, if it has one)
PNG_MODES = ("1", "L", "LA", "P", "RGB", "RGBA")


def _redraw(data: bytes, use: ImageUse, limits: ImageLimits, *, keep_png: bool) -> tuple[bytes, str]:
    check_bytes(data, use, limits)
    unreadable = Invalid(f"无法识别的图片文件，请上传 JPG 或 PNG {use.noun}")
    try:
        with Image.open(io.BytesIO(data)) as img:          # header only, nothing decoded yet
            if img.format not in ("JPEG", "PNG"):
                raise unreadable
            as_png = keep_png and img.format == "PNG"
            width, height = img.size
            if width * height > limits.max_pixels:
                raise _too_many_pixels(use, limits)
            # JPEG keeps EXIF in its header; a PNG may keep it after the pixels, so asking a
            # PNG decodes it, which the pixel bound above has made safe.
            orientation = img.getexif().get(ORIENTATION_TAG, 1)
            box = use.box[::-1] if orientation in SIDEWAYS else use.box
            img.draft("RGB", box)      # JPEG: decode at 1/2, 1/4 or 1/8 scale when that suffices
            img.thumbnail(box)         # in place: no full-size copy is kept
            if as_png and img.mode not in PNG_MODES:
                img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
            elif not as_png and img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            if orientation in TRANSPOSE:
                img = img.transpose(TRANSPOSE[orientation])   # on the small image only
            out = io.BytesIO()
            if as_png:
                # only the palette's transparency goes on: no text chunks, EXIF or profile
                img.info = {k: v for k, v in img.info.items() if k == "transparency"}
                img.save(out, "PNG")
                return out.getvalue(), "png"
            img.save(out, "JPEG", quality=88)  # no exif= argument: the metadata is gone
            return out.getvalue(), "jpg"
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(use, limits) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise unreadable from None


async def clean_off_loop(pool: CpuPool, data: bytes, use: ImageUse, limits: ImageLimits) -> bytes:
    """`clean` in the CPU pool; an over-size upload is refused before it takes a worker."""
    check_bytes(data, use, limits)
    return await pool.run(clean, data, use, limits)


def document_or_pdf(data: bytes, filename: str, limits: ImageLimits) -> tuple[str, str, bytes]:
    """A paper document as uploaded evidence, judged by content: a PDF is kept as sent, a
    JPG/PNG photo is cleaned like every image. (display name, content type, bytes).
    Blocking: run it in the CPU pool."""
    from .uploads import clean_upload_name, sniff_document
    if data.startswith(b"%PDF-"):
        ext, content_type = sniff_document(data)
        return clean_upload_name(filename, ext), content_type, data
    try:
        cleaned, ext = clean_document(data, DOCUMENT, limits)
    except Invalid as exc:
        if "无法识别" in str(exc):
            raise Invalid("只支持 JPG、PNG 图片或 PDF 文件（按文件内容识别）") from None
        raise
    return clean_upload_name(filename, ext), IMAGE_TYPES[ext], cleaned
