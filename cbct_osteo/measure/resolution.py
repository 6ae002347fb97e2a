"""What the scan's sampling can resolve: cortical width along a line, trabecular texture in an ROI.

INDICES.md ("Measurement quality"): a number the data cannot support is not a measurement. Two
limits are applied, both documented with their sources in docs/science-notes.md:

- **Cortical width.** Along the measurement line the scan samples every ``h`` mm (the voxel's
  extent along the line; a vertical line crosses the slices, so ``h`` is the slice spacing, or the
  slice thickness when that is larger). A cortex spanning fewer than ``MIN_SAMPLES_NOT_MEASURABLE``
  samples has no plateau to measure (below the Nyquist rate of its two edges): W is "not
  measurable at this resolution". Below ``MIN_SAMPLES_OK`` samples its edges are partial-volume
  averages of both neighbours: W is "uncertain".
- **Trabecular texture** (TRAB_SD, BV_TV, FD, FD_3D). Mandibular trabeculae are about
  0.1–0.3 mm thick; CBCT trabecular morphometry was validated against micro-CT only at voxels of
  0.075–0.2 mm (Van Dessel et al. 2013; Panmekiate et al. 2015; Imaging Sci Dent 2022;52:171).
  Above ``TRABECULAR_OK_MM`` the texture is partly resolved ("uncertain"); above
  ``TRABECULAR_LIMIT_MM`` a voxel holds several trabeculae and marrow spaces, so the texture
  measures describe the blur, not the bone ("not measurable"). TRAB_MEAN (a mean gray value)
  needs no texture and is not limited.
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.measure.quantity import NOT_MEASURABLE, OK, UNCERTAIN
from cbct_osteo.volume import SLICE_THICKNESS_KEY, Volume

MIN_SAMPLES_NOT_MEASURABLE = 1.5
MIN_SAMPLES_OK = 3.0
TRABECULAR_OK_MM = 0.2
TRABECULAR_LIMIT_MM = 0.5


def slice_thickness(volume: Volume) -> float:
    """The slice thickness (mm): the recorded one when larger than the spacing, else the spacing."""
    recorded = volume.meta.extra.get(SLICE_THICKNESS_KEY) if volume.meta.extra else None
    try:
        thickness = float(recorded) if recorded is not None else 0.0
    except (TypeError, ValueError):
        thickness = 0.0
    return max(float(volume.spacing[0]), thickness)


def line_resolution(volume: Volume, direction: np.ndarray) -> float:
    """Sampling step (mm) of the scan along a unit direction: the voxel's extent along it.

    The slice axis counts with the slice thickness when that exceeds the spacing (overlapping
    reconstructions: 1.5 mm thick slices every 0.5 mm resolve 1.5 mm, not 0.5 mm).
    """
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    steps = volume.affine[:3, :3].T.copy()  # rows: patient-mm step of one voxel along z, y, x
    steps[0] *= slice_thickness(volume) / float(volume.spacing[0])
    return float(np.sum(np.abs(steps @ d)))


def cortical_quality(width_mm: float, resolution_mm: float) -> tuple[str, str | None]:
    """``(quality, note)`` for a cortex of ``width_mm`` sampled every ``resolution_mm`` along its line."""
    samples = width_mm / resolution_mm
    if samples < MIN_SAMPLES_NOT_MEASURABLE:
        return NOT_MEASURABLE, (
            f"not measurable at this resolution: the scan samples the measurement line every "
            f"{resolution_mm:.2g} mm, so a cortex of about {width_mm:.1f} mm spans only "
            f"{samples:.1f} samples (at least {MIN_SAMPLES_NOT_MEASURABLE:g} are needed)"
        )
    if samples < MIN_SAMPLES_OK:
        return UNCERTAIN, (
            f"uncertain at this resolution: the scan samples the measurement line every "
            f"{resolution_mm:.2g} mm, so the cortex spans only {samples:.1f} samples "
            f"(fewer than {MIN_SAMPLES_OK:g}); its margins are partial-volume averages"
        )
    return OK, None


def trabecular_voxel(volume: Volume) -> float:
    """The coarsest sampling (mm) of the scan: largest spacing, slices counted with their thickness."""
    return max(slice_thickness(volume), *(float(s) for s in volume.spacing[1:]))


def trabecular_quality(volume: Volume) -> tuple[str, str | None]:
    """``(quality, note)`` of texture measures (TRAB_SD, BV_TV, FD, FD_3D) on this scan's voxels."""
    voxel = trabecular_voxel(volume)
    if voxel > TRABECULAR_LIMIT_MM:
        return NOT_MEASURABLE, (
            f"not measurable at this resolution: voxels of {voxel:.2g} mm are larger than "
            f"{TRABECULAR_LIMIT_MM:g} mm and hold several trabeculae (0.1-0.3 mm thick) each, so "
            "the texture measures would describe the blur, not the bone"
        )
    if voxel > TRABECULAR_OK_MM:
        return UNCERTAIN, (
            f"uncertain at this resolution: voxels of {voxel:.2g} mm are coarser than the "
            f"{TRABECULAR_OK_MM:g} mm at which CBCT trabecular measures were validated against "
            "micro-CT; trabeculae (0.1-0.3 mm thick) are only partly resolved"
        )
    return OK, None
