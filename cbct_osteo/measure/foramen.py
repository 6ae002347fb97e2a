"""S and I: heights of the mental foramen's margins above the inferior border.

INDICES.md: S (I) is the distance from the foramen's superior (inferior) margin to the inferior
border, along the measurement line. The inferior border line passes through the outer border
point perpendicular to the measurement direction, so the distance is the projection of
(margin − border point) onto that direction; a margin clicked slightly beside the line still
gives its true height.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cbct_osteo.measure.geometry import MeasurementFrame


def height_above_border(frame: MeasurementFrame, margin_xyz: npt.ArrayLike, border_xyz: npt.ArrayLike) -> float:
    """Signed distance (mm) of ``margin_xyz`` above the inferior border line through ``border_xyz``."""
    return float(np.dot(np.asarray(margin_xyz, float) - np.asarray(border_xyz, float), frame.direction))
