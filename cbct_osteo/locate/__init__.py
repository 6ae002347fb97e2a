"""Find the mandible in a head CT or CBCT of any field of view (Qt-free, a plain function).

>>> from cbct_osteo.locate import locate_mandible
>>> location = locate_mandible(volume)
>>> location.found, location.reason, location.bbox_mm, location.arch_points_mm, location.crop

Everything downstream that needs "where is the jaw" uses it: the automatic arch
(:func:`cbct_osteo.reformat.estimate_arch`), the panoramic's height band, the 3D surface (cropped
to the mandible) and ``cbct-osteo propose``. :func:`cached_location` keeps the last answers per
volume object, because the GUI asks several times about the same scan.
"""

from cbct_osteo.locate.cache import cached_location
from cbct_osteo.locate.locator import MandibleLocation, crop_slices, locate_mandible, sub_volume
from cbct_osteo.locate.threshold import HU_BONE, bone_threshold, tissue_threshold

__all__ = [
    "HU_BONE",
    "MandibleLocation",
    "bone_threshold",
    "cached_location",
    "crop_slices",
    "locate_mandible",
    "sub_volume",
    "tissue_threshold",
]
