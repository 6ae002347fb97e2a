"""Per-scan warnings a user must see: what about this scan limits what can be measured on it.

The loader records every repair and oddity as free text in ``Volume.meta.warnings`` (and logs it;
those texts may name files, for ``cbct-osteo info``). The GUI banner, the "Scan info" dialog and
the report's limits section need the same facts as short, classified items: the loader gives them
as ``Volume.meta.extra["scan_facts"]`` (``[{"code", "message"}]``, from the stack geometry, free of
file names); volumes made otherwise fall back on the texts, with file names cut out. The rest is
derived here from the volume itself (its geometry and calibration). Messages name no patient and
no source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cbct_osteo.volume import Volume

#: Slice spacing (mm) above which the inferior cortex (1-6 mm wide) cannot be resolved reliably on
#: a line that crosses the slices: below Nyquist for the thinnest cortices (INDICES.md, measurement quality).
COARSE_SLICE_MM = 1.0


@dataclass(frozen=True)
class ScanWarning:
    """One limitation of a scan.

    ``code`` is a stable identifier (``interpolated_slices``, ``missing_slices``, ``gantry_tilt``,
    ``oblique``, ``coarse_slices``, ``non_square_pixels``, ``uncalibrated``, ``other``);
    ``message`` is one plain sentence for the user.
    """

    code: str
    message: str


_TEXT_CODES = (
    ("resampled to a uniform", "interpolated_slices"),
    ("missing", "missing_slices"),
    ("gantry tilt", "gantry_tilt"),
    ("oblique orientation", "oblique"),
    ("non-square pixels", "non_square_pixels"),
)


def scan_warnings(volume: Volume) -> list[ScanWarning]:
    """The scan's limitations, most important first, each code at most once."""
    found: dict[str, ScanWarning] = {}
    facts = volume.meta.extra.get("scan_facts")
    if facts is None:
        facts = [
            {"code": next((c for key, c in _TEXT_CODES if key in text), "other"), "message": _without_names(text)}
            for text in volume.meta.warnings
        ]
    for fact in facts:
        code, text = fact["code"], fact["message"]
        if code != "other" and code not in found and text:
            found[code] = ScanWarning(code, text[0].upper() + text[1:] + ".")
    slice_mm = float(volume.spacing[0])
    if slice_mm > COARSE_SLICE_MM:
        found["coarse_slices"] = ScanWarning(
            "coarse_slices",
            f"Slices are {slice_mm:.2g} mm apart: too coarse to resolve the inferior cortex on lines that cross "
            "the slices; cortical widths on this scan are uncertain or not measurable.",
        )
    if volume.meta.units != "HU":
        found["uncalibrated"] = ScanWarning(
            "uncalibrated",
            "Gray values are not calibrated Hounsfield units: intensity-based values (trabecular mean and SD) "
            "cannot be compared between scanners.",
        )
    order = [
        "coarse_slices",
        "missing_slices",
        "interpolated_slices",
        "gantry_tilt",
        "oblique",
        "non_square_pixels",
        "uncalibrated",
    ]
    return [found[c] for c in order if c in found]


def _without_names(text: str) -> str:
    """A loader text without the parenthesised file names it may end with ("... (J.050, J.052)")."""
    return re.sub(r"\s*\([^()]*\b[\w.-]+\.(?:dcm|\d{3})\b[^()]*\)", "", text).strip()


def is_axis_aligned(volume: Volume) -> bool:
    """Whether the voxel axes are parallel to the patient axes (no tilt, no oblique stack)."""
    directions = volume.axis_directions()
    return bool(np.allclose(np.abs(directions).max(axis=1), 1.0, atol=1e-4))
