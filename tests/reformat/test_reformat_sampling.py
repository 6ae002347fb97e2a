"""Interpolation at patient points: exact on a linear ramp, defined background outside."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.reformat import background_value, sample_extruded, sample_line, sample_points
from cbct_osteo.volume import Volume, affine_from_axes

from reformat_synthetic import ramp_value


def inner_points(volume: Volume, n: int, margin: float, seed: int = 1) -> np.ndarray:
    """Random patient points whose voxel indices are at least ``margin`` voxels inside."""
    rng = np.random.default_rng(seed)
    shape = np.asarray(volume.shape)
    index = margin + rng.random((n, 3)) * (shape - 1 - 2 * margin)
    return volume.index_to_patient(index)


@pytest.mark.parametrize("fixture", ["axial_ramp", "oblique_ramp"])
def test_trilinear_is_exact_on_a_linear_ramp(fixture, request):
    volume = request.getfixturevalue(fixture)
    points = inner_points(volume, 500, margin=0.0)
    assert np.allclose(sample_points(volume, points), ramp_value(points), atol=2e-3)


def test_cubic_is_exact_on_a_linear_ramp_inside(oblique_ramp):
    points = inner_points(oblique_ramp, 200, margin=4.0)
    values = sample_points(oblique_ramp, points, order="cubic")
    assert np.allclose(values, ramp_value(points), atol=2e-3)


def test_outside_gives_the_volume_minimum_or_cval(axial_ramp):
    far = np.array([[500.0, 0.0, 0.0], [0.0, 0.0, -300.0]])
    minimum = float(axial_ramp.voxels.min())
    assert background_value(axial_ramp) == minimum
    assert np.all(sample_points(axial_ramp, far) == np.float32(minimum))
    assert np.all(sample_points(axial_ramp, far, cval=-7.0) == -7.0)
    assert np.all(sample_points(axial_ramp, far, order=3, cval=-7.0) == -7.0)


def test_edge_voxel_centres_are_inside_and_just_beyond_is_outside():
    voxels = np.arange(27, dtype=np.int16).reshape(3, 3, 3)
    volume = Volume(voxels, (1.0, 1.0, 1.0), affine_from_axes([0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], (1, 1, 1)))
    corner = volume.index_to_patient([2, 2, 2])
    assert sample_points(volume, corner) == 26
    assert sample_points(volume, corner + [0.01, 0, 0], cval=-1) == -1


def test_sample_line_profile(oblique_ramp):
    p0 = oblique_ramp.index_to_patient([20, 60, 70])
    p1 = p0 + [3.0, 4.0, 0.0]  # 5 mm long
    positions, values = sample_line(oblique_ramp, p0, p1, 0.5)
    assert np.allclose(positions, np.arange(11) * 0.5)
    expected = ramp_value(p0 + positions[:, None] * np.array([0.6, 0.8, 0.0]))
    assert np.allclose(values, expected, atol=2e-3)
    positions, _ = sample_line(oblique_ramp, p0, p1, 0.3)
    assert positions[-1] == pytest.approx(4.8)  # the end is not on the 0.3 mm grid
    with pytest.raises(ValueError):
        sample_line(oblique_ramp, p0, p1, 0.0)


@pytest.mark.parametrize("reduce", ["mean", "max"])
@pytest.mark.parametrize("memory_order", ["C", "F"])
def test_separable_fast_path_equals_direct_trilinear_sampling(reduce, memory_order):
    """On an axial volume the sparse in-plane/linear-z engine must equal map_coordinates."""
    rng = np.random.default_rng(3)
    voxels = np.asarray(rng.integers(-1000, 3000, size=(30, 40, 50)), dtype=np.int16, order=memory_order)
    affine = affine_from_axes([-10.0, -8.0, -6.0], [0.8, 0.6, 0], [-0.6, 0.8, 0], [0, 0, 1], (0.5, 0.4, 0.3))
    volume = Volume(voxels, (0.5, 0.4, 0.3), affine)
    base = np.stack(
        [np.column_stack([np.linspace(-12, 8, 30), np.full(30, y), np.zeros(30)]) for y in np.linspace(-2, 14, 7)],
        axis=1,
    )  # (30 columns, 7 slab samples); some columns run out of the volume
    heights = np.linspace(-8.0, 10.0, 41)  # some rows above/below the volume
    image = sample_extruded(volume, base, np.array([0.0, 0.0, 1.0]), heights, reduce=reduce, cval=-5.0)
    points = base[None, :, :, :2]
    points = np.concatenate(
        [np.broadcast_to(points, (41, 30, 7, 2)), np.broadcast_to(heights[:, None, None, None], (41, 30, 7, 1))],
        axis=-1,
    )
    direct = sample_points(volume, points, cval=-5.0)
    expected = direct.mean(axis=2) if reduce == "mean" else direct.max(axis=2)
    assert np.any(image == -5.0) and np.any(image != -5.0)
    assert np.allclose(image, expected, atol=1e-2)
