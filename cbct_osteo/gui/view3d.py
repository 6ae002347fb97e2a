"""The 3D view: mandible surface, landmarks as spheres, the arch as a tube, the cross-section plane.

The only VTK render window of the program (2D views are QPainter). Screenshots of it must go
through :meth:`View3D.capture` (vtkWindowToImageFilter): ``QWidget.grab()`` cannot read an
OpenGL surface.
"""

from __future__ import annotations

import numpy as np
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL backend)
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersCore import vtkTubeFilter
from vtkmodules.vtkFiltersSources import vtkLineSource, vtkPlaneSource, vtkSphereSource
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkWindowToImageFilter

from cbct_osteo.report.render3d import polydata_actor


def _rgb(colour: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` as VTK's 0..1 RGB."""
    colour = colour.lstrip("#")
    red, green, blue = (int(colour[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return red, green, blue


class View3D(QWidget):
    """A VTK render window with the mandible and the user's landmarks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.vtk_widget = QVTKRenderWindowInteractor(self)
        layout.addWidget(self.vtk_widget)
        self.status = QLabel("3D: open a scan")
        self.status.setStyleSheet("color: #888; padding: 2px;")
        layout.addWidget(self.status)
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.08, 0.09, 0.12)
        self.renderer.SetBackground2(0.22, 0.24, 0.3)
        self.renderer.GradientBackgroundOn()
        self.render_window = self.vtk_widget.GetRenderWindow()
        self.render_window.AddRenderer(self.renderer)
        self.vtk_widget.SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        self._surface_actor: vtkActor | None = None
        self._marker_actors: list[vtkActor] = []
        self._arch_actor: vtkActor | None = None
        self._plane_actor: vtkActor | None = None
        self._initialised = False
        # Scene edits come in bursts (a new case sets surface, arch, plane and markers at once);
        # one render after the burst, not one per edit: a software-GL render costs ~10 ms.
        self._render_timer = QTimer(self, singleShot=True, interval=0)
        self._render_timer.timeout.connect(self.render_now)
        self.setToolTip("3D mandible: left-drag rotates, right-drag/wheel zooms, middle-drag pans")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._initialised:
            self.vtk_widget.Initialize()
            self._initialised = True

    def closeEvent(self, event) -> None:
        self.vtk_widget.Finalize()
        super().closeEvent(event)

    # ------------------------------------------------------------------ content
    def set_surface(self, polydata: vtkPolyData | None, message: str = "") -> None:
        if self._surface_actor is not None:
            self.renderer.RemoveActor(self._surface_actor)
            self._surface_actor = None
        if polydata is not None and polydata.GetNumberOfPoints() > 0:
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(polydata)
            mapper.ScalarVisibilityOff()
            actor = vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetColor(0.93, 0.89, 0.80)
            prop.SetSpecular(0.2)
            prop.SetSpecularPower(20)
            self.renderer.AddActor(actor)
            self._surface_actor = actor
            self.reset_camera()
        self.status.setText(message)
        self.schedule_render()

    def reset_camera(self) -> None:
        """Look at the face from the front (patient anterior = -y), superior up."""
        camera = self.renderer.GetActiveCamera()
        camera.SetFocalPoint(0, 0, 0)
        camera.SetPosition(0, -1, 0.35)
        camera.SetViewUp(0, 0, 1)
        self.renderer.ResetCamera()
        camera.Zoom(1.2)
        self.renderer.ResetCameraClippingRange()

    def set_markers(self, points: list[tuple[np.ndarray, str]], radius_mm: float = 0.8) -> None:
        """Landmarks as small spheres: ``points`` = [(xyz, "#rrggbb"), ...]."""
        for actor in self._marker_actors:
            self.renderer.RemoveActor(actor)
        self._marker_actors = []
        for xyz, colour in points:
            sphere = vtkSphereSource()
            sphere.SetCenter(*map(float, xyz))
            sphere.SetRadius(radius_mm)
            sphere.SetThetaResolution(16)
            sphere.SetPhiResolution(12)
            actor = polydata_actor(sphere, _rgb(colour))
            self.renderer.AddActor(actor)
            self._marker_actors.append(actor)
        self.schedule_render()

    def set_arch(self, points: np.ndarray | None) -> None:
        """The dental arch as a tube through ``points`` (N, 3) patient mm."""
        if self._arch_actor is not None:
            self.renderer.RemoveActor(self._arch_actor)
            self._arch_actor = None
        if points is not None and len(points) >= 2:
            vtk_points = vtkPoints()
            for p in np.asarray(points, float):
                vtk_points.InsertNextPoint(*p)
            line = vtkLineSource()
            line.SetPoints(vtk_points)
            tube = vtkTubeFilter()
            tube.SetInputConnection(line.GetOutputPort())
            tube.SetRadius(0.6)
            tube.SetNumberOfSides(10)
            actor = polydata_actor(tube, (1.0, 0.75, 0.1))
            self.renderer.AddActor(actor)
            self._arch_actor = actor
        self.schedule_render()

    def set_plane(
        self, centre: np.ndarray | None, u_axis: np.ndarray | None = None, v_axis: np.ndarray | None = None
    ) -> None:
        """The current cross-section as a translucent rectangle spanned by ``u_axis``, ``v_axis`` (mm vectors)."""
        if self._plane_actor is not None:
            self.renderer.RemoveActor(self._plane_actor)
            self._plane_actor = None
        if centre is not None:
            centre = np.asarray(centre, float)
            u, v = np.asarray(u_axis, float), np.asarray(v_axis, float)
            source = vtkPlaneSource()
            source.SetOrigin(*(centre - u / 2 - v / 2))
            source.SetPoint1(*(centre + u / 2 - v / 2))
            source.SetPoint2(*(centre - u / 2 + v / 2))
            actor = polydata_actor(source, (0.2, 0.7, 1.0))
            actor.GetProperty().SetOpacity(0.35)
            self.renderer.AddActor(actor)
            self._plane_actor = actor
        self.schedule_render()

    def schedule_render(self) -> None:
        """Render once control returns to the event loop (coalesces a burst of scene edits)."""
        self._render_timer.start()

    def render_now(self) -> None:
        """Render now (not ``QWidget.render``, which paints into a device)."""
        if self._initialised and self.isVisible():
            self.render_window.Render()

    # ------------------------------------------------------------------ capture
    def capture(self) -> QImage:
        """The current frame as a QImage, read back from OpenGL (what grab() cannot do)."""
        self.render_window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self.render_window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        image = grab.GetOutput()
        width, height, _ = image.GetDimensions()
        pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, 3)[::-1]
        pixels = np.ascontiguousarray(pixels)
        return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
