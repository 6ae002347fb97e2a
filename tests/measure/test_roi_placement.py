"""The trabecular ROI must lie in trabecular bone: soft tissue beside the bone, roots and cortex are found
from the image, checked against the phantom's geometry truth (where its roots, cortex and soft tissue are).
"""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.io.landmarks_file import TrabecularRoi
from cbct_osteo.measure.case import measure_case
from cbct_osteo.measure.definitions import TRABECULAR_IDS
from cbct_osteo.measure.roi_placement import roi_placement
from cbct_osteo.measure.validation import validate_landmarks
from cbct_osteo.phantom.geometry import ANATOMY
from cbct_osteo.reformat import ArchCurve

RIGHT = ANATOMY.foramen("right")
WIDTH = float(ANATOMY.inferior_width(RIGHT.t_mm))
#: ROI centres from the phantom's anatomy (arc position t, buccal offset n, height h above the border).
PLACES = {
    "true": (RIGHT.t_mm, 0.0, WIDTH + 3.0),
    "premolar root": (-22.0, 0.0, 24.0),  # a first premolar's root (apex 16 mm above the border)
    "canine root": (-15.0, 0.0, 22.0),
    "soft tissue beside the body": (RIGHT.t_mm, 7.5, WIDTH + 3.0),  # buccal surface at n = 4.6-6.5 mm
    "across the buccal plate": (RIGHT.t_mm, 5.5, WIDTH + 3.0),
    "below the border": (RIGHT.t_mm, 0.0, -2.0),
}


def placement(case, where: str, size_mm: float = 5.0):
    arch = ArchCurve.from_points(np.asarray(case.landmarks.arch_points))
    roi = TrabecularRoi(tuple(ANATOMY.arch_point(*PLACES[where])), size_mm, "square")
    return roi_placement(case.volume, arch, roi, case.landmarks.sides["right"])


@pytest.mark.parametrize("where", list(PLACES))
def test_roi_in_soft_tissue_on_a_root_or_the_cortex_is_found_and_the_true_roi_is_not(small_phantom_noisy, where):
    found = placement(small_phantom_noisy, where)
    problems = found.problems("right")
    if where == "true":
        assert found.outside_fraction == 0.0 and found.compact_fraction == 0.0 and not problems
    elif "root" in where:
        assert found.compact_fraction > 0.15 and any("tooth root" in p for p in problems), found
    else:
        assert found.outside_fraction > 0.25 and any("outside the bone" in p for p in problems), found


def test_osteoporotic_trabecular_bone_is_not_taken_for_soft_tissue():
    from cbct_osteo.phantom import make_phantom

    sparse = make_phantom(shape=(84, 216, 216), voxel_mm=0.5, seed=3, bone_fraction=0.15, blur_sigma_mm=0.5)
    found = placement(sparse, "true")
    assert found.outside_fraction == 0.0 and found.compact_fraction == 0.0 and not found.problems()


def test_a_misplaced_roi_is_warned_and_its_measurements_are_uncertain_with_the_reason(small_phantom_noisy):
    landmarks = small_phantom_noisy.landmarks.copy()
    landmarks.sides["right"].trab_roi = TrabecularRoi(tuple(ANATOMY.arch_point(*PLACES["premolar root"])), 5.0)
    warnings = [i.message for i in validate_landmarks(landmarks, small_phantom_noisy.volume) if i.side == "right"]
    assert any("tooth root" in m for m in warnings)
    measured = measure_case(small_phantom_noisy.volume, landmarks).sides
    for mid in TRABECULAR_IDS:
        m = measured["right"][mid]
        if m.value is not None:
            assert m.quality == "uncertain" and any("tooth root" in n for n in m.notes), mid
        assert not any("tooth root" in n for n in measured["left"][mid].notes)  # the other side's ROI is fine


def test_the_real_head_ct_left_roi_in_the_cancellous_bone_passes(real_head_ct):
    """A check that cries wolf on real bone is ignored: the head CT's left ROI lies in its cancellous bone."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_real_head_ct import placed_landmarks

    landmarks = placed_landmarks()
    arch = ArchCurve.from_points(np.asarray(landmarks.arch_points))
    found = roi_placement(real_head_ct, arch, landmarks.sides["left"].trab_roi, landmarks.sides["left"])
    assert found is not None and not found.problems(), found
