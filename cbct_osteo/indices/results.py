"""The results of scoring a case: index values per side and mean, the screening, and their JSON/CSV forms.

The data types :mod:`~cbct_osteo.indices.scoring` fills in, kept apart from the rules that fill them so
each module has one job. The category words here are the ones the user reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cbct_osteo.indices.catalogue import (
    MEASUREMENT_IDS,
    SIDE_TOLERANCE_MAX_FRACTION,
    Cutoff,
    IndexEntry,
    csv_columns,
)
from cbct_osteo.io.landmarks_file import SIDES
from cbct_osteo.measure.quantity import OK, Measurement

LOW = "low"
NORMAL = "normal"
NO_CUTOFF = "no validated cutoff"
NOT_COMPUTABLE = "not computable"
#: What "normal" means: nothing more (INDICES.md: no source supports reassurance).
NO_SIGN_TEXT = "no sign of low bone density on this index"
PENDING = "definition pending verification"
CASTRO_PENDING_TEXT = "Castro et al. 2020: definition pending verification"


@dataclass(frozen=True)
class SideCheck:
    """Do the two sides agree within the measurement uncertainty?

    ``tolerance`` = the entry's ``side_tolerance_sigmas`` x the combined one-sigma uncertainty of
    the two sides, capped at ``SIDE_TOLERANCE_MAX_FRACTION`` of the mean (``capped`` then says the
    uncertainty was too large for the check to mean anything). A plausibility flag (check the
    landmarks), not a science cutoff.
    """

    difference: float
    tolerance: float
    capped: bool = False

    @classmethod
    def of(cls, values: list[float], combined_sigma: float, sigmas: float) -> SideCheck:
        """The check for two side values with combined one-sigma ``combined_sigma``."""
        tolerance = sigmas * combined_sigma
        cap = SIDE_TOLERANCE_MAX_FRACTION * abs(sum(values) / len(values))
        capped = not math.isfinite(tolerance) or tolerance > cap
        return cls(abs(values[0] - values[1]), min(tolerance, cap) if math.isfinite(tolerance) else cap, capped)

    @property
    def agree(self) -> bool:
        return self.difference <= self.tolerance

    def to_json(self) -> dict[str, Any]:
        return {"difference": self.difference, "tolerance": self.tolerance, "agree": self.agree, "capped": self.capped}


@dataclass(frozen=True)
class IndexResult:
    """One index on one side (or the mean of both sides).

    ``value`` is a float, a grade string (CTCI) or ``None``; ``message`` is the sentence shown
    with or instead of the category.
    """

    id: str
    value: float | str | None
    unit: str
    category: str
    message: str
    status: str
    uncertainty: float | None = None
    cutoff: Cutoff | None = None
    missing: tuple[str, ...] = ()
    inputs: dict[str, Measurement] = field(default_factory=dict)
    side_check: SideCheck | None = None
    #: For an index from a definition file (``--index``): its name and provenance, written to the JSON.
    name: str = ""
    provenance: Mapping[str, Any] | None = None
    quality: str = OK
    notes: tuple[str, ...] = ()

    @property
    def computable(self) -> bool:
        return self.category not in (NOT_COMPUTABLE, PENDING)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"value": self.value, "unit": self.unit}
        if self.uncertainty is not None:
            document["uncertainty"] = self.uncertainty
        document.update(
            {
                "cutoff": self.cutoff.value if self.cutoff else None,
                "category": self.category,
                "message": self.message,
                "status": self.status,
            }
        )
        if self.cutoff is not None:
            document.update(
                {
                    "direction": self.cutoff.direction,
                    "cutoff_status": self.cutoff.status,
                    "cutoff_source": self.cutoff.source,
                    "cutoff_note": self.cutoff.note,
                }
            )
        document["quality"] = self.quality
        document["notes"] = list(self.notes)
        if self.missing:
            document["missing"] = list(self.missing)
        if self.inputs:
            document["inputs"] = {k: m.to_json() for k, m in self.inputs.items()}
        if self.side_check is not None:
            document["side_check"] = self.side_check.to_json()
        if self.provenance is not None:
            document["name"] = self.name
            document["provenance"] = dict(self.provenance)
        return document


@dataclass(frozen=True)
class Screening:
    """The overall result in words. ``code`` is ``low``, ``normal`` or ``incomplete`` (CSV column)."""

    code: str
    result: str
    #: The finding first, then what qualifies it on this scan (plain words).
    explanation: str
    recommendation: str
    primary_index: str
    #: Where the primary index and its cutoff come from, then the screening-aid disclaimer (for the limits).
    caveats: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "explanation": self.explanation,
            "recommendation": self.recommendation,
            "code": self.code,
            "primary_index": self.primary_index,
            "caveats": list(self.caveats),
        }


@dataclass
class SideResult:
    measurements: dict[str, Measurement]
    indices: dict[str, IndexResult]
    refined_points: dict[str, tuple[float, float, float]] = field(default_factory=dict)


@dataclass
class CaseResult:
    """Everything computed for one scan: per side, the means, the screening and the provenance."""

    sides: dict[str, SideResult]
    mean: dict[str, IndexResult]
    screening: Screening
    provenance: dict[str, Any]
    #: The catalogue the case was scored with (``None``: the built-in one); extra ``--index`` entries included.
    entries: tuple[IndexEntry, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The results JSON of DESIGN.md (``sides``, ``mean``, ``screening``, ``provenance``)."""
        sides: dict[str, Any] = {}
        for side, result in self.sides.items():
            sides[side] = {
                "measurements": {k: m.to_json() for k, m in result.measurements.items()},
                "indices": {k: r.to_json() for k, r in result.indices.items()},
            }
            if result.refined_points:
                sides[side]["refined_points"] = {k: list(p) for k, p in result.refined_points.items()}
        return {
            "sides": sides,
            "mean": {"indices": {k: r.to_json() for k, r in self.mean.items()}},
            "screening": self.screening.to_json(),
            "provenance": self.provenance,
        }

    def csv_row(self) -> dict[str, str]:
        """Batch CSV cells for every measurement and index column (see :func:`csv_columns`).

        ``case_id``, ``status``, ``error``, ``age`` and ``sex`` are the batch runner's to fill.
        """
        row: dict[str, str] = {}
        for side in SIDES:
            result = self.sides.get(side)
            for measurement_id in MEASUREMENT_IDS:
                m = result.measurements.get(measurement_id) if result else None
                row[f"{side}_{measurement_id}"] = _cell(m.value if m else None)
                row[f"{side}_{measurement_id}_quality"] = str(m.to_json().get("quality") or "") if m else ""
            for index_id, index in result.indices.items() if result else ():
                if index_id not in MEASUREMENT_IDS:
                    row[f"{side}_{index_id}"] = _cell(index.value)
        for index_id, index in self.mean.items():
            row[f"mean_{index_id}"] = _cell(index.value)
            row[f"mean_{index_id}_category"] = index.category
        row["screening"] = self.screening.code
        known = set(csv_columns(self.entries))
        return {k: v for k, v in row.items() if k in known}


def _cell(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value:.6g}" if math.isfinite(value) else ""
