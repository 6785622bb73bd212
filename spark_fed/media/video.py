"""X's animated GIFs, which its archives keep as silent MP4 files, turned back into GIFs.

PyAV (FFmpeg's decoders, bundled in its wheel) is imported here only, when an archive has such
a file. The clip is bounded before anything big is decoded: its frame size against the pixel
limit, at most `MAX_FRAMES` frames, each scaled to `MAX_SIDE`; what comes out is an ordinary
animated GIF that then goes through the image checks like any upload.
"""

import io
import itertools
from typing import Any

from .processing import MediaRejected

MAX_FRAMES = 300
MAX_SIDE = 480
MIN_DELAY_MS = 20  # browsers slow faster GIFs down to 100 ms anyway


def gif_from_video(data: bytes, *, max_pixels: int) -> bytes:
    """An animated GIF of the MP4 in DATA; `MediaRejected` when it cannot be read or is too big."""
    import av
    from PIL import Image

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = _video_stream(container)
            if stream.codec_context.width * stream.codec_context.height > max_pixels:
                raise MediaRejected(f"the video has more than {max_pixels:,} pixels a frame")
            frames, times = [], []
            for frame in container.decode(stream):
                if len(frames) == MAX_FRAMES:
                    break
                image = frame.to_image()
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                frames.append(image.convert("P", palette=Image.Palette.ADAPTIVE))
                times.append(float(frame.time or 0) * 1000)
    except av.error.FFmpegError as exc:
        raise MediaRejected(f"the video cannot be read ({exc})") from None
    if not frames:
        raise MediaRejected("the video has no frames")
    # A GIF frame's duration is how long it shows: until the next frame's time.
    delays = [max(MIN_DELAY_MS, int(b - a)) for a, b in itertools.pairwise(times)]
    delays.append(delays[-1] if delays else 100)
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=delays, loop=0)
    return out.getvalue()


def _video_stream(container: Any) -> Any:
    for stream in container.streams:
        if stream.type == "video":
            return stream
    raise MediaRejected("the file has no video")
