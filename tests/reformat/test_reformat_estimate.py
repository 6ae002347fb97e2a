"""The automatic arch guess follows a horseshoe of bone."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.locate import sub_volume
from cbct_osteo.reformat import ArchCurve, estimate_arch
from cbct_osteo.volume import Volume, affine_from_axes

from reformat_synthetic import arch_points


def mean_and_max_distance(estimate: ArchCurve, truth: ArchCurve) -> tuple[float, float]:
    """Horizontal distances (mm) from the estimate's points (every 0.5 mm) to the true curve."""
    points = estimate.sample(0.5)
    nearest = truth.point(truth.closest_arc_position(points))
    distance = np.linalg.norm((points - nearest)[:, :2], axis=1)
    return float(distance.mean()), float(distance.max())


@pytest.fixture(scope="module")
def horseshoe():
    """Noisy volume: air, a soft-tissue block, and a 7 mm thick U of bone 12 mm tall below a
    second, smaller bone blob higher up (a 'maxilla' the guess must ignore)."""
    spacing = 0.5
    shape = (80, 110, 130)  # z, y, x: 40 x 55 x 65 mm
    origin = np.array([-32.0, -25.0, -20.0])  # x, y, z of voxel (0, 0, 0)
    affine = affine_from_axes(origin, [1, 0, 0], [0, 1, 0], [0, 0, 1], (spacing,) * 3)
    truth = ArchCurve.from_points(arch_points(z=-10.0, n=12))
    y, x = np.meshgrid(
        origin[1] + spacing * np.arange(shape[1]), origin[0] + spacing * np.arange(shape[2]), indexing="ij"
    )
    plane = np.column_stack([x.ravel(), y.ravel(), np.full(x.size, -10.0)])
    s = truth.closest_arc_position(plane)
    inside_s = (s > 0.0) & (s < truth.length_mm)
    band = ((np.linalg.norm(plane - truth.point(s), axis=1) < 3.5) & inside_s).reshape(x.shape)
    z = origin[2] + spacing * np.arange(shape[0])
    rng = np.random.default_rng(5)
    voxels = rng.normal(0.0, 40.0, shape).astype(np.float32)
    voxels[:, 5:-5, 5:-5] += 300.0  # soft tissue
    voxels[(z > -16.0) & (z < -4.0)] += 1200.0 * band  # mandibular body
    voxels[(z > 8.0) & (z < 12.0), 20:40, 50:80] += 1200.0  # upper bone, outside the lower half
    return Volume(voxels, (spacing,) * 3, affine), truth


def test_estimate_follows_the_horseshoe(horseshoe):
    volume, truth = horseshoe
    estimate = estimate_arch(volume)
    mean_distance, max_distance = mean_and_max_distance(estimate, truth)
    # the worst point is an end, extrapolated over the last half body-width
    assert mean_distance < 0.4 and max_distance < 1.5
    assert estimate.level_mm == pytest.approx(-10.0, abs=1.0)
    # the skeleton stops about half the band width short of each end
    assert truth.length_mm - 10.0 < estimate.length_mm < truth.length_mm + 1.0
    assert estimate.to_points()[0, 0] < estimate.to_points()[-1, 0]  # patient right first
    chin = estimate.closest_arc_position([0.0, -12.0, -10.0])
    assert estimate.normal(chin)[1] < -0.99  # buccal = anterior at the chin


def test_estimate_refuses_a_volume_without_bone(horseshoe):
    volume, _ = horseshoe
    empty = Volume(np.zeros((20, 20, 20), np.float32), (1.0, 1.0, 1.0), np.eye(4))
    with pytest.raises(ValueError, match="no bone"):
        estimate_arch(empty, threshold=100.0)
    above = sub_volume(volume, (slice(12, None), slice(None), slice(None)))  # starts at z = -14 mm, in the body
    with pytest.raises(ValueError, match="lower border"):  # the scan starts inside the body: not a mandible to use
        estimate_arch(above)
    with pytest.raises(ValueError):
        estimate_arch(volume, n_points=3)
