"""How much of the scan the panoramic and the cross-sections show by default: the mandible.

A head CT or a large-field CBCT is far taller than the jaw (the issue's example: 267 mm of
scan, the mandible a thin band in it), so the panoramic spans the located mandible's height
(:func:`cbct_osteo.locate.cached_location`: lower border to the rami's top) with
:data:`BAND_MARGIN_MM` above and below, and always the arch's own level. Without a located
mandible (the user drew an arch anyway) it spans :data:`BELOW_ARCH_MM` below to
:data:`ABOVE_ARCH_MM` above the arch: a mandibular body is ~30 mm high, the crowns and rami
rise above it. Both are clipped to the scan. Heights are mm along ``arch.up`` (z for an axial scan).
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.locate import cached_location
from cbct_osteo.reformat._grid import height_range
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.volume import Volume

BAND_MARGIN_MM = 8.0
BELOW_ARCH_MM = 35.0
ABOVE_ARCH_MM = 45.0
#: The crowns and alveolar crest above the arch level that a cross-section should still show (mm).
CROWN_ABOVE_ARCH_MM = 10.0


def mandible_band(volume: Volume, arch: ArchCurve) -> tuple[float, float]:
    """(lowest, highest) height (mm along ``arch.up``) of the panoramic's default field of view."""
    scan_low, scan_high = height_range(volume, arch.up)
    location = cached_location(volume)
    low, high = arch.level_mm - BELOW_ARCH_MM, arch.level_mm + ABOVE_ARCH_MM
    if location.found and location.bbox_mm is not None:
        corners = np.array(
            [[x, y, z] for x in location.bbox_mm[:, 0] for y in location.bbox_mm[:, 1] for z in location.bbox_mm[:, 2]]
        )
        heights = corners @ arch.up
        low = min(float(heights.min()) - BAND_MARGIN_MM, arch.level_mm - BAND_MARGIN_MM)
        high = max(float(heights.max()) + BAND_MARGIN_MM, arch.level_mm + BAND_MARGIN_MM)
    low, high = max(low, scan_low), min(high, scan_high)
    if high <= low:  # an arch outside the scan: show the scan
        return scan_low, scan_high
    return low, high


def body_centre_height(volume: Volume, arch: ArchCurve) -> float:
    """Default vertical centre (mm along ``arch.up``) of a cross-section: the mandibular body.

    With a located mandible: midway between its lower border and :data:`CROWN_ABOVE_ARCH_MM`
    above the arch; without: the middle of :func:`mandible_band` (for a scan shorter than that
    band, the middle of the scan). Clipped to the band.
    """
    low, high = mandible_band(volume, arch)
    location = cached_location(volume)
    if not location.found or location.lower_border_mm is None:
        return 0.5 * (low + high)
    centre = 0.5 * (location.lower_border_mm + arch.level_mm + CROWN_ABOVE_ARCH_MM)
    return float(np.clip(centre, low, high))
