"""Atomic file writes: the user's work is either fully on disk or untouched.

Write to a temporary file in the same folder, fsync it, then ``os.replace`` it over the
target (atomic on POSIX and Windows), and fsync the folder so the rename itself survives a
power cut. A failure (disk full, no permission) leaves any earlier file intact and raises
:class:`~cbct_osteo.io.errors.LoadError` naming the target.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, BinaryIO

from cbct_osteo.io.errors import LoadError


def write_atomic(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(fileobj)`` on a temporary file and move it over ``path`` when it succeeded."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise LoadError(target, f"cannot write here: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp_name, _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise LoadError(target, f"could not be written: {exc.strerror or exc}; any earlier file is unchanged") from exc
        raise
    _fsync_folder(folder)
    return target


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
