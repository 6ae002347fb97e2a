"""Reformats: the dental arch, panoramic and cross-sectional images, each with its pixel <-> patient map.

Everything here is Qt-free numpy/scipy. Coordinates exchanged are patient LPS mm in (x, y, z)
order; images are (rows, cols) float32 with rows going down (inferior).
"""

from cbct_osteo.reformat.arch import ArchCurve, arc_positions
from cbct_osteo.reformat.arch_estimate import estimate_arch
from cbct_osteo.reformat.cross_section import cross_section, default_pixel_mm
from cbct_osteo.reformat.images import PanoramicImage, PlaneImage
from cbct_osteo.reformat.panoramic import panoramic
from cbct_osteo.reformat.sampling import background_value, sample_extruded, sample_line, sample_points
from cbct_osteo.volume import volume_up  # the volume's superior direction, the ``up`` every reformat takes

__all__ = [
    "ArchCurve",
    "PanoramicImage",
    "PlaneImage",
    "arc_positions",
    "background_value",
    "cross_section",
    "default_pixel_mm",
    "estimate_arch",
    "panoramic",
    "sample_extruded",
    "sample_line",
    "sample_points",
    "volume_up",
]
