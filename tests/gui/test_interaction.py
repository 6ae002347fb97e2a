"""The mouse logic as plain functions (no widget needed): window/level, zoom/pan, slice planes."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.gui.interaction import (
    ViewTransform,
    apply_window,
    auto_window_level,
    nearest_point,
    scale_bar,
    slice_plan,
    window_level_drag,
)
from cbct_osteo.volume import affine_from_axes


def test_window_level_drag_speed_follows_value_range():
    window, level = window_level_drag(1000.0, 500.0, dx=40, dy=-20, value_range=4000.0, pixels_for_range=400.0)
    assert window == pytest.approx(1400.0)
    assert level == pytest.approx(300.0)
    # the window never collapses to zero or below
    window, _ = window_level_drag(100.0, 0.0, dx=-1000, dy=0, value_range=400.0)
    assert window > 0


def test_auto_window_spans_percentiles():
    values = np.arange(10001, dtype=float)
    window, level = auto_window_level(values, 1.0, 99.0)
    assert level - window / 2 == pytest.approx(100.0, abs=1)
    assert level + window / 2 == pytest.approx(9900.0, abs=1)


def test_apply_window_maps_window_edges_to_black_and_white():
    out = apply_window(np.array([[0.0, 50.0, 100.0, 200.0]]), window=100.0, level=50.0)
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 127, 255, 255]]


def test_view_transform_round_trip_zoom_and_pan():
    t = ViewTransform.fitted((100, 200), (0.5, 0.25), (400.0, 300.0))
    rc = np.array([[10.0, 20.0], [99.0, 0.0]])
    assert np.allclose(t.screen_to_image(t.image_to_screen(rc)), rc)
    # physical scale: one mm is the same number of screen pixels along rows and columns
    a, b = t.image_to_screen((0, 0)), t.image_to_screen((2, 4))  # 1 mm down, 1 mm right
    assert b[0] - a[0] == pytest.approx(b[1] - a[1])
    # zooming keeps the image point under the cursor fixed
    anchor = (123.0, 77.0)
    before = t.screen_to_image(anchor)
    zoomed = t.zoomed_about(anchor, 2.0)
    assert np.allclose(zoomed.screen_to_image(anchor), before)
    assert zoomed.px_per_mm == pytest.approx(2 * t.px_per_mm)
    # panning moves the image with the mouse
    panned = t.panned(10.0, -5.0)
    assert np.allclose(panned.image_to_screen(rc) - t.image_to_screen(rc), [10.0, -5.0])


def test_scale_bar_is_round_and_fits():
    mm, px = scale_bar(px_per_mm=7.3, max_px=120.0)
    assert mm in (1, 2, 5, 10, 20, 50)
    assert px <= 120.0 and px == pytest.approx(mm * 7.3)
    assert mm == 10


def test_nearest_point_respects_radius():
    pts = np.array([[0.0, 0.0], [10.0, 10.0]])
    assert nearest_point(pts, (9.0, 9.0), 5.0) == 1
    assert nearest_point(pts, (50.0, 50.0), 5.0) is None


def _affine(row=(1, 0, 0), col=(0, 1, 0), slice_dir=(0, 0, 1)):
    return affine_from_axes((0, 0, 0), row, col, slice_dir, (2.0, 1.0, 1.0))


def test_axial_plan_radiological_orientation():
    shape = (5, 6, 7)
    plan = slice_plan("axial", _affine(), shape)
    assert (plan.slice_axis, plan.row_axis, plan.col_axis) == (0, 1, 2)
    assert not plan.row_flip and not plan.col_flip  # +x (patient left) to the right, +y (posterior) down
    voxels = np.arange(np.prod(shape)).reshape(shape)
    image = plan.extract(voxels, 3)
    assert image.shape == (6, 7)
    rc = np.array([2.0, 5.0])
    zyx = plan.to_voxel(rc, 3)
    assert image[2, 5] == voxels[tuple(zyx.astype(int))]
    back, k = plan.from_voxel(zyx)
    assert np.allclose(back, rc) and k == 3


def test_coronal_and_sagittal_put_superior_up_and_flipped_storage_is_undone():
    shape = (5, 6, 7)
    coronal = slice_plan("coronal", _affine(), shape)
    assert coronal.row_axis == 0 and coronal.row_flip  # slice index up = superior -> flip to have S on top
    sagittal = slice_plan("sagittal", _affine(), shape)
    assert (sagittal.row_axis, sagittal.col_axis) == (0, 1) and not sagittal.col_flip  # anterior on the left
    # a scan stored right-to-left (row direction -x) is flipped back so patient right is on screen left
    flipped = slice_plan("axial", _affine(row=(-1, 0, 0)), shape)
    assert flipped.col_flip
    voxels = np.random.default_rng(0).random(shape)
    rc = np.array([1.0, 2.0])
    zyx = flipped.to_voxel(rc, 2)
    assert flipped.extract(voxels, 2)[1, 2] == voxels[tuple(zyx.astype(int))]
