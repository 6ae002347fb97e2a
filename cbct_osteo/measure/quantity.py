"""A measured value that always travels with its unit, method and uncertainty.

Following highdicom's rule that a value and its unit are never separated, every measurement
and index result is one of these, so the report can round to the uncertainty and the DICOM SR
export is a mapping rather than a rewrite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: Measurement quality words of the results JSON (DESIGN.md), best first.
OK = "ok"
UNCERTAIN = "uncertain"
NOT_MEASURABLE = "not measurable"
QUALITIES: tuple[str, ...] = (OK, UNCERTAIN, NOT_MEASURABLE)


def worst_quality(*qualities: str) -> str:
    """The worst of ``qualities`` (``"ok"`` when none are given)."""
    return max(qualities, key=QUALITIES.index, default=OK)


@dataclass(frozen=True)
class Measurement:
    """One measured quantity.

    Attributes
    ----------
    id
        The id from INDICES.md (``W``, ``S``, ``I``, ``TRAB_MEAN``, ``FD`` ...).
    value
        The number, or ``None`` when it could not be measured (``missing`` then says why).
    unit
        ``"mm"``, ``"ratio"``, ``"gray value"``, ``"1"`` (dimensionless) ...
    method
        How it was obtained: ``"edge"``, ``"manual"``, ``"box counting"`` ...
    uncertainty
        A one-sigma-like estimate in the same unit, or ``None`` where none is meaningful.
    missing
        What the user must place before it can be measured (empty when ``value`` is set).
    details
        Method specifics worth keeping (profile positions, R², box sizes, threshold ...).
    quality
        ``"ok"``, ``"uncertain"`` (a value the data supports only loosely: read ``notes``) or
        ``"not measurable"`` (no value the data can support). Defaults to ``"ok"`` with a value
        and ``"not measurable"`` without one.
    notes
        Plain sentences saying why the quality is not ``"ok"`` (or what was done instead).
    geometry
        What was measured, for drawing it (patient LPS mm), written as top-level keys of the
        JSON: W has ``edges_mm`` (``outer``, ``inner``, ``source`` ``"edge"``/``"placed"``) and
        ``line_mm`` (two points: the border and the foramen centre).
    """

    id: str
    value: float | None
    unit: str
    method: str
    uncertainty: float | None = None
    missing: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    quality: str = ""
    notes: tuple[str, ...] = ()
    geometry: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.quality:
            object.__setattr__(self, "quality", OK if self.ok else NOT_MEASURABLE)
        if self.quality not in QUALITIES:
            raise ValueError(f"quality must be one of {QUALITIES}, got {self.quality!r}")
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def ok(self) -> bool:
        """Whether there is a finite value (whatever its quality)."""
        return self.value is not None and math.isfinite(self.value)

    @property
    def measurable(self) -> bool:
        """A value an index may be computed from: present and not ``"not measurable"``."""
        return self.ok and self.quality != NOT_MEASURABLE

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"value": self.value, "unit": self.unit, "method": self.method}
        if self.uncertainty is not None:
            document["uncertainty"] = self.uncertainty
        if self.missing:
            document["missing"] = list(self.missing)
        document["quality"] = self.quality
        document["notes"] = list(self.notes)
        document.update(self.geometry)
        if self.details:
            document["details"] = self.details
        return document


def decimals_for(uncertainty: float | None, default: int = 2) -> int:
    """Decimal places that show no more precision than ``uncertainty`` supports.

    One significant digit of the uncertainty sets the last shown decimal: ±0.05 mm → 2
    decimals, ±0.15 → 1, ±2 → 0. Used by the report, the GUI and the CSV alike.
    """
    if uncertainty is None or not math.isfinite(uncertainty) or uncertainty <= 0:
        return default
    return max(0, -int(math.floor(math.log10(uncertainty))))


def format_value(value: float | None, uncertainty: float | None = None, default_decimals: int = 2) -> str:
    """``3.2`` or ``3.21`` depending on ``uncertainty``; an en dash for a missing value."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{decimals_for(uncertainty, default_decimals)}f}"
