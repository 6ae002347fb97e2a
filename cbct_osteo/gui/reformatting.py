"""The arch curve, the panoramic along it and the cross-section across it, kept in step with the landmarks.

The panoramic is rebuilt in a worker when the arch or its controls change (slab thickness,
focal-trough offset, band height); the cross-section is cheap and follows at once. Positions
live in the view state (``cross_section_s_mm`` ...), so a session brings them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cbct_osteo.gui import workflow
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.measure.geometry import MIN_ARCH_POINTS
from cbct_osteo.reformat import ArchCurve, PanoramicImage, cross_section, panoramic

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow
    from cbct_osteo.gui.state import ViewSettings

CROSS_SECTION_MM = 36.0
CROSS_MARKER_COLOUR = "#33b5ff"
#: The panoramic is shown at least this large (screen px per mm) while a side is worked on: a
#: 2.5 mm mental foramen then spans 12 px or more (the whole arch in a 2 x 2 pane at 1280 x 800
#: gives under 2 px/mm, a 6 px foramen). Where the pane shows the whole arch this large, nothing zooms.
PANORAMIC_MIN_PX_PER_MM = 5.0
#: Where a mental foramen is looked for before it is placed: this far (mm along the arch) from its middle
#: (the mental foramen lies below the premolars, about 25 mm from the midline along the arch).
FORAMEN_FROM_MIDLINE_MM = 25.0


class ReformatController:
    """Owns the :class:`ArchCurve` built from the arch points and the two reformatted views."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.arch: ArchCurve | None = None
        self.panoramic_image: PanoramicImage | None = None
        self._arch_key: tuple | None = None
        self._pano_key: tuple | None = None
        self._shown_side: str | None = None
        #: The side the panoramic was last zoomed to (it zooms again only when the side changes).
        self.panoramic_side: str | None = None
        views = window.views
        views.axial.extra_polylines = self.arch_polyline
        views.panoramic_view.extra_polylines = self.cross_marker_line
        views.cross_view.stepped.connect(
            lambda step: self.set_cross_position(self.view.cross_section_s_mm + step * self.view.arch_step_mm)
        )
        for box in (views.slab, views.offset, views.panoramic_height):
            box.valueChanged.connect(self.controls_changed)

    @property
    def view(self) -> ViewSettings:
        """The view settings of the case on screen (the controller only acts with a case open)."""
        state = self.window.state
        assert state is not None
        return state.view

    def reset(self) -> None:
        self.arch, self.panoramic_image, self._arch_key, self._pano_key, self._shown_side = None, None, None, None, None
        self.panoramic_side = None
        self.window.views.panoramic_view.set_plane_image(None)
        self.window.views.cross_view.set_plane_image(None)

    def show_controls(self) -> None:
        """Put the view state's slab/offset/height into the spin boxes (without rebuilding twice)."""
        views = self.window.views
        for box, value in (
            (views.slab, self.view.slab_mm),
            (views.offset, self.view.arch_offset_mm),
            (views.panoramic_height, self.view.panoramic_height_mm),
        ):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def controls_changed(self, *_: object) -> None:
        if self.window.state is None:
            return
        views = self.window.views
        self.view.slab_mm = float(views.slab.value())
        self.view.arch_offset_mm = float(views.offset.value())
        self.view.panoramic_height_mm = float(views.panoramic_height.value())
        self._rebuild_panoramic()

    # ---- overlays
    def arch_polyline(self) -> list[tuple[np.ndarray, str]]:
        if self.arch is None:
            return []
        return [(self.arch.point(np.linspace(0, self.arch.length_mm, 200)), workflow.KIND_COLOURS["arch"])]

    def cross_marker_line(self) -> list[tuple[np.ndarray, str]]:
        if self.arch is None or self.panoramic_image is None:
            return []
        base = self.arch.point(self.view.cross_section_s_mm)
        z0, z1 = self.panoramic_image.height(0), self.panoramic_image.height(self.panoramic_image.shape[0] - 1)
        line = np.array([base, base])
        line[0, 2], line[1, 2] = z0, z1
        return [(line, CROSS_MARKER_COLOUR)]

    # ---- the arch
    def update_arch(self, landmarks: LandmarkSet) -> None:
        key = tuple(landmarks.arch_points)
        if key == self._arch_key:
            return
        w = self.window
        self._arch_key = key
        had_arch, self.arch = self.arch is not None, None
        if len(landmarks.arch_points) >= MIN_ARCH_POINTS:
            try:
                self.arch = ArchCurve.from_points(np.asarray(landmarks.arch_points, float))
            except ValueError as exc:
                w.statusBar().showMessage(f"Arch: {exc}", 6000)
        w.views.view3d.set_arch(
            None if self.arch is None else self.arch.point(np.linspace(0, self.arch.length_mm, 120))
        )
        if had_arch or self.arch is not None:
            w.surface.arch_changed()
        if self.arch is None or w.volume is None:
            self.panoramic_image, self._pano_key = None, None
            w.views.panoramic_view.set_plane_image(None)
            w.views.cross_view.set_plane_image(None)
            w.views.view3d.set_plane(None)
            return
        self.view.cross_section_s_mm = (
            float(np.clip(self.view.cross_section_s_mm, 0.0, self.arch.length_mm)) or self.arch.length_mm / 2.0
        )
        self._rebuild_panoramic()
        self.set_cross_position(self.view.cross_section_s_mm)

    def _rebuild_panoramic(self) -> None:
        w = self.window
        if self.arch is None or w.volume is None:
            return
        arch, volume, view = self.arch, w.volume, self.view
        key = (id(arch), view.slab_mm, view.arch_offset_mm, view.panoramic_height_mm)
        if key == self._pano_key:
            return
        self._pano_key = key
        settings: dict[str, Any] = dict(
            pixel_mm=max(0.25, min(volume.spacing)), slab_mm=view.slab_mm, offset_mm=view.arch_offset_mm
        )
        corners = volume.index_to_patient(np.array([[0, 0, 0], [volume.shape[0] - 1, 0, 0]], float))
        if view.panoramic_height_mm < abs(float(corners[1, 2] - corners[0, 2])):  # else: the whole (short) scan
            level = float(np.median(arch.to_points()[:, 2]))
            settings.update(height_mm=view.panoramic_height_mm, centre_z_mm=level - 5.0)
        w.tasks.run(
            lambda progress, cancel: panoramic(volume, arch, **settings),
            "Panoramic",
            lambda image: self._panoramic_ready(key, arch, image),
        )

    def _panoramic_ready(self, key: tuple, arch: ArchCurve, image) -> None:
        if arch is not self.arch or key != self._pano_key:
            return  # a newer arch or newer controls are on their way
        self.panoramic_image = image
        view = self.view
        slab = f", slab {view.slab_mm:g} mm" if view.slab_mm else ""
        offset = f", trough {view.arch_offset_mm:+g} mm" if view.arch_offset_mm else ""
        self.window.views.panoramic_view.set_plane_image(image, f"arch {arch.length_mm:.0f} mm{slab}{offset}")
        active = self.window.workflow_panel.active
        if active is not None and active.side and self.panoramic_side is None:
            self.focus_panoramic(active.side)

    # ---- the panoramic's zoom
    def focus_panoramic(self, side: str) -> None:
        """Zoom the panoramic to ``side``'s foramen (placed, or where it is expected) if the pane is small.

        Only when the pane cannot show the whole arch at :data:`PANORAMIC_MIN_PX_PER_MM`; R resets the view.
        """
        w = self.window
        view, image = w.views.panoramic_view, self.panoramic_image
        if self.arch is None or image is None or w.state is None or view.image is None:
            return
        self.panoramic_side = side
        view.reset_view()
        if view.transform.px_per_mm >= PANORAMIC_MIN_PX_PER_MM:
            return  # the whole arch is already large enough
        placed = w.state.landmarks.point(side, "foramen_centre")
        centre = np.asarray(placed, float) if placed is not None else self.expected_foramen(side)
        rc = np.asarray(image.patient_to_pixel(centre), float)
        # keep the image filling the pane where it can: no black band beside the arch's ends
        pixel = float(image.pixel_mm) * PANORAMIC_MIN_PX_PER_MM  # screen px per image pixel
        for axis, extent in ((0, view.height()), (1, view.width())):
            half, size = extent / 2.0 / pixel, image.shape[axis]
            if size > 2 * half:
                rc[axis] = float(np.clip(rc[axis], half - 0.5, size - 0.5 - half))
        view.focus((float(rc[0]), float(rc[1])), PANORAMIC_MIN_PX_PER_MM)

    def expected_foramen(self, side: str) -> np.ndarray:
        """Where ``side``'s foramen is looked for: :data:`FORAMEN_FROM_MIDLINE_MM` from the arch's middle."""
        arch = self.arch
        assert arch is not None  # called with an arch
        middle = arch.length_mm / 2.0
        options = [
            float(np.clip(middle + d, 0.0, arch.length_mm)) for d in (-FORAMEN_FROM_MIDLINE_MM, FORAMEN_FROM_MIDLINE_MM)
        ]
        sign = -1.0 if side == "right" else 1.0  # the patient's right is -x (LPS)
        s = max(options, key=lambda o: sign * float(arch.point(o)[0] - arch.point(middle)[0]))
        return np.asarray(arch.point(s), float)

    # ---- the cross-section
    def set_cross_position(self, s_mm: float, centre_z: float | None = None) -> None:
        """Show the cross-section at arc position ``s_mm`` (clipped to the arch)."""
        self._shown_side = None
        self._show_cross(s_mm, centre_z)

    def _show_cross(self, s_mm: float, centre_z: float | None = None) -> None:
        w = self.window
        if self.arch is None or w.volume is None:
            return
        view = self.view
        view.cross_section_s_mm = float(np.clip(s_mm, 0.0, self.arch.length_mm))
        if centre_z is not None:
            view.cross_section_centre_z_mm = centre_z
        image = cross_section(
            w.volume,
            self.arch,
            view.cross_section_s_mm,
            CROSS_SECTION_MM,
            CROSS_SECTION_MM,
            centre_z_mm=view.cross_section_centre_z_mm,
        )
        w.views.cross_view.set_plane_image(image, f"s = {view.cross_section_s_mm:.1f} / {self.arch.length_mm:.1f} mm")
        centre = image.pixel_to_patient(np.array([(image.shape[0] - 1) / 2.0, (image.shape[1] - 1) / 2.0]))
        w.views.view3d.set_plane(centre, image.col_step_xyz * image.shape[1], image.row_step_xyz * image.shape[0])
        w.views.panoramic_view.update()

    def shown_side(self) -> str | None:
        """The side whose foramen the cross-section was last jumped to (None after any other move)."""
        return self._shown_side

    def jump_to_foramen(self, side: str) -> None:
        """Cross-section through ``side``'s foramen centre, vertically centred a little below it."""
        w = self.window
        if w.state is None or self.arch is None:
            return
        centre = w.state.landmarks.point(side, "foramen_centre")
        if centre is None:
            w.statusBar().showMessage(f"Place the {side} foramen on the panoramic first.", 6000)
            return
        self._show_cross(float(self.arch.closest_arc_position(np.asarray(centre))), centre_z=float(centre[2]) - 5.0)
        self._shown_side = side
