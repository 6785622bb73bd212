"""Turning untrusted bytes into an image Spark is willing to serve.

The type is read from the bytes, never from a name or a Content-Type; the
size in pixels is read from the header before anything is decoded, so a
decompression bomb costs a header read. What comes out is re-encoded from the
pixels alone: no EXIF (GPS), XMP, ICC or comment survives, and orientation is
applied first so that nothing looks sideways without its EXIF. Pillow is
imported here only, on the first image (docs/decisions.md, Footprint).
"""

import io
import math
import warnings
from dataclasses import dataclass
from typing import Any

# Mastodon's limits: originals within 3840x2160 worth of pixels, previews within 640x360.
MAX_AREA = 3840 * 2160
THUMB_AREA = 640 * 360
BLURHASH_SIDE = 32
MAX_FRAMES = 1_000

SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png"),
    (b"GIF87a", "GIF", "image/gif"),
    (b"GIF89a", "GIF", "image/gif"),
)


class MediaRejected(ValueError):
    """The file is not an image Spark accepts; the message says why, for the uploader."""


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    media_type: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str
    thumbnail_width: int
    thumbnail_height: int
    blurhash: str
    animated: bool


def sniff(data: bytes) -> tuple[str, str]:
    """(Pillow format, media type) from the first bytes; anything else, SVG and HTML included, is refused."""
    for magic, fmt, media_type in SIGNATURES:
        if data.startswith(magic):
            return fmt, media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "image/webp"
    raise MediaRejected("not a JPEG, PNG, WebP or GIF image")


def process(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Check DATA and re-encode it; `MediaRejected` names what is wrong. Runs in a worker thread."""
    if len(data) > max_bytes:
        raise MediaRejected(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    fmt, media_type = sniff(data)
    from PIL import Image, UnidentifiedImageError

    # Pillow's own bomb check, set to ours: it refuses at open what is far past the limit; its
    # warning for what is just past it is ours to give (below), as a refusal.
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise MediaRejected(f"the image has more than {max_pixels:,} pixels")
            animated = fmt in ("GIF", "WEBP") and getattr(image, "n_frames", 1) > 1
            if animated:
                return _animated(image, fmt, media_type, max_pixels)
            return _still(image, fmt, media_type)
    except MediaRejected:
        raise
    except Image.DecompressionBombError:
        raise MediaRejected(f"the image has more than {max_pixels:,} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MediaRejected(f"the image cannot be read ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    return text[:120] if text else type(exc).__name__


def _fit(width: int, height: int, area: int) -> tuple[int, int]:
    if width * height <= area:
        return width, height
    scale = math.sqrt(area / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _still(image: Any, fmt: str, media_type: str) -> ProcessedImage:
    from PIL import ImageOps

    image.load()  # a truncated file fails here, inside the caller's try
    upright = ImageOps.exif_transpose(image)
    size = _fit(*upright.size, MAX_AREA)
    if size != upright.size:
        # Scaled first, so the copies below are of the smaller image (peak memory).
        upright = upright.resize(size, resample=_lanczos())
    pixels = _without_metadata(upright)
    del upright
    data = _encode(pixels, fmt)
    thumb = pixels.copy()
    thumb.thumbnail(_fit(*pixels.size, THUMB_AREA), resample=_lanczos())
    thumb_type, thumb_data = _thumbnail_bytes(thumb)
    return ProcessedImage(
        data=data,
        media_type=media_type,
        width=pixels.width,
        height=pixels.height,
        thumbnail=thumb_data,
        thumbnail_type=thumb_type,
        thumbnail_width=thumb.width,
        thumbnail_height=thumb.height,
        blurhash=_blurhash(thumb),
        animated=False,
    )


def _animated(image: Any, fmt: str, media_type: str, max_pixels: int) -> ProcessedImage:
    """Frames re-encoded one by one (kept animated), each checked, the whole bounded by MAX_FRAMES."""
    from PIL import ImageSequence

    if image.n_frames > MAX_FRAMES or image.n_frames * image.width * image.height > 8 * max_pixels:
        raise MediaRejected("the animation has too many frames")
    size = _fit(image.width, image.height, MAX_AREA)
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        rgba = frame.convert("RGBA")
        frames.append(rgba if rgba.size == size else rgba.resize(size, resample=_lanczos()))
        durations.append(int(frame.info.get("duration", 100)) or 100)
    out = io.BytesIO()
    frames[0].save(
        out, format=fmt, save_all=True, append_images=frames[1:], duration=durations, loop=0, disposal=2
    )
    first = frames[0].convert("RGB")
    first.thumbnail(_fit(*first.size, THUMB_AREA), resample=_lanczos())
    thumb_type, thumb_data = _thumbnail_bytes(first)
    return ProcessedImage(
        data=out.getvalue(),
        media_type=media_type,
        width=size[0],
        height=size[1],
        thumbnail=thumb_data,
        thumbnail_type=thumb_type,
        thumbnail_width=first.width,
        thumbnail_height=first.height,
        blurhash=_blurhash(first),
        animated=True,
    )


def _without_metadata(image: Any) -> Any:
    """A new image holding only the pixels (and a palette): `info` and EXIF are left behind."""
    from PIL import Image

    mode = image.mode
    if mode not in ("RGB", "RGBA", "L", "LA", "P"):
        mode = "RGBA" if "A" in mode or "transparency" in image.info else "RGB"
        image = image.convert(mode)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _encode(image: Any, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        # Baseline, not optimised or progressive: those cost 5x the encode for a few % of size.
        image.convert("RGB").save(out, format="JPEG", quality=85)
    elif fmt == "WEBP":
        image.save(out, format="WEBP", quality=85)
    elif fmt == "GIF":
        image.save(out, format="GIF")
    else:
        image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _thumbnail_bytes(thumb: Any) -> tuple[str, bytes]:
    out = io.BytesIO()
    if thumb.mode in ("RGBA", "LA"):
        thumb.save(out, format="WEBP", quality=80)
        return "image/webp", out.getvalue()
    thumb.convert("RGB").save(out, format="JPEG", quality=80, optimize=True)
    return "image/jpeg", out.getvalue()


def _blurhash(image: Any) -> str:
    import blurhash

    small = image.convert("RGB")
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE))
    raw = small.tobytes()
    width = small.width
    rows = [
        [raw[i : i + 3] for i in range(row * width * 3, (row + 1) * width * 3, 3)]
        for row in range(small.height)
    ]
    return blurhash.encode(rows, components_x=4, components_y=3)


def _lanczos() -> Any:
    from PIL import Image

    return Image.Resampling.LANCZOS
