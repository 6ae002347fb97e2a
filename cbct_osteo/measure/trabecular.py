"""Trabecular ROI measurements: gray-value statistics, bone fraction, fractal dimension.

INDICES.md ("Trabecular measurements"): the ROI is a square (default 5 × 5 mm) or circle in the
cross-section through its centre (the plane perpendicular to the arch there), and in 3D a cube
of the same side. Gray values are CBCT gray values, not calibrated Hounsfield units.

The ROI is resampled at ``ROI_PIXEL_MM`` (0.1 mm) whatever the voxel size, so the White &
Rudolph pixel parameters (blur sigma, box sizes) mean the same physical scale on every scan.
Resampling adds no detail: on voxels coarser than trabeculae the texture measures (TRAB_SD,
BV_TV, FD, FD_3D) are marked by :func:`~cbct_osteo.measure.resolution.trabecular_quality`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from skimage.filters import threshold_otsu

from cbct_osteo.io.landmarks_file import TrabecularRoi
from cbct_osteo.measure.definitions import GRAY, TEXTURE_IDS
from cbct_osteo.measure.fractal import (
    MIN_ROI_PIXELS,
    WHITE_RUDOLPH_SIGMA_PX,
    BoxCount,
    box_counting_dimension,
    white_rudolph_skeleton,
)
from cbct_osteo.measure.quantity import NOT_MEASURABLE, Measurement, worst_quality
from cbct_osteo.measure.resolution import trabecular_quality
from cbct_osteo.measure.sampling import sample_points
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.volume import Volume

#: Pixel (and voxel) size of the resampled ROI, mm.
ROI_PIXEL_MM = 0.1
#: Percentiles of the gray values reported with TRAB_MEAN.
PERCENTILES = (5, 25, 50, 75, 95)
FD_METHOD = "2D box counting, White & Rudolph steps, 0.1 mm pixels"
FD_3D_METHOD = "3D box counting (program's own, not published)"
#: What the accuracy study found (docs/science-notes.md): FD follows the scanner as much as the bone.
FD_COMPARABILITY = (
    "depends on the scanner's blur and noise (phantom: 1.34 sharp, 1.05 blurred 0.3 mm, 1.21 blurred "
    "with noise): compare values only within one scanner and protocol"
)
BV_TV_METHOD = "Otsu threshold within the ROI (experimental)"


@dataclass(frozen=True)
class RoiSamples:
    """The ROI resampled in the cross-section (2D) and as a cube (3D).

    Attributes
    ----------
    image
        (rows, cols) gray values; rows go down (inferior), columns go buccal (arch normal).
    cube
        (slices, rows, cols) gray values; slices step along the arch tangent.
    mask
        (rows, cols) bool, the ROI shape (all True for a square, the disc for a circle).
    mask3d
        (slices, rows, cols) bool: the whole cube for a square ROI, the ball for a circle.
    pixel_mm
        Sampling step in mm.
    """

    image: np.ndarray
    cube: np.ndarray
    mask: np.ndarray
    mask3d: np.ndarray
    pixel_mm: float


def _roi_outside_reason(volume: Volume, arch: ArchCurve, roi: TrabecularRoi) -> str | None:
    """Why the ROI cannot be measured because (part of) its cube lies outside the scan, or ``None``.

    Sampling outside the scan would measure the edge voxels repeated, not bone, so such an ROI is
    refused with words the user can act on instead of a number.
    """
    centre = np.asarray(roi.centre, float)
    s = arch.closest_arc_position(centre)
    half = roi.size_mm / 2.0
    axes = (arch.tangent(s), arch.normal(s), arch.up)
    corners = np.array(
        [
            centre + a * half * axes[0] + b * half * axes[1] + c * half * axes[2]
            for a in (-1, 1)
            for b in (-1, 1)
            for c in (-1, 1)
        ]
    )
    index = volume.patient_to_index(corners)
    limit = np.asarray(volume.shape, float) - 1.0
    if np.all(index >= -1e-6) and np.all(index <= limit + 1e-6):
        return None
    return "the trabecular ROI reaches outside the scanned volume: move it into the bone"


def roi_samples(volume: Volume, arch: ArchCurve, roi: TrabecularRoi, pixel_mm: float = ROI_PIXEL_MM) -> RoiSamples:
    """Resample the ROI in the cross-section perpendicular to the arch at the ROI centre.

    A circular ROI gives a disc in 2D and a ball of the same diameter in 3D.
    """
    centre = np.asarray(roi.centre, float)
    s = arch.closest_arc_position(centre)
    tangent, normal, up = arch.tangent(s), arch.normal(s), arch.up
    n = max(4, int(round(roi.size_mm / pixel_mm)))
    offsets = (np.arange(n) - (n - 1) / 2.0) * pixel_mm
    # rows go down (row 0 most superior), columns go buccal, slices along the arch
    in_plane = centre - offsets[:, None, None] * up + offsets[None, :, None] * normal  # (rows, cols, 3)
    image = sample_points(volume, in_plane)
    cube = sample_points(volume, in_plane[None] + offsets[:, None, None, None] * tangent)
    if roi.shape == "circle":
        rr, cc = np.meshgrid(offsets, offsets, indexing="ij")
        mask = rr**2 + cc**2 <= (roi.size_mm / 2.0) ** 2
        ss, rr3, cc3 = np.meshgrid(offsets, offsets, offsets, indexing="ij")
        mask3d = ss**2 + rr3**2 + cc3**2 <= (roi.size_mm / 2.0) ** 2
    else:
        mask = np.ones((n, n), bool)
        mask3d = np.ones((n, n, n), bool)
    return RoiSamples(image, cube, mask, mask3d, pixel_mm)


def _gray_statistics(values: np.ndarray) -> dict[str, Any]:
    return {
        "mean": float(np.mean(values)),
        "sd": float(np.std(values, ddof=1)),
        "percentiles": {
            f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES), strict=True)
        },
    }


def _fd_details(fit: BoxCount, pixel_mm: float, sigma_px: float) -> dict[str, Any]:
    return {
        "r_squared": round(fit.r_squared, 4),
        "box_sizes_px": list(fit.sizes),
        "box_sizes_mm": [round(s * pixel_mm, 3) for s in fit.sizes],
        "box_counts": [round(c, 2) for c in fit.counts],
        "pixel_mm": pixel_mm,
        "blur_sigma_px": sigma_px,
    }


def trabecular_measurements(
    volume: Volume, arch: ArchCurve, roi: TrabecularRoi, sigma_px: float = WHITE_RUDOLPH_SIGMA_PX
) -> dict[str, Measurement]:
    """TRAB_MEAN, TRAB_SD, BV_TV, FD (2D, cross-section) and FD_3D (cube) of one ROI.

    Parameters
    ----------
    volume
        The scan (gray values, uncalibrated).
    arch
        The dental arch; the cross-section is perpendicular to it at the ROI centre.
    roi
        Centre (patient mm), side or diameter (mm) and shape.
    sigma_px
        White & Rudolph background blur, pixels of ``ROI_PIXEL_MM``.

    Returns
    -------
    dict
        Measurements keyed by id. 3D statistics are kept in the details of the 2D ones.

    Notes
    -----
    BV_TV is the fraction of ROI pixels at or above Otsu's threshold computed within the ROI
    (the threshold is reported). TRAB_MEAN's uncertainty is its standard error with one
    independent sample per voxel of the scan inside the ROI (resampling adds no information);
    TRAB_SD's is the standard error of a standard deviation, SD / sqrt(2 (n - 1)), with the same n.
    """
    reason = _roi_outside_reason(volume, arch, roi)
    if reason is None and roi.size_mm < MIN_ROI_PIXELS * ROI_PIXEL_MM:
        reason = (
            f"the trabecular ROI is {roi.size_mm:g} mm across; box counting needs at least "
            f"{MIN_ROI_PIXELS * ROI_PIXEL_MM:g} mm ({MIN_ROI_PIXELS} pixels of {ROI_PIXEL_MM:g} mm): make it larger"
        )
    if reason is not None:
        return {
            key: Measurement(key, None, unit, method, details={"reason": reason}, notes=(reason,))
            for key, unit, method in (
                ("TRAB_MEAN", GRAY, "ROI mean (cross-section)"),
                ("TRAB_SD", GRAY, "ROI standard deviation (cross-section)"),
                ("BV_TV", "ratio", BV_TV_METHOD),
                ("FD", "1", FD_METHOD),
                ("FD_3D", "1", FD_3D_METHOD),
            )
        }
    return _limited(volume, _measure_roi(volume, arch, roi, sigma_px))


def _limited(volume: Volume, measured: dict[str, Measurement]) -> dict[str, Measurement]:
    """The texture measures marked by what the scan's voxels can resolve (TRAB_MEAN is not limited)."""
    quality, note = trabecular_quality(volume)
    if note is None:
        return measured
    result = dict(measured)
    for key in TEXTURE_IDS:
        m = measured[key]
        combined = worst_quality(m.quality, quality)
        if combined == NOT_MEASURABLE:
            details = {**m.details, "value_at_this_resolution": m.value}
            result[key] = Measurement(
                key, None, m.unit, m.method, details=details, quality=combined, notes=(*m.notes, note)
            )
        else:
            result[key] = Measurement(
                key,
                m.value,
                m.unit,
                m.method,
                m.uncertainty,
                details=m.details,
                quality=combined,
                notes=(*m.notes, note),
            )
    return result


def _measure_roi(volume: Volume, arch: ArchCurve, roi: TrabecularRoi, sigma_px: float) -> dict[str, Measurement]:
    """The five ROI measurements before resolution limits."""
    samples = roi_samples(volume, arch, roi)
    values = samples.image[samples.mask]
    values3d = samples.cube[samples.mask3d]
    stats2d, stats3d = _gray_statistics(values), _gray_statistics(values3d)
    voxel_area = float(np.prod(sorted(volume.spacing)[:2]))
    n_independent = max(1.0, values.size * samples.pixel_mm**2 / voxel_area)
    where = {"roi_size_mm": roi.size_mm, "roi_shape": roi.shape, "pixel_mm": samples.pixel_mm}
    result: dict[str, Measurement] = {
        "TRAB_MEAN": Measurement(
            "TRAB_MEAN",
            stats2d["mean"],
            GRAY,
            "ROI mean (cross-section)",
            uncertainty=stats2d["sd"] / np.sqrt(n_independent),
            details={
                **where,
                "percentiles": stats2d["percentiles"],
                "mean_3d": stats3d["mean"],
                "percentiles_3d": stats3d["percentiles"],
                "calibration": "uncalibrated CBCT gray values, not HU",
            },
        ),
        "TRAB_SD": Measurement(
            "TRAB_SD",
            stats2d["sd"],
            GRAY,
            "ROI standard deviation (cross-section)",
            uncertainty=stats2d["sd"] / np.sqrt(2.0 * max(1.0, n_independent - 1.0)),
            details={**where, "sd_3d": stats3d["sd"]},
        ),
    }
    threshold = float(threshold_otsu(values))
    threshold3d = float(threshold_otsu(values3d))
    result["BV_TV"] = Measurement(
        "BV_TV",
        float(np.mean(values >= threshold)),
        "ratio",
        BV_TV_METHOD,
        details={
            **where,
            "threshold": round(threshold, 2),
            "bv_tv_3d": float(np.mean(values3d >= threshold3d)),
            "threshold_3d": round(threshold3d, 2),
        },
    )
    for key, method, image, mask in (
        ("FD", FD_METHOD, samples.image, samples.mask),
        ("FD_3D", FD_3D_METHOD, samples.cube, samples.mask3d),
    ):
        skeleton = white_rudolph_skeleton(image, sigma_px, mask if roi.shape == "circle" else None)
        count = int(np.count_nonzero(skeleton))
        if count < min(image.shape):  # less skeleton than one line across the ROI: no pattern to count
            problem = f"no trabecular pattern in the ROI (skeleton of {count} pixels is nearly empty)"
            result[key] = Measurement(key, None, "1", method, details={**where, "problem": problem}, notes=(problem,))
            continue
        fit = box_counting_dimension(skeleton)
        result[key] = Measurement(
            key,
            fit.dimension,
            "1",
            method,
            details={
                **where,
                **_fd_details(fit, samples.pixel_mm, sigma_px),
                "skeletonised": "the marrow spaces (inverted bone pattern)",
                "comparability": FD_COMPARABILITY,
            },
        )
    return result
