"""Site-index files chosen in Preferences: scored with the catalogue in the live results and the report.

``cbct-osteo validate --write-index SITE.toml`` writes a site-derived index; the command line adds
it with ``--index SITE.toml``, the GUI with Edit > Preferences > Site indices. The list of files
is kept in QSettings (``indices/siteFiles``); each file is read by the same code as ``--index``
(:func:`cbct_osteo.indices.definition_file.load_index_file`), so a bad file gets the same
message naming it, shown once in a dialog, and is left out until it is fixed or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings

from cbct_osteo.errors import CbctOsteoError
from cbct_osteo.indices.catalogue import IndexEntry
from cbct_osteo.indices.definition_file import load_index_file

SITE_INDEX_KEY = "indices/siteFiles"


def site_index_files(settings: QSettings) -> list[str]:
    """The site-index files of the Preferences, in the order they were added."""
    value = settings.value(SITE_INDEX_KEY, [])
    if isinstance(value, str):  # INI-backed QSettings give one string back for a one-item list
        return [value] if value else []
    if not isinstance(value, (list, tuple)):
        return []
    return [str(v) for v in value if str(v)]


def set_site_index_files(settings: QSettings, paths: list[str]) -> None:
    settings.setValue(SITE_INDEX_KEY, list(paths))
    settings.sync()


class SiteIndices:
    """The entries of the chosen files, read once per change of the list (or of a file's time stamp)."""

    def __init__(self, settings: QSettings, show_error: Callable[[str, str], object]) -> None:
        self.settings = settings
        self.show_error = show_error
        self._key: tuple | None = None
        self._entries: tuple[IndexEntry, ...] = ()

    def entries(self) -> tuple[IndexEntry, ...]:
        """The readable files' entries; an unreadable one is named in a dialog (once) and left out."""
        paths = site_index_files(self.settings)
        key = tuple((p, _stamp(p)) for p in paths)
        if key == self._key:
            return self._entries
        self._key = key
        entries: list[IndexEntry] = []
        for path in paths:
            try:
                entry = load_index_file(path)
            except CbctOsteoError as exc:
                self.show_error("Site index not used", f"{exc}\n\nFix the file or remove it in Edit > Preferences.")
                continue
            if any(e.id == entry.id for e in entries):
                self.show_error("Site index not used", f"{path}: index id {entry.id!r} is given twice; it is left out.")
                continue
            entries.append(entry)
        self._entries = tuple(entries)
        return self._entries


def _stamp(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return -1.0
