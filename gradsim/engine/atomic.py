"""Write files so that an existing file is never left half-written.

The new contents go to a hidden ``.NAME.XXXX.tmp`` beside the target, which ``os.replace``
then moves into place. A symlink is written through: its target gets the new contents and the
link stays a link. The temporary files of writes in progress are removed if the process is
stopped by a signal whose action is to end it (SIGTERM, SIGINT without Python's handler):
while a write is in progress, a handler that does so and then chains to the previous one is
installed (from the main thread; a write from another thread relies on the main thread's).
Any ``OSError`` is left to the caller, which names the file; ``reason`` words it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

# Read once at import: os.umask can only be read by setting it, which races with other threads.
_UMASK = os.umask(0)
os.umask(_UMASK)

_TMP_NAME_CHARS = 100  # of the target's name in the temporary's: fits the usual 255-byte limit
_STOP_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGINT", None)) if s
)

_lock = threading.Lock()
_pending: dict[Path, int] = {}  # temporary file -> how many writes use it (1)
_previous: dict[int, Any] = {}  # signal -> the handler ours replaced, while ours is installed


def reason(exc: OSError) -> str:
    """A one-line reason for ``exc``, e.g. "File name too long" or "No space left on device"."""
    if exc.errno is not None and not exc.strerror:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc) or type(exc).__name__


def pending_temporaries() -> list[Path]:
    """The temporary files of the writes in progress."""
    with _lock:
        return list(_pending)


def remove_temporaries() -> None:
    """Remove the temporary files of the writes in progress (the process is about to end)."""
    for tmp in pending_temporaries():
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Chained to the previous handler; removes the temporaries if the signal ends the process."""
    previous = _previous.get(signum, signal.SIG_DFL)
    if previous is signal.SIG_IGN:
        return
    if callable(previous):
        # e.g. Python's KeyboardInterrupt (atomic_path then removes its own file) or the app's
        # relay (the write finishes, then the window closes).
        previous(signum, frame)
        return
    # SIG_DFL (or a handler not set from Python): the process ends now, no finally runs.
    remove_temporaries()
    signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    if threading.current_thread() is not threading.main_thread() or _previous:
        return
    for number in _STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            _previous[number] = signal.signal(number, _on_signal)


def _uninstall() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for number, handler in list(_previous.items()):
        # Someone may have installed a handler after ours: leave theirs in place.
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(number) is _on_signal:
                signal.signal(number, handler)
        del _previous[number]


def _register(tmp: Path) -> None:
    with _lock:
        _pending[tmp] = _pending.get(tmp, 0) + 1


def _unregister(tmp: Path) -> None:
    with _lock:
        count = _pending.pop(tmp, 1) - 1
        if count > 0:
            _pending[tmp] = count
        empty = not _pending
    if empty:
        _uninstall()


def check_writable(path: Path) -> None:
    """Raise the OSError writing ``path`` atomically would meet at the start or the end.

    Creates and removes a temporary file where ``atomic_path`` would (the only reliable test
    of a folder: permission bits say nothing about read-only mounts, and root passes
    ``os.access``), and refuses a name longer than the file system takes (ENAMETOOLONG).
    """
    path = Path(os.path.realpath(path))
    _check_name(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name[:_TMP_NAME_CHARS]}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)


def _check_name(path: Path) -> None:
    try:
        longest = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows): os.replace will say
        return
    if longest > 0 and len(os.fsencode(path.name)) > longest:
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(path))


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    ``path`` may be a symlink: its final target is replaced and the link is kept. On any
    error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(os.path.realpath(path))
    _check_name(path)  # else found only by os.replace, after all the work
    _install()
    try:
        name = path.name[:_TMP_NAME_CHARS]
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
    except BaseException:
        with _lock:
            empty = not _pending
        if empty:
            _uninstall()
        raise
    tmp = Path(tmp_name)
    _register(tmp)
    try:
        os.close(fd)
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        _unregister(tmp)


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` with a binary file object, then move the result into place.

    Whatever ``write`` returns (e.g. a byte count) is ignored.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
