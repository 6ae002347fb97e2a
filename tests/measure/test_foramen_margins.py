"""The image check of the placed foramen margins on a blurred, noisy channel of known radius.

A round channel (radius 1.3 mm, the size of a mental canal) of soft tissue runs through bone; the
truth is its geometry. A margin clicked on the true wall is confirmed, one clicked 0.6 mm into the
lumen or into the bone is not, and a scan with no lumen confirms nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from cbct_osteo.measure.foramen_margins import check_margin
from cbct_osteo.measure.geometry import MeasurementFrame
from cbct_osteo.volume import Volume, affine_from_axes

RADIUS_MM = 1.3
VOXEL_MM = 0.3
BONE, LUMEN = 1500.0, 300.0


def channel_volume(radius_mm: float | None, blur_mm: float = 0.4, noise: float = 40.0) -> Volume:
    """Bone with a channel along x through the origin (none when ``radius_mm`` is None); 12 mm cube."""
    n = 40
    c = (np.arange(n) - (n - 1) / 2) * VOXEL_MM
    z, y = np.meshgrid(c, c, indexing="ij")
    sub = np.full((n, n), BONE, np.float32)
    if radius_mm is not None:
        sub[np.hypot(z, y) < radius_mm] = LUMEN
    voxels = np.repeat(sub[:, :, None], n, axis=2)
    voxels = ndimage.gaussian_filter(voxels, blur_mm / VOXEL_MM)
    voxels += np.random.default_rng(3).normal(0.0, noise, voxels.shape).astype(np.float32)
    origin = (c[0],) * 3
    affine = affine_from_axes(origin, (1, 0, 0), (0, 1, 0), (0, 0, 1), (VOXEL_MM,) * 3)
    return Volume(voxels.astype(np.float32), (VOXEL_MM,) * 3, affine)


FRAME = MeasurementFrame(
    origin=np.zeros(3),
    direction=np.array([0.0, 0.0, 1.0]),
    across=np.array([0.0, 1.0, 0.0]),
    tangent=np.array([1.0, 0.0, 0.0]),
    in_plane=True,
)


@pytest.fixture(scope="module")
def channel() -> Volume:
    return channel_volume(RADIUS_MM)


@pytest.mark.parametrize("superior", [True, False])
def test_a_click_on_the_true_wall_is_confirmed(channel, superior):
    sign = 1.0 if superior else -1.0
    check = check_margin(channel, FRAME, np.array([0.0, 0.0, sign * RADIUS_MM]), superior, VOXEL_MM)
    assert check.problem == "", check
    assert check.image_t == pytest.approx(sign * RADIUS_MM, abs=0.15)  # the wall the image shows


@pytest.mark.parametrize("superior", [True, False])
@pytest.mark.parametrize("off_mm", [-0.6, 0.6])  # into the lumen, into the bone
def test_a_click_off_the_wall_is_not_confirmed(channel, superior, off_mm):
    sign = 1.0 if superior else -1.0
    click = np.array([0.0, 0.0, sign * (RADIUS_MM + off_mm)])
    check = check_margin(channel, FRAME, click, superior, VOXEL_MM)
    assert check.problem, check
    assert ("inside" if off_mm < 0 else "outside") in check.problem
    assert check.outward_mm == pytest.approx(off_mm, abs=0.15)


def test_no_lumen_confirms_nothing():
    check = check_margin(channel_volume(None), FRAME, np.array([0.0, 0.0, RADIUS_MM]), True, VOXEL_MM)
    assert check.image_t is None and "no wall" in check.problem, check
