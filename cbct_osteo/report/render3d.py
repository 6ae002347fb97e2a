"""An offscreen 3D view of the mandible with the measurement sites, for the printed report.

VTK renders without a display through EGL (or OSMesa/GLX, whichever the VTK build picks) with
``SetOffScreenRendering(1)``. The surface is the GUI's own (:func:`cbct_osteo.report.surface.mandible_surface`:
the located mandible, cropped, the program's bone threshold, clipped above the occlusal plane of
the case's arch), at :data:`REPORT_SURFACE_MM` because a ~450 px print figure needs no finer mesh.
Any rendering failure returns ``None``; the report then shows a "3D view unavailable" box rather
than failing.

Only VTK's rendering classes are used here (no widgets, no Qt), so the report stays headless.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

# VTK module by module, not ``import vtk``: that loads every VTK module (~260 MB more in the bundle).
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window)
from PIL import Image
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonExecutionModel import vtkPolyDataAlgorithm
from vtkmodules.vtkFiltersCore import vtkTubeFilter
from vtkmodules.vtkFiltersSources import vtkCubeSource, vtkLineSource, vtkSphereSource
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkRenderWindow,
    vtkWindowToImageFilter,
)

from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.reformat import ArchCurve
from cbct_osteo.report.surface import mandible_surface
from cbct_osteo.volume import Volume, volume_up

log = logging.getLogger(__name__)

#: Voxel size (mm) of the report's surface.
REPORT_SURFACE_MM = 0.6
Colour = tuple[float, float, float]  # RGB, 0..1
_BONE: Colour = (0.93, 0.89, 0.80)
_SITE_COLOURS: dict[str, Colour] = {
    "foramen_centre": (1.0, 0.84, 0.0),
    "W": (0.92, 0.18, 0.18),
    "roi": (0.0, 0.84, 0.94),
}


def render_mandible(
    volume: Volume,
    landmarks: LandmarkSet,
    size: tuple[int, int] = (900, 640),
) -> Image.Image | None:
    """Render the bone surface, seen from the front and slightly below, with the measurement sites.

    Parameters
    ----------
    volume
        The scan; voxels (z, y, x), the affine maps them to LPS mm.
    landmarks
        Sites drawn: each foramen (yellow sphere), each W line (red tube), each trabecular ROI
        (cyan cube of its side length).
    size
        (width, height) of the image in pixels.

    Returns
    -------
    PIL.Image.Image or None
        ``None`` if VTK cannot render here (no EGL/OpenGL) or the volume has no bone.
    """
    try:
        return _render(volume, landmarks, size)
    except Exception as exc:  # noqa: BLE001 - any graphics failure must not stop the report
        log.warning("3D view of the mandible not rendered: %s", exc)
        return None


def _render(volume: Volume, landmarks: LandmarkSet, size: tuple[int, int]) -> Image.Image | None:
    arch_xyz = None
    if len(landmarks.arch_points) >= 3:
        arch_xyz = ArchCurve.from_points(np.asarray(landmarks.arch_points, float), up=volume_up(volume)).sample(1.0)
    mesh = mandible_surface(volume, arch_xyz=arch_xyz, target_mm=REPORT_SURFACE_MM).polydata
    if mesh.GetNumberOfPoints() == 0:
        return None

    renderer = vtkRenderer()
    renderer.SetBackground(1.0, 1.0, 1.0)
    bone = vtkActor()
    bone_mapper = vtkPolyDataMapper()
    bone_mapper.SetInputData(mesh)
    bone_mapper.ScalarVisibilityOff()
    bone.SetMapper(bone_mapper)
    bone.GetProperty().SetColor(*_BONE)
    bone.GetProperty().SetOpacity(0.55)
    bone.GetProperty().SetSpecular(0.2)
    renderer.AddActor(bone)
    site_radius = 1.6
    for marks in landmarks.sides.values():
        centre = marks.points.get("foramen_centre")
        if centre is not None:
            renderer.AddActor(_sphere(centre, site_radius, _SITE_COLOURS["foramen_centre"]))
        outer, inner = marks.points.get("border_outer"), marks.points.get("border_inner")
        if outer is not None and inner is not None:
            renderer.AddActor(_tube(outer, inner, 0.9, _SITE_COLOURS["W"]))
        if marks.trab_roi is not None:
            renderer.AddActor(_cube(marks.trab_roi.centre, marks.trab_roi.size_mm, _SITE_COLOURS["roi"]))

    window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(0)
    window.SetSize(int(size[0]), int(size[1]))
    window.AddRenderer(renderer)
    camera = renderer.GetActiveCamera()
    bounds = np.asarray(mesh.GetBounds(), float).reshape(3, 2)
    focus = bounds.mean(axis=1)
    # Anterior is -y in LPS: look from the front, a little from below and from the patient's right.
    direction = np.array([-0.35, -1.0, -0.45])
    direction /= np.linalg.norm(direction)
    camera.SetFocalPoint(*focus)
    camera.SetPosition(*(focus + direction * 400.0))
    camera.SetViewUp(0.0, 0.0, 1.0)
    renderer.ResetCamera()
    camera.Zoom(1.25)
    try:
        window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        out = grab.GetOutput()
        width, height, _ = out.GetDimensions()
        # vtk's numpy_support is plain Python without annotations
        scalars = vtk_to_numpy(out.GetPointData().GetScalars())
        pixels = scalars.reshape(height, width, -1)[::-1, :, :3]
    finally:
        window.Finalize()
    if float(pixels.std()) < 1.0:
        return None  # a blank frame: the context gave us nothing to show
    return Image.fromarray(_crop_to_content(np.ascontiguousarray(pixels, dtype=np.uint8)), mode="RGB")


def _crop_to_content(pixels: np.ndarray, margin: float = 0.04) -> np.ndarray:
    """Trim the white background around the rendered mandible, keeping a small margin."""
    content = np.argwhere((pixels < 250).any(axis=2))
    if content.size == 0:
        return pixels
    (r0, c0), (r1, c1) = content.min(axis=0), content.max(axis=0)
    pad = int(margin * max(pixels.shape[:2]))
    return pixels[max(0, r0 - pad) : r1 + pad + 1, max(0, c0 - pad) : c1 + pad + 1]


def _sphere(centre: Sequence[float], radius: float, colour: Colour) -> vtkActor:
    source = vtkSphereSource()
    source.SetCenter(*map(float, centre))
    source.SetRadius(radius)
    source.SetThetaResolution(24)
    source.SetPhiResolution(24)
    return polydata_actor(source, colour)


def _tube(p0: Sequence[float], p1: Sequence[float], radius: float, colour: Colour) -> vtkActor:
    line = vtkLineSource()
    line.SetPoint1(*map(float, p0))
    line.SetPoint2(*map(float, p1))
    tube = vtkTubeFilter()
    tube.SetInputConnection(line.GetOutputPort())
    tube.SetRadius(radius)
    tube.SetNumberOfSides(16)
    tube.CappingOn()
    return polydata_actor(tube, colour)


def _cube(centre: Sequence[float], side_mm: float, colour: Colour) -> vtkActor:
    source = vtkCubeSource()
    source.SetCenter(*map(float, centre))
    source.SetXLength(side_mm)
    source.SetYLength(side_mm)
    source.SetZLength(side_mm)
    actor = polydata_actor(source, colour)
    actor.GetProperty().SetOpacity(0.7)
    return actor


def polydata_actor(source: vtkPolyDataAlgorithm, colour: Colour) -> vtkActor:
    """A coloured actor showing the polygons a VTK source or filter produces (also the GUI's 3D view's)."""
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(source.GetOutputPort())
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*colour)
    return actor
