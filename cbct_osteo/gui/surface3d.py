"""The 3D view's content: the bone surface built in a worker, the landmarks and arch drawn on it.

The bone threshold and the occlusal clip live in the view state, so a session restores them;
the slider maps 0..1000 onto the scan's gray-value range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from cbct_osteo.gui import workflow
from cbct_osteo.volume import Volume

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow

SLIDER_STEPS = 1000


class SurfaceController:
    """Rebuilds the surface (debounced) when the threshold, the clip or the arch changes."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        views = window.views
        self.timer = QTimer(window, singleShot=True, interval=400)
        self.timer.timeout.connect(self._start)
        self._generation = 0
        #: Height (mm along the volume's up) of the occlusal cut of the surface shown, None when not clipped.
        self.cut_mm: float | None = None
        self._range = (0.0, 1.0)
        views.threshold_slider.valueChanged.connect(self._slider_moved)
        views.clip_checkbox.toggled.connect(self._clip_toggled)

    def case_opened(self, volume: Volume) -> None:
        self._range = (float(volume.voxels.min()), float(volume.voxels.max()))
        self.cut_mm = None
        self.window.views.view3d.set_surface(None, "3D: building the mandible surface…")
        self.show_controls()
        self.timer.start(0)

    def show_controls(self) -> None:
        """The view state's threshold and clip on the slider and checkbox, without a rebuild each."""
        assert self.window.state is not None  # controls show the case on screen
        views, view = self.window.views, self.window.state.view
        views.clip_checkbox.blockSignals(True)
        views.clip_checkbox.setChecked(view.clip)
        views.clip_checkbox.blockSignals(False)
        if view.threshold is not None:
            lo, hi = self._range
            views.threshold_slider.blockSignals(True)
            views.threshold_slider.setValue(int(round(SLIDER_STEPS * (view.threshold - lo) / max(hi - lo, 1e-6))))
            views.threshold_slider.blockSignals(False)

    def arch_changed(self) -> None:
        if self.window.state is not None and self.window.state.view.clip:
            self.timer.start()  # the occlusal cut follows the arch

    def _slider_moved(self, value: int) -> None:
        if self.window.state is None:
            return
        lo, hi = self._range
        self.window.state.view.threshold = lo + (hi - lo) * value / SLIDER_STEPS
        self.timer.start()

    def _clip_toggled(self, checked: bool) -> None:
        if self.window.state is not None:
            self.window.state.view.clip = bool(checked)
            self.timer.start()

    def _start(self) -> None:
        w = self.window
        if w.volume is None:
            return
        from cbct_osteo.report.surface import mandible_surface

        assert w.state is not None  # a volume on screen has its case state
        volume, threshold = w.volume, w.state.view.threshold
        arch = w.reformat.arch
        arch_xyz = arch.sample(1.0) if arch is not None and w.state.view.clip else None
        self._generation += 1
        generation = self._generation

        def work(progress, cancel):
            # the report's pipeline (crop, threshold, clip, mesh), so screen and print agree; the clip
            # follows the user's arch only: without one (or with Clip off) nothing is cut away
            built = mandible_surface(volume, threshold, arch_xyz=arch_xyz, clip=arch_xyz is not None, progress=progress)
            return built.threshold, built.cut_height_mm, built.polydata

        w.tasks.run(work, "3D surface", lambda result: self._ready(volume, generation, *result))

    def _ready(self, volume: Volume, generation: int, threshold: float, cut: float | None, polydata) -> None:
        w = self.window
        if volume is not w.volume or generation != self._generation:  # a newer build is under way
            return
        assert w.state is not None  # the volume is still the one on screen (checked above)
        first = w.state.view.threshold is None
        w.state.view.threshold = threshold
        self.cut_mm = cut
        if first:
            self.show_controls()
        count = polydata.GetNumberOfCells()
        clipped = "" if cut is None else ", clipped above the occlusal plane"
        w.views.view3d.set_surface(
            polydata,
            f"Bone threshold {threshold:.0f}: {count:,} triangles{clipped}"
            if count
            else f"Nothing above the bone threshold {threshold:.0f}: lower it with the slider",
        )
        self.update_overlays()

    def update_overlays(self) -> None:
        if self.window.state is None:
            return
        points = [(xyz, colour) for _, xyz, colour, *_ in workflow.markers_for(self.window.state.landmarks)]
        self.window.views.view3d.set_markers(points)

    @property
    def busy(self) -> bool:
        return self.timer.isActive()
