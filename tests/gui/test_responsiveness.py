"""The main thread stays free while a scan is put on screen: voxel work in the worker, one 3D render per burst.

Each test fails when its behaviour breaks (checked by breaking the code): computing the
display start (fingerprint, histogram window, value range) on the GUI thread fails the first;
rendering once per scene edit, or synchronously, fails the second.
"""

from __future__ import annotations

import threading
import traceback

import numpy as np
import pytest

from gui_helpers import WAIT_MS

pytestmark = pytest.mark.gui


def test_scene_edits_coalesce_into_one_render(qtbot, make_window):
    window = make_window()
    view = window.views.view3d
    qtbot.waitUntil(lambda: not view._render_timer.isActive(), timeout=5000)
    renders = []

    def rendered(*_):
        # Qt's own repaints of the freshly shown window (paintEvent) are not the program's renders
        if not any(frame.name == "paintEvent" for frame in traceback.extract_stack()):
            renders.append(1)

    view.render_window.AddObserver("EndEvent", rendered)
    arch = np.array([[x, 10.0 - 0.02 * x * x, 0.0] for x in np.linspace(-20, 20, 30)])
    view.set_arch(arch)
    view.set_plane(np.zeros(3), np.array([10.0, 0, 0]), np.array([0, 0, 10.0]))
    view.set_markers([(np.zeros(3), "#ff0000"), (np.ones(3), "#00ff00")])
    assert renders == []  # nothing rendered synchronously: each edit used to render at once
    assert view._render_timer.isActive()
    qtbot.waitUntil(lambda: len(renders) >= 1 and not view._render_timer.isActive(), timeout=5000)
    qtbot.wait(view._render_timer.interval() * 3 + 50)  # time for any further (wrong) render to happen
    assert len(renders) == 1  # three edits, one render


def test_load_worker_prepares_fingerprint_and_window(qtbot, make_window, phantom_dir, monkeypatch):
    from cbct_osteo.gui import loading
    from cbct_osteo.gui.interaction import auto_window_level

    threads = []
    original = loading.DisplayStart.of.__func__

    def recording(cls, volume, presets):
        threads.append(threading.current_thread())
        return original(cls, volume, presets)

    monkeypatch.setattr(loading.DisplayStart, "of", classmethod(recording))
    window = make_window()
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.loading.open_path(str(phantom_dir))
    assert threads and all(t is not threading.main_thread() for t in threads)  # never on the GUI thread
    volume = window.volume
    start = original(loading.DisplayStart, volume, window.loading.presets)
    assert start.fingerprint == volume.fingerprint() == window.state.fingerprint
    expected = auto_window_level(volume.voxels, *window.loading.presets[loading.UNCALIBRATED_PRESET]["percentiles"])
    assert (window.state.view.window, window.state.view.level) == pytest.approx(expected)
    assert window.value_range == pytest.approx(float(np.ptp(volume.voxels[::4, ::4, ::4])))
