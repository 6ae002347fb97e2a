"""W, S and I on one case of the accuracy study (benchmarks/accuracy.py --quick) against its truth.

The case: the study's small field (30 x 70 x 70 mm at 0.3 mm), 3 mm cortices on a flat border
(slope 0 deg). On this field the image shows air about 2 mm under the inferior border, so the
rise from soft tissue into the cortex is not one sharp step (1.55 mm from 20 to 80 % against a
0.6 mm endosteal fall) and the fitted outer edge sits ~0.36 mm below the true border: W and the
heights S and I measured from that edge are wrong by 0.35-0.5 mm. They must never be "ok" then.
The truth is the model's geometry (truth.json), not the measurement code.
"""

from __future__ import annotations

import pytest

from cbct_osteo.indices.case import analyse_case

pytest.importorskip("itk", reason="itk-rtk (the [simulate] extra) is not installed")

#: benchmarks/accuracy.py's FIELD_MM (30, 70, 70) at 0.3 mm, its "voxel x cortex" settings.
CASE = {
    "shape": (100, 233, 233),
    "voxel_mm": 0.3,
    "fov": "small",
    "seed": 1,
    "cortex_mm": (3.0, 3.0),
    "border_slope_deg": 0.0,
    "photons": 20000.0,
    "bone_fraction": 0.3,
    "detector_blur_mm": 0.2,
    "projections": 180,
}
SILENT_MM = 0.3


@pytest.fixture(scope="session")
def accuracy_case():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(**CASE)


@pytest.mark.slow
def test_no_silent_error_in_w_s_i(accuracy_case):
    result = analyse_case(accuracy_case.volume, accuracy_case.landmarks).to_json()
    for side in ("left", "right"):
        for mid in ("W", "S", "I"):
            truth = accuracy_case.truth["sides"][side]["measurements"][mid]["value"]
            m = result["sides"][side]["measurements"][mid]
            assert m["value"] is not None, (side, mid, m)
            if m["quality"] == "ok":
                assert abs(m["value"] - truth) <= SILENT_MM, (side, mid, m["value"], truth)
            else:
                assert m["notes"], (side, mid, m)
