"""Session files: the user's landmarks plus view settings, tied to one scan, saved atomically.

A session is what the GUI autosaves after every change and what *Save session as* writes.
It never stores pixels: it stores the landmarks document (the landmarks file format, see
:mod:`cbct_osteo.io.landmarks_file`), the view settings (window/level, arch step, layout),
and the identity of the scan (SeriesInstanceUID and :meth:`Volume.fingerprint`) so that
landmarks are never applied to another scan.

Format (``version`` 1)::

    {"format": "cbct-osteo-session", "version": 1,
     "series_uid": "...", "volume_fingerprint": "...", "source": "/path/the/scan/came/from",
     "saved_at": "2024-05-01T10:00:00+00:00",
     "landmarks": {<landmarks document>},
     "settings": {"window": 2000.0, "level": 1000.0, "arch_step_mm": 1.0, ...}}

Readers accept older versions, refuse newer ones with a clear message, and keep unknown keys
on rewrite (like the landmarks file). A plain landmarks file is also accepted as a session
with default settings, so ``landmarks.json`` from the command line opens in the GUI.

Autosaves live in ``<data dir>/autosave/<series_uid>-<fingerprint>.json`` where the data dir
is ``$CBCT_OSTEO_DATA_DIR`` if set (tests), else ``$XDG_DATA_HOME/cbct-osteo`` or
``~/.local/share/cbct-osteo``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbct_osteo.io.atomic import write_json_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import FORMAT_NAME as LANDMARKS_FORMAT
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.io.user_files import check_format_header, read_user_json

SESSION_FORMAT = "cbct-osteo-session"
SESSION_VERSION = 1
DATA_DIR_ENV = "CBCT_OSTEO_DATA_DIR"


@dataclass
class Session:
    """Landmarks + settings for one scan.

    Attributes
    ----------
    landmarks
        The landmarks the user placed (patient LPS mm).
    settings
        View settings as plain JSON values (window/level in gray values, arch step in mm, ...).
    series_uid, volume_fingerprint
        Identity of the scan the session belongs to (empty when unknown).
    source
        Where the scan was opened from, for the user's information only.
    saved_at
        ISO 8601 time of the last write (UTC), set by :func:`write_session`.
    extra
        Unknown top-level keys, written back unchanged.
    """

    landmarks: LandmarkSet = field(default_factory=LandmarkSet)
    settings: dict[str, Any] = field(default_factory=dict)
    series_uid: str = ""
    volume_fingerprint: str = ""
    source: str = ""
    saved_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = copy.deepcopy(self.extra)
        landmarks = self.landmarks.copy()
        landmarks.series_uid = landmarks.series_uid or self.series_uid
        landmarks.volume_fingerprint = landmarks.volume_fingerprint or self.volume_fingerprint
        document.update(
            {
                "format": SESSION_FORMAT,
                "version": SESSION_VERSION,
                "series_uid": self.series_uid,
                "volume_fingerprint": self.volume_fingerprint,
                "source": self.source,
                "saved_at": self.saved_at,
                "landmarks": landmarks.to_json(),
                "settings": copy.deepcopy(self.settings),
            }
        )
        return document

    @classmethod
    def from_json(cls, document: Any, source: str | Path = "<session>") -> Session:
        """Parse a session (or plain landmarks) document; :class:`LoadError` naming ``source`` on a fault."""
        if not isinstance(document, dict):
            raise LoadError(source, "is not a session file (expected a JSON object)")
        if document.get("format") == LANDMARKS_FORMAT:
            landmarks = LandmarkSet.from_json(document, source, refuse_degenerate=False)
            return cls(
                landmarks=landmarks, series_uid=landmarks.series_uid, volume_fingerprint=landmarks.volume_fingerprint
            )
        check_format_header(document, source, SESSION_FORMAT, SESSION_VERSION, "cbct-osteo session", "session format")
        settings = document.get("settings") or {}
        if not isinstance(settings, dict):
            raise LoadError(source, "'settings' must be an object")
        known = {"format", "version", "series_uid", "volume_fingerprint", "source", "saved_at", "landmarks", "settings"}
        return cls(
            landmarks=LandmarkSet.from_json(document.get("landmarks"), source, refuse_degenerate=False),
            settings=dict(settings),
            series_uid=str(document.get("series_uid", "")),
            volume_fingerprint=str(document.get("volume_fingerprint", "")),
            source=str(document.get("source", "")),
            saved_at=str(document.get("saved_at", "")),
            extra={k: v for k, v in document.items() if k not in known},
        )

    def check_belongs_to(self, series_uid: str, fingerprint: str, source: str | Path = "<session>") -> None:
        """Raise :class:`LoadError` when this session was made on another scan.

        The fingerprint decides (a re-exported scan may keep its UID but change its voxels);
        the UID is compared only when the session has no fingerprint.
        """
        if self.volume_fingerprint and fingerprint and self.volume_fingerprint != fingerprint:
            raise LoadError(
                source,
                "belongs to a different scan (its volume fingerprint does not match the open scan)",
                "open the scan the session was made on, or start new landmarks on this one",
            )
        if not self.volume_fingerprint and self.series_uid and series_uid and self.series_uid != series_uid:
            raise LoadError(
                source,
                f"belongs to a different scan (series UID {self.series_uid}, the open scan is {series_uid})",
                "open the scan the session was made on",
            )


def read_session(path: str | Path) -> Session:
    """Read a session (or landmarks) file. Raises :class:`LoadError` naming the file on any problem."""
    source = Path(path)
    document = read_user_json(source, "session file")
    return Session.from_json(document, source)


def write_session(session: Session, path: str | Path) -> Path:
    """Write ``session`` atomically (temp file, fsync, rename), stamping ``saved_at``."""
    session.saved_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return write_json_atomic(path, session.to_json())


def data_dir() -> Path:
    """The per-user data folder (``$CBCT_OSTEO_DATA_DIR``, else XDG data home / cbct-osteo)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "cbct-osteo"


def autosave_path(series_uid: str, fingerprint: str) -> Path:
    """Where the autosave of one scan lives; UID and fingerprint make it unique per scan."""
    safe_uid = re.sub(r"[^0-9A-Za-z._-]", "_", series_uid or "no-uid")[:80]
    return data_dir() / "autosave" / f"{safe_uid}-{fingerprint[:16] or 'nofp'}.json"


def read_landmarks_and_settings(path: str | Path) -> tuple[LandmarkSet, dict[str, Any]]:
    """The landmarks of a landmarks file or of a GUI session/autosave file, and the session's ``settings``.

    Every command that takes ``--landmarks`` reads through this, so a session saved by the GUI can be
    given to the CLI directly. A landmarks file is read as strictly as by ``read_landmarks`` (a
    zero-length cortical line is refused); a session keeps what the GUI autosaved, and a degenerate
    line there comes out "not measurable". The scan identity recorded in the session is kept on the
    landmarks, so the usual "placed on another scan" check still applies.

    The settings are the GUI's view settings as saved (plain JSON, e.g. ``refine`` and ``as_placed``,
    which say how the GUI measured); a plain landmarks file has none (``{}``).
    """
    source = Path(path)
    document = read_user_json(source, "landmarks or session file")
    if isinstance(document, dict) and document.get("format") == LANDMARKS_FORMAT:
        return LandmarkSet.from_json(document, source), {}  # a landmarks file: degenerate lines refused
    session = Session.from_json(document, source)
    landmarks = session.landmarks.copy()
    landmarks.series_uid = landmarks.series_uid or session.series_uid
    landmarks.volume_fingerprint = landmarks.volume_fingerprint or session.volume_fingerprint
    return landmarks, session.settings
