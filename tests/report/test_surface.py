"""The one mandible surface pipeline: the jaw of a real head CT, inside its located box, never the spine."""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy

from cbct_osteo.locate import cached_location
from cbct_osteo.report.surface import SURFACE_MM, mandible_surface

#: The C2/C3 vertebral body of the real head CT (by eye on its axial slices, LPS mm): x, y ranges.
SPINE_X_MM, SPINE_Y_MM = (-25.0, 5.0), (86.0, 110.0)


def test_the_real_head_ct_surface_is_the_mandible_inside_its_box(real_head_ct):
    location = cached_location(real_head_ct)
    surface = mandible_surface(real_head_ct)
    points = vtk_to_numpy(surface.polydata.GetPoints().GetData())
    assert surface.polydata.GetNumberOfCells() > 20_000
    low, high = location.bbox_mm
    tolerance = 0.5 * SURFACE_MM
    assert np.all(points >= low - tolerance) and np.all(points <= high + tolerance)
    spine = (
        (points[:, 0] > SPINE_X_MM[0])
        & (points[:, 0] < SPINE_X_MM[1])
        & (points[:, 1] > SPINE_Y_MM[0])
        & (points[:, 1] < SPINE_Y_MM[1])
    )
    assert not spine.any()
    # it spans the jaw: from the chin to both posterior ends of the body
    extent = points.max(axis=0) - points.min(axis=0)
    assert extent[0] > 90.0 and extent[1] > 70.0
    assert surface.cut_height_mm is not None and points[:, 2].max() <= surface.cut_height_mm
