"""Keep a command's output bounded: its start and its end, with a line saying how much was cut.

A learner's loop can print hundreds of megabytes. The kernel keeps at most
``LIMIT`` bytes of each stream (half from the start, half from the end), so a
flood never grows the notebook's memory, and the learner still sees how the
output began and how it ended (where Python prints the error).
"""

from __future__ import annotations

from collections import deque

__all__ = ["LIMIT", "BoundedOutput", "decode", "size_text"]

# Per stream (stdout and stderr each): enough for any real command's output.
LIMIT = 2 * 1024 * 1024


class BoundedOutput:
    """Collect bytes as they arrive, keeping the first and last ``limit // 2`` of them."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0

    def append(self, chunk: bytes) -> None:
        """Add a chunk; forget the middle once both ends are full."""
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail.append(chunk)
            self.tail_size += len(chunk)
            # Drop whole chunks that lie entirely before the last tail_limit bytes.
            while self.tail and self.tail_size - len(self.tail[0]) >= self.tail_limit:
                self.tail_size -= len(self.tail.popleft())

    def value(self) -> bytes:
        """Return everything, or the start, a line saying how much was cut, and the end."""
        tail = b"".join(self.tail)
        if self.total <= self.head_limit + self.tail_limit:
            return bytes(self.head) + tail  # nothing was dropped
        head = bytes(self.head)
        tail = tail[-self.tail_limit :]
        # Cut at line ends where there are any, so no line is shown half.
        if b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        if b"\n" in tail[:-1]:
            tail = tail[tail.index(b"\n") + 1 :]
        cut = self.total - len(head) - len(tail)
        return head + f"[... {size_text(cut)} of output cut ...]\n".encode() + tail


def size_text(size: int) -> str:
    """Return a size as people read it, in units of 1024: 812 bytes, 14.2 KB, 297.3 MB, 4 GB."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def decode(data: bytes) -> str:
    """Decode as subprocess does in text mode: UTF-8 with replacement, universal newlines."""
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
