"""An automatic first guess of the dental arch, for the user to correct.

Clicking 4-20 arch points is the first thing a user does on every scan; a good guess turns
it into a check. The guess is the arch of :func:`cbct_osteo.locate.locate_mandible`: the
centre line of the mandibular body at the level where its U-shaped cross-section is longest,
found among whatever else the field of view holds (maxilla, spine, hyoid, skull base). When
the scan holds no mandibular body the guess is refused with the locator's reason, so the user
is never handed an arch through the wrong bone.
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.locate import MandibleLocation, cached_location, locate_mandible
from cbct_osteo.reformat.arch import ArchCurve
from cbct_osteo.volume import Volume, volume_up


def estimate_arch(
    volume: Volume,
    *,
    threshold: float | None = None,
    n_points: int = 12,
    location: MandibleLocation | None = None,
) -> ArchCurve:
    """Guess the dental arch through the mandibular body.

    Parameters
    ----------
    volume
        The scan, any orientation, HU or uncalibrated gray values.
    threshold
        Bone threshold in the volume's gray values; default
        :func:`cbct_osteo.locate.bone_threshold`.
    n_points
        Number of arch points returned (>= 4), evenly spaced along the arch.
    location
        A location of this volume already computed (default: located here, cached per volume
        when ``threshold`` is the default).

    Returns
    -------
    ArchCurve
        Through ``n_points`` points at the mandibular body's level, first point at the
        patient's right.

    Raises
    ------
    ValueError
        When the scan holds no mandibular body; the message is the locator's reason.
    """
    if n_points < 4:
        raise ValueError(f"n_points must be at least 4, got {n_points}")
    if location is None:
        location = cached_location(volume) if threshold is None else locate_mandible(volume, threshold)
    if not location.found or location.arch_points_mm is None:
        raise ValueError(location.reason)
    up = volume_up(volume)
    dense = ArchCurve.from_points(location.arch_points_mm, up=up)
    points = dense.point(np.linspace(0.0, dense.length_mm, n_points))
    return ArchCurve.from_points(points, up=up)
