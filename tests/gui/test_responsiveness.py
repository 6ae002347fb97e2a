"""The main thread stays free while a scan is put on screen: voxel work in the worker, one 3D render per burst."""
from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import WAIT_MS

pytestmark = pytest.mark.gui


def test_scene_edits_coalesce_into_one_render(qtbot, make_window):
    window = make_window()
    view = window.views.view3d
    qtbot.waitUntil(lambda: not view._render_timer.isActive(), timeout=5000)
    renders = []
    view.render_window.AddObserver("EndEvent", lambda *_: renders.append(1))
    arch = np.array([[x, 10.0 - 0.02 * x * x, 0.0] for x in np.linspace(-20, 20, 30)])
    view.set_arch(arch)
    view.set_plane(np.zeros(3), np.array([10.0, 0, 0]), np.array([0, 0, 10.0]))
    view.set_markers([(np.zeros(3), "#ff0000"), (np.ones(3), "#00ff00")])
    assert renders == []  # nothing rendered synchronously: each edit used to render at once
    assert view._render_timer.isActive()
    qtbot.waitUntil(lambda: len(renders) >= 1, timeout=5000)  # one render when the event loop runs


def test_load_worker_prepares_fingerprint_and_window(qtbot, make_window, phantom_dir):
    from cbct_osteo.gui.interaction import auto_window_level
    from cbct_osteo.gui.loading import UNCALIBRATED_PRESET, DisplayStart

    window = make_window()
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.loading.open_path(str(phantom_dir))
    volume = window.volume
    start = DisplayStart.of(volume, window.loading.presets)
    assert start.fingerprint == volume.fingerprint() == window.state.fingerprint
    expected = auto_window_level(volume.voxels, *window.loading.presets[UNCALIBRATED_PRESET]["percentiles"])
    assert (window.state.view.window, window.state.view.level) == pytest.approx(expected)
    assert window.value_range == pytest.approx(float(np.ptp(volume.voxels[::4, ::4, ::4])))
