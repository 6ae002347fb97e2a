"""How a case's cortical margins are taken: edge-refined, or as placed, per measurement.

The GUI saves the choice in its session (``settings.refine``, ``settings.as_placed``); the command
line reads it from a session given as ``--landmarks`` and lets ``--no-refine`` / ``--as-placed``
override it. Both read it through :meth:`MarginMethod.from_settings`, so a session measures the same
in the GUI and on the command line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cbct_osteo.io.landmarks_file import SIDES

#: The measurements that share the cortical edge fit; each may be taken as placed (``as_placed``).
CORTICAL_IDS: tuple[str, ...] = ("W", "S", "I")

AsPlaced = tuple[tuple[str, str], ...]


def as_placed_pairs(raw: Any) -> AsPlaced:
    """The valid (side, id) pairs of ``raw`` (user-editable JSON or options), sorted, once each.

    A pair whose side is not left/right or whose id is not W, S or I is dropped: a hand-edited
    session must not stop the case from opening.
    """
    pairs = set()
    for item in raw if isinstance(raw, (list, tuple, set, frozenset)) else ():
        if isinstance(item, (list, tuple)) and len(item) == 2 and item[0] in SIDES and item[1] in CORTICAL_IDS:
            pairs.add((str(item[0]), str(item[1])))
    return tuple(sorted(pairs))


def parse_as_placed_option(text: str) -> tuple[str, str]:
    """``"left:W"`` -> ``("left", "W")``; :class:`ValueError` saying what is allowed otherwise.

    The side is case-insensitive (``Left:w`` is accepted), the id is one of W, S, I.
    """
    side, sep, mid = text.strip().partition(":")
    side, mid = side.strip().lower(), mid.strip().upper()
    if not sep or side not in SIDES or mid not in CORTICAL_IDS:
        raise ValueError(
            f"{text!r} is not SIDE:ID; SIDE is {' or '.join(SIDES)}, ID is {', '.join(CORTICAL_IDS)} (e.g. left:W)"
        )
    return side, mid


@dataclass(frozen=True)
class MarginMethod:
    """Edge refinement on or off, and the (side, id) measurements taken as placed although it is on."""

    refine: bool = True
    as_placed: AsPlaced = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MarginMethod:
        """The choice saved in a session's ``settings`` (the GUI's ``ViewSettings``); defaults where absent."""
        refine = settings.get("refine", True)
        return cls(
            refine=refine if isinstance(refine, bool) else True,
            as_placed=as_placed_pairs(settings.get("as_placed", ())),
        )

    def overridden(
        self, *, no_refine: bool = False, as_placed: Collection[tuple[str, str]] | None = None
    ) -> MarginMethod:
        """This choice with the command line's on top: ``--no-refine`` and ``--as-placed`` (when given) win."""
        refine = self.refine and not no_refine
        pairs = self.as_placed if as_placed is None else as_placed_pairs(list(as_placed))
        return MarginMethod(refine=refine, as_placed=pairs if refine else ())
