"""Write an animated GIF one frame at a time, so memory stays bounded however many frames.

Every frame must be a palette ("P") image quantised to ONE palette, given once: it becomes the
GIF's global colour table. Like Pillow's ``save(save_all=True)``, a frame is stored as the
rectangle that changed since the previous one (unchanged pixels inside it transparent when the
palette has a spare entry, which LZW packs into almost nothing), and a frame identical to the
previous one only lengthens the previous one's duration. Unlike it, nothing but the previous
frame's indices and the encoded bytes of the frame still waiting for its duration are kept.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


class GifStream:
    """``add(frame, duration_ms)`` each frame, then ``close()``; writes to ``handle`` as it goes.

    The first frame's palette is the global colour table; later frames must use the same one.
    ``loop`` is the NETSCAPE2.0 repeat count (0: forever).
    """

    def __init__(self, handle: IO[bytes], *, loop: int = 0) -> None:
        self._handle = handle
        self._loop = loop
        self._previous: np.ndarray | None = None  # palette indices of the last frame added
        self._pending: tuple[Image.Image, tuple[int, int], int | None] | None = None
        self._pending_ms = 0
        self._table = 256  # entries of the global colour table
        self._canon = np.arange(256, dtype=np.uint8)  # index -> first index of the same colour
        self.frames = 0  # frames written so far (identical ones merged)

    def add(self, frame: Image.Image, duration_ms: int) -> None:
        """Queue ``frame`` (mode "P") to be shown ``duration_ms`` (a multiple of 10)."""
        from PIL import GifImagePlugin

        if frame.mode != "P":
            raise ValueError(f"GIF frames must be palette images, got mode {frame.mode}")
        indices = np.asarray(frame)
        if self._previous is None:
            info: dict[str, Any] = {"optimize": False, "loop": self._loop}
            info["duration"] = duration_ms  # makes the header GIF89a
            header, _ = GifImagePlugin.getheader(frame, None, info)
            for chunk in header:
                self._handle.write(chunk)
            colours = frame.getpalette() or []
            self._table = 1 << max(1, (len(colours) // 3 - 1).bit_length())  # header pads to 2**n
            # A palette may hold one colour twice (a median cut does): compare colours, not
            # indices, or a pixel whose index flips between twins would count as changed.
            entries = [tuple(colours[i : i + 3]) for i in range(0, len(colours) - 2, 3)]
            first: dict[tuple[int, ...], int] = {}
            for index, colour in enumerate(entries):
                first.setdefault(colour, index)
            self._canon = np.arange(256, dtype=np.uint8)
            self._canon[: len(entries)] = [first[colour] for colour in entries]
            indices = self._canon[indices]
            self._previous = indices
            self._pending = (frame, (0, 0), None)
            self._pending_ms = duration_ms
            return
        indices = self._canon[indices]
        changed = self._previous != indices
        rows = np.flatnonzero(changed.any(axis=1))
        if rows.size == 0:  # the same picture: the previous one stays up longer
            self._pending_ms += duration_ms
            return
        cols = np.flatnonzero(changed.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        patch = indices[top:bottom, left:right]
        fresh = changed[top:bottom, left:right]
        # Like Pillow: pixels of the rectangle that did not change are drawn in an index the
        # changed ones do not use, marked transparent (the old pixel shows through); long runs
        # of one index cost LZW almost nothing.
        used = np.bincount(patch[fresh], minlength=self._table)[: self._table]
        free = np.flatnonzero(used == 0)
        transparency = int(free[-1]) if free.size else None
        if transparency is not None:
            patch = np.where(fresh, patch, np.uint8(transparency))
        from PIL import Image

        height, width = patch.shape
        crop = Image.frombytes("P", (width, height), np.ascontiguousarray(patch).tobytes())
        self._flush()
        self._previous = indices
        self._pending = (crop, (int(left), int(top)), transparency)
        self._pending_ms = duration_ms

    def close(self) -> None:
        """Write the last frame and the trailer (no frame added: nothing is written)."""
        if self._previous is None:
            return
        self._flush()
        self._handle.write(b";")
        self._previous = None

    def _flush(self) -> None:
        from PIL import GifImagePlugin

        if self._pending is None:
            return
        image, offset, transparency = self._pending
        params: dict[str, Any] = {"duration": self._pending_ms}
        if transparency is not None:
            params["transparency"] = transparency
        for chunk in GifImagePlugin.getdata(image, offset, **params):
            self._handle.write(chunk)
        self._pending = None
        self.frames += 1
