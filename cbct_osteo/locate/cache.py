"""One location per volume object: the GUI's auto arch, panoramic band and 3D view share it.

Keyed by the object's identity and held through a weak reference, so a closed scan's entry goes
with it and a new scan (a new object) is always located afresh. Thread-safe: workers ask too,
and a second caller for the same volume waits for the first one's answer instead of locating again.
"""

from __future__ import annotations

import threading
import weakref
from functools import partial

from cbct_osteo.locate.locator import MandibleLocation, locate_mandible
from cbct_osteo.volume import Volume

_LOCK = threading.RLock()  # re-entrant: a weakref callback may run during a collection inside it
_CACHE: dict[int, tuple[weakref.ref[Volume], MandibleLocation]] = {}
_PENDING: dict[int, threading.Lock] = {}


def cached_location(volume: Volume) -> MandibleLocation:
    """:func:`locate_mandible` of ``volume`` with the default threshold, computed once per volume object."""
    key = id(volume)
    with _LOCK:
        pending = _PENDING.setdefault(key, threading.Lock())
    with pending:  # one caller locates, the others wait for it
        with _LOCK:
            entry = _CACHE.get(key)
            if entry is not None and entry[0]() is volume:
                return entry[1]
        location = locate_mandible(volume)
        with _LOCK:
            _CACHE[key] = (weakref.ref(volume, partial(_forget, key)), location)
        return location


def _forget(key: int, _collected: weakref.ref[Volume]) -> None:
    """The weakref callback: drop the entry of a volume that was garbage-collected."""
    with _LOCK:
        _CACHE.pop(key, None)
        _PENDING.pop(key, None)
