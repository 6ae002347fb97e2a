"""The one bone threshold rule of the program (locator, 3D surface, report's 3D view).

A CT calibrated in Hounsfield units gets a fixed threshold: cortical bone is well above
1000 HU, trabecular bone 200-800 HU, soft tissue below 100 HU (and the resin-filled vessels
of a cadaver below 300 HU), so :data:`HU_BONE` keeps the mandible's cortex and dense
trabeculae and nothing soft. A histogram rule would fail there: a head CT is mostly air and
soft tissue, and three-class Otsu splits air from fat instead of soft tissue from bone.

Uncalibrated CBCT gray values have no fixed scale, so they get the upper of two three-class
Otsu thresholds (air | soft tissue | bone) on a sample of the voxels: in a dental field of
view, bone is a large class of its own. So does a scan labelled HU whose values are not on the
HU scale (some CBCT exports call their gray values HU): when more than :data:`MAX_BONE_SHARE`
of its non-air voxels would be "bone" at :data:`HU_BONE` (2-20 % in real head CTs), soft
tissue is above the fixed threshold and the histogram rule is used instead.

The same split also gives the program's air threshold (:func:`tissue_threshold`): the fixed
:data:`HU_AIR` in HU, the lower of the two Otsu thresholds otherwise. Below it a voxel is air
(or the scanner's padding outside the field of view); above it, tissue of any kind.
"""

from __future__ import annotations

import numpy as np
from skimage.filters import threshold_multiotsu

from cbct_osteo.volume import Volume

#: Bone threshold (HU) for a CT calibrated in Hounsfield units.
HU_BONE = 400.0
#: Air/tissue threshold (HU): air is about -1000 HU, fat -100 HU, so -500 HU lies well between.
HU_AIR = -500.0
#: Largest share of the non-air voxels (above HU_AIR) that can be bone at HU_BONE in a true HU scan.
MAX_BONE_SHARE = 0.5
#: Voxels sampled for the histogram rule: enough for a stable Otsu split, fast on any volume.
_SAMPLE = 400_000


def bone_threshold(volume: Volume) -> float:
    """Gray value (in the volume's units) above which a voxel counts as bone."""
    return thresholds(volume)[1]


def tissue_threshold(volume: Volume) -> float:
    """Gray value (in the volume's units) above which a voxel is tissue (soft tissue, marrow or bone), not air."""
    return thresholds(volume)[0]


def thresholds(volume: Volume) -> tuple[float, float]:
    """(air | tissue, soft tissue | bone) thresholds of ``volume``: fixed in HU, three-class Otsu otherwise.

    Both from one pass over the voxels, for callers that need both (landmark validation)."""
    voxels = volume.voxels
    step = max(1, int(round((voxels.size / _SAMPLE) ** (1.0 / 3.0))))
    sample = np.asarray(voxels[::step, ::step, ::step], dtype=np.float32).ravel()
    if volume.meta.units == "HU":
        tissue = sample[sample > HU_AIR]
        if tissue.size == 0 or np.mean(tissue >= HU_BONE) <= MAX_BONE_SHARE:
            return HU_AIR, HU_BONE
    try:
        low, high = threshold_multiotsu(sample, classes=3)
        return float(low), float(high)
    except ValueError:  # a flat histogram
        return float(np.percentile(sample, 10)), float(np.percentile(sample, 90))
