"""Auto arch: the located mandible's arch on a real head CT; on a skull without a mandibular body,
a message with the reason and the arch step left open."""

from __future__ import annotations

import numpy as np

from cbct_osteo.gui import workflow
from cbct_osteo.reformat.proposal import propose

from gui_helpers import WAIT_MS, open_case, settle


def arch_step() -> workflow.LandmarkStep:
    return next(step for step in workflow.steps() if step.what == "arch")


def test_auto_arch_on_a_skull_without_a_mandibular_body_says_so(qtbot, make_window, shared_data):
    window = make_window()
    open_case(qtbot, window, shared_data / "real_volumes" / "head_ct_gantry_tilt_ge")  # skull base to vertex
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS) as shown:
        window.placing.auto_arch()
    settle(qtbot, window)
    assert "No mandible found" in shown.args[0] and "mandibular body is not in the scan" in shown.args[0]
    assert window.model.landmarks.arch_points == []
    assert not workflow.is_done(arch_step(), window.model.landmarks)


def test_auto_arch_on_the_real_head_ct_is_the_proposal(qtbot, make_window, shared_data):
    window = make_window()
    open_case(qtbot, window, shared_data / "real_volumes" / "vhp_male_head_mandible")
    window.placing.auto_arch()
    qtbot.waitUntil(lambda: len(window.model.landmarks.arch_points) > 0, timeout=WAIT_MS)
    settle(qtbot, window)
    proposal = propose(window.volume)  # what `cbct-osteo propose` writes
    assert np.allclose(window.model.landmarks.arch_points, proposal.landmarks.arch_points, atol=1e-3)
    assert workflow.is_done(arch_step(), window.model.landmarks)
    # the 3D view shows the located mandible: its surface lies inside the mandible's box (not the spine)
    bounds = np.asarray(window.views.view3d._surface_actor.GetMapper().GetInput().GetBounds()).reshape(3, 2).T
    low, high = proposal.location.bbox_mm
    assert np.all(bounds[0] >= low - 0.5) and np.all(bounds[1] <= high + 0.5)
