"""The panoramic image: a curved planar reformat along the dental arch.

Columns are arc positions (patient right or left first, as the arch runs), rows are heights
along the arch's vertical, top = superior. Each column is sampled on the vertical line through
its arch point (optionally shifted along the buccal normal), and a slab averages or
maximum-projects the intensities across the arch, like a dental panoramic X-ray's focal trough.
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.reformat._grid import centred_positions, check_pixel, pixel_count, slab_offsets
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.reformat.extent import mandible_band
from cbct_osteo.reformat.images import PanoramicImage
from cbct_osteo.reformat.sampling import sample_extruded
from cbct_osteo.volume import Volume


def panoramic(
    volume: Volume,
    arch: ArchCurve,
    pixel_mm: float = 0.25,
    height_mm: float | None = None,
    slab_mm: float = 0.0,
    slab_mode: str = "mean",
    *,
    centre_z_mm: float | None = None,
    offset_mm: float = 0.0,
    interpolation: str = "linear",
    cval: float | None = None,
) -> PanoramicImage:
    """Curved planar reformat of ``volume`` along ``arch``.

    Parameters
    ----------
    pixel_mm
        Square pixel size (mm of arch per column, mm of height per row).
    height_mm
        Vertical field of view (rows = ``round(height_mm / pixel_mm)``); default the
        mandible's band (:func:`cbct_osteo.reformat.extent.mandible_band`).
    slab_mm
        Thickness (mm) along the buccal normal, centred on the imaged surface; 0 = thin.
    slab_mode
        ``"mean"`` (average, like a radiograph) or ``"max"`` (maximum intensity projection).
    centre_z_mm
        Height (mm along ``arch.up``; z for an axial scan) of the vertical centre; default the
        middle of the mandible's band.
    offset_mm
        Shift of the imaged surface along the buccal normal (negative = lingual).
    interpolation
        ``"linear"`` (trilinear, default), ``"cubic"`` or ``"nearest"``.
    cval
        Gray value outside the volume; default the volume's minimum.

    Returns
    -------
    PanoramicImage
        ``floor(length / pixel_mm) + 1`` columns, centred on the arch (equal margins at both
        ends), with the pixel <-> patient mapping.
    """
    pixel = check_pixel(pixel_mm)
    if centre_z_mm is None or height_mm is None:
        low, high = mandible_band(volume, arch)
        centre_z_mm = 0.5 * (low + high) if centre_z_mm is None else centre_z_mm
        height_mm = high - low if height_mm is None else height_mm
    n_cols = int(np.floor(arch.length_mm / pixel + 1e-6)) + 1
    s = 0.5 * arch.length_mm + centred_positions(n_cols, pixel)
    heights = centre_z_mm - centred_positions(pixel_count(height_mm, pixel), pixel)
    across = offset_mm + slab_offsets(volume, slab_mm)

    base = arch.point(s)[:, None, :] + across[None, :, None] * arch.normal(s)[:, None, :]
    image = sample_extruded(volume, base, arch.up, heights, order=interpolation, cval=cval, reduce=slab_mode)
    return PanoramicImage(
        image=image,
        arch=arch,
        pixel_mm=pixel,
        start_mm=float(s[0]),
        top_mm=float(heights[0]),
        offset_mm=float(offset_mm),
        slab_mm=float(slab_mm),
        slab_mode=slab_mode,
    )
