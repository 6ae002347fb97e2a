"""The measurements made per side: the one list the catalogue, the engine and the validation share.

The index catalogue (:mod:`cbct_osteo.indices.catalogue`) is the program's source of truth for
the science; its list of measurements lives here, one layer down, because the measure engine
(which may not import ``indices``) needs the same ids, units and landmark requirements. The
catalogue re-exports :data:`MEASUREMENTS`; :mod:`cbct_osteo.measure.case` (ids, units) and
:mod:`cbct_osteo.measure.validation` (what each measurement needs) derive from it, as does the
user guide's generated table (scripts/make_index_table.py).
"""

from __future__ import annotations

from dataclasses import dataclass

GRAY = "gray value"


@dataclass(frozen=True)
class MeasurementSpec:
    """A measurement the measure engine makes per side (ids as in INDICES.md).

    Attributes
    ----------
    landmarks
        Every landmark kind it needs on its side.
    needs_arch
        Whether it also needs the dental arch (the trabecular ROI's cross-section is perpendicular to it).
    group
        Measurements placed and reported together: ``"W"``, ``"S"``, ``"I"`` or ``"TRAB"`` (one ROI).
    """

    id: str
    name: str
    unit: str
    landmarks: tuple[str, ...]
    description: str
    group: str
    needs_arch: bool = False


_CORTICAL = ("foramen_centre", "border_outer")
_ROI = ("trab_roi",)

MEASUREMENTS: tuple[MeasurementSpec, ...] = (
    MeasurementSpec(
        "W",
        "Inferior cortical width",
        "mm",
        (*_CORTICAL, "border_inner"),
        "|border_outer \u2212 border_inner| on the measurement line through the foramen centre, "
        "refined to the fitted edges by default",
        "W",
    ),
    MeasurementSpec(
        "S",
        "Foramen superior margin to inferior border",
        "mm",
        ("foramen_centre", "foramen_superior", "border_outer"),
        "distance from foramen_superior to the inferior border line",
        "S",
    ),
    MeasurementSpec(
        "I",
        "Foramen inferior margin to inferior border",
        "mm",
        ("foramen_centre", "foramen_inferior", "border_outer"),
        "distance from foramen_inferior to the inferior border line",
        "I",
    ),
    MeasurementSpec(
        "TRAB_MEAN",
        "Trabecular mean gray value",
        GRAY,
        _ROI,
        "mean gray value in the trabecular ROI (not calibrated HU)",
        "TRAB",
        True,
    ),
    MeasurementSpec(
        "TRAB_SD",
        "Trabecular gray-value SD",
        GRAY,
        _ROI,
        "standard deviation of gray values in the trabecular ROI",
        "TRAB",
        True,
    ),
    MeasurementSpec(
        "BV_TV",
        "Bone fraction (BV/TV), experimental",
        "ratio",
        _ROI,
        "fraction of ROI pixels at or above an Otsu threshold computed within the ROI "
        "(experimental: biased on blurred scans, see docs/science-notes.md)",
        "TRAB",
        True,
    ),
    MeasurementSpec(
        "FD",
        "Fractal dimension (2D box counting)",
        "1",
        _ROI,
        "box-counting dimension of the cross-section ROI resampled to 0.1 mm pixels, after White & "
        "Rudolph's (1999) steps (35-pixel Gaussian background subtracted, threshold, erode, dilate, "
        "invert); the skeleton of the marrow spaces is counted with boxes of 2 to ROI/4 pixels",
        "TRAB",
        True,
    ),
    MeasurementSpec(
        "FD_3D",
        "Fractal dimension (3D box counting, program's own)",
        "1",
        _ROI,
        "the program's own 3D extension: the same steps on the cubic ROI (0.1 mm voxels), 3D skeleton "
        "of the marrow spaces counted with cubes; not a published method; value only",
        "TRAB",
        True,
    ),
)
MEASUREMENT_IDS: tuple[str, ...] = tuple(m.id for m in MEASUREMENTS)
MEASUREMENTS_BY_ID: dict[str, MeasurementSpec] = {m.id: m for m in MEASUREMENTS}
UNITS: dict[str, str] = {m.id: m.unit for m in MEASUREMENTS}
TRABECULAR_IDS: tuple[str, ...] = tuple(m.id for m in MEASUREMENTS if m.group == "TRAB")
#: Texture measures limited by the voxel size (TRAB_MEAN is a mean gray value and is not).
TEXTURE_IDS: tuple[str, ...] = ("TRAB_SD", "BV_TV", "FD", "FD_3D")


def group_requirements() -> dict[str, tuple[str, ...]]:
    """What each group of measurements needs per side, in the order the guided workflow asks for it."""
    groups: dict[str, list[str]] = {}
    for spec in MEASUREMENTS:
        needed = groups.setdefault(spec.group, [])
        needed += [k for k in (*spec.landmarks, *(("arch",) if spec.needs_arch else ())) if k not in needed]
    return {g: tuple(v) for g, v in groups.items()}
