"""Atomic file writes: the user's work is either fully on disk or untouched.

Write to a temporary file in the same folder, fsync it, then ``os.replace`` it over the
target (atomic on POSIX and Windows), and fsync the folder so the rename itself survives a
power cut. A failure (disk full, no permission) leaves any earlier file intact and raises
:class:`~cbct_osteo.errors.WriteError` naming the target.

A process killed mid-write (kill -9, power cut) leaves its temporary file behind. Each write
therefore first removes *our* stale temporaries in the target's folder: names
``.<name>.<8 random characters>.tmp`` exactly as :func:`tempfile.mkstemp` makes them here,
last modified more than :data:`STALE_TEMP_AGE_S` ago (a write still running in another
process touches its file as it goes and takes seconds, so it is never removed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from cbct_osteo.errors import WriteError

#: A temporary file untouched for this long (seconds) belongs to a write that died.
STALE_TEMP_AGE_S = 300.0
#: Our temporaries: ``.<target name>.`` + the 8 random characters of :func:`tempfile.mkstemp` + ``.tmp``.
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def write_atomic(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fileobj)`` on a temporary file and move it over ``path`` when it succeeded."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.exists() and not target.is_file():
        # os.replace would put a regular file in place of a device or pipe (as root, even /dev/null).
        raise WriteError(target, "is not a regular file (a folder, device or pipe)", "choose a file name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(target, f"cannot write here: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp_name, _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise WriteError(
                target, f"could not be written: {exc.strerror or exc}; any earlier file is unchanged"
            ) from exc
        raise
    _fsync_folder(folder)
    return target


def remove_stale_temporaries(folder: str | Path, max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove the temporaries that interrupted atomic writes left in ``folder``; return them.

    Only names of our exact pattern (``.<name>.XXXXXXXX.tmp``), only regular files, only those
    last modified more than ``max_age_s`` seconds ago. Errors (a file vanishing, no permission)
    are ignored: cleaning up must never stop the write itself.
    """
    cutoff = time.time() - max_age_s
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _mode_for(target: Path) -> int:
    """The permissions the file would have had if written plainly: the old file's, else 0666 less the umask.

    ``mkstemp`` creates 0600 files; without this a report saved on a shared practice machine
    would be readable only by whoever wrote it.
    """
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    """The process umask, read without changing it where the OS allows (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_atomic(path, lambda handle: handle.write(data))


def write_json_atomic(path: str | Path, document: Any) -> Path:
    """Write ``document`` as indented UTF-8 JSON to ``path`` atomically."""
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
