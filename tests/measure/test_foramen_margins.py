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


def channel_volume(radius_mm: float | None, blur_mm: float = 0.4, noise: float = 40.0, rise_deg: float = 0.0) -> Volume:
    """Bone with a channel through the origin (none when ``radius_mm`` is None); 12 mm cube.

    The channel runs along x (the arch), rising ``rise_deg`` toward +z (the measurement line). Each
    voxel holds the channel's volume fraction (3 x 3 x 3 sub-samples), so its wall is not quantised
    to the voxel grid.
    """
    n, sub = 40, 3
    fine = (np.arange(n * sub) - (n * sub - 1) / 2) * VOXEL_MM / sub
    z, y, x = np.meshgrid(fine, fine, fine, indexing="ij", sparse=True)
    lumen = np.zeros((n * sub,) * 3, np.float32)
    if radius_mm is not None:
        rise = np.radians(rise_deg)
        along = x * np.cos(rise) + z * np.sin(rise)
        lumen = (x**2 + y**2 + z**2 - along**2 < radius_mm**2).astype(np.float32)
    fraction = lumen.reshape(n, sub, n, sub, n, sub).mean(axis=(1, 3, 5))
    voxels = BONE + (LUMEN - BONE) * fraction
    voxels = ndimage.gaussian_filter(voxels, blur_mm / VOXEL_MM)
    voxels += np.random.default_rng(3).normal(0.0, noise, voxels.shape).astype(np.float32)
    c = (np.arange(n) - (n - 1) / 2) * VOXEL_MM
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


#: A channel rising this steeply along the arch (degrees) is crossed obliquely by the line.
RISE_DEG = 35.0


@pytest.mark.parametrize("superior", [True, False])
def test_the_wall_moves_with_the_line_as_the_geometry_says(superior):
    """On a rising channel the margin moves s*tan(rise) for a move s along the arch, ~0 across."""
    from cbct_osteo.measure.uncertainty import PLACEMENT_SD_MM

    sign = 1.0 if superior else -1.0
    wall = RADIUS_MM / np.cos(np.radians(RISE_DEG))  # where the vertical line leaves the channel
    volume = channel_volume(RADIUS_MM, rise_deg=RISE_DEG)
    check = check_margin(volume, FRAME, np.array([0.0, 0.0, sign * wall]), superior, VOXEL_MM)
    along = PLACEMENT_SD_MM * np.tan(np.radians(RISE_DEG))
    across = (RADIUS_MM - np.sqrt(RADIUS_MM**2 - PLACEMENT_SD_MM**2)) / np.cos(np.radians(RISE_DEG))
    expected = np.sqrt((2 * along**2 + 2 * across**2) / 4)
    assert check.problem == "", check
    assert check.line_sd_mm == pytest.approx(expected, abs=0.04), (check, expected)
    assert check.sigma_mm is not None and check.sigma_mm > 0.15  # so S or I is "uncertain" on it


def test_a_straight_channel_confirms_a_click_on_its_wall_precisely():
    """A channel along the arch does not move with the line: the margin's sigma is the wall's alone."""
    check = check_margin(channel_volume(RADIUS_MM), FRAME, np.array([0.0, 0.0, RADIUS_MM]), True, VOXEL_MM)
    assert check.line_sd_mm is not None and check.line_sd_mm < 0.05, check
    assert check.sigma_mm is not None and check.sigma_mm <= 0.15, check
