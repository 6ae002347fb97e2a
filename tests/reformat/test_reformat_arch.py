"""ArchCurve geometry: arc length, frames, buccal side, closest positions, stepping."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.reformat import ArchCurve, arc_positions, volume_up
from cbct_osteo.volume import Volume

from reformat_synthetic import arch_points, rotation


def circle_points(radius: float, n: int, z: float = 3.0, reverse: bool = False) -> np.ndarray:
    theta = np.linspace(0.1 * np.pi, 0.9 * np.pi, n)  # 144 degrees, bulging towards -y like a chin
    pts = np.column_stack([radius * np.cos(theta), -radius * np.sin(theta), np.full(n, z)])
    return pts[::-1] if reverse else pts


def test_arc_length_of_a_circle_arc_is_radius_times_angle():
    arch = ArchCurve.from_points(circle_points(30.0, 20))
    assert arch.length_mm == pytest.approx(30.0 * 0.8 * np.pi, rel=2e-5)
    # the parameter is millimetres: 1 mm of s moves the point 1 mm (chord of a 1 mm arc)
    s = np.linspace(0.0, arch.length_mm - 1.0, 50)
    chords = np.linalg.norm(arch.point(s + 1.0) - arch.point(s), axis=1)
    assert np.allclose(chords, 1.0, atol=1e-3)
    radii = np.linalg.norm(arch.point(s)[:, :2], axis=1)
    assert np.allclose(radii, 30.0, atol=2e-3)


@pytest.mark.parametrize("reverse", [False, True])
def test_tangent_and_normal_are_orthonormal_horizontal_and_buccal(reverse):
    arch = ArchCurve.from_points(circle_points(30.0, 12, reverse=reverse))
    s = np.linspace(0.0, arch.length_mm, 40)
    t, n = arch.tangent(s), arch.normal(s)
    assert np.allclose(np.linalg.norm(t, axis=1), 1.0)
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0)
    assert np.allclose(np.sum(t * n, axis=1), 0.0, atol=1e-12)
    assert np.allclose(n[:, 2], 0.0) and np.allclose(t[:, 2], 0.0)
    # tangent = direction of increasing s
    assert np.all(np.sum(t[:-1] * np.diff(arch.point(s), axis=0), axis=1) > 0)
    # buccal = away from the circle's centre (the inside of the arch)
    outward = arch.point(s)[:, :2] / np.linalg.norm(arch.point(s)[:, :2], axis=1, keepdims=True)
    assert np.allclose(np.sum(n[:, :2] * outward, axis=1), 1.0, atol=1e-4)


def test_horseshoe_normal_points_anterior_at_the_chin_and_lateral_at_the_ends():
    arch = ArchCurve.from_points(arch_points())
    chin = arch.closest_arc_position([0.0, -20.0, 0.0])
    assert arch.normal(chin) == pytest.approx([0.0, -1.0, 0.0], abs=1e-3)
    assert arch.normal(0.0)[0] < -0.9  # first point is on the patient's right (-x)
    assert arch.normal(arch.length_mm)[0] > 0.9


def test_points_are_projected_to_the_plane_at_their_mean_height():
    pts = arch_points(z=10.0)
    pts[:, 2] += np.linspace(-1.0, 1.0, len(pts)) ** 2
    arch = ArchCurve.from_points(pts)
    assert arch.level_mm == pytest.approx(np.mean(pts[:, 2]))
    assert np.allclose(arch.point(np.linspace(0, arch.length_mm, 9))[:, 2], arch.level_mm)
    assert np.allclose(arch.to_points()[:, :2], pts[:, :2])
    # the curve goes through its control points
    s = arch.closest_arc_position(arch.to_points())
    assert np.allclose(arch.point(s), arch.to_points(), atol=1e-6)


def test_closest_arc_position_recovers_s_off_the_curve():
    arch = ArchCurve.from_points(arch_points())
    s = np.linspace(0.0, arch.length_mm, 33)
    off = arch.point(s) + 2.5 * arch.normal(s) + [0.0, 0.0, 7.0]
    assert np.allclose(arch.closest_arc_position(off), s, atol=1e-7)
    single = arch.closest_arc_position(off[5])
    assert isinstance(single, float) and single == pytest.approx(s[5], abs=1e-7)
    # beyond the ends: clipped to the ends
    assert arch.closest_arc_position(arch.point(0.0) - 5.0 * arch.tangent(0.0)) == pytest.approx(0.0)


def test_tilted_up_direction_keeps_the_curve_perpendicular_to_it():
    up = rotation(10, -5, 0) @ np.array([0.0, 0.0, 1.0])
    arch = ArchCurve.from_points(arch_points(z=4.0), up=up)
    s = np.linspace(0.0, arch.length_mm, 25)
    assert np.allclose(arch.point(s) @ up, arch.level_mm)
    assert np.allclose(arch.normal(s) @ up, 0.0, atol=1e-12)
    assert np.allclose(arch.tangent(s) @ up, 0.0, atol=1e-12)


def test_volume_up_is_the_slice_plane_normal():
    r = rotation(10, 0, 30)
    affine = np.eye(4)
    affine[:3, 0] = 0.5 * (r[:, 2] + 0.2 * r[:, 0])  # tilted stacking direction must not matter
    affine[:3, 1] = 0.4 * r[:, 1]
    affine[:3, 2] = 0.4 * r[:, 0]
    volume = Volume(np.zeros((3, 3, 3), np.int16), (0.5, 0.4, 0.4), affine)
    assert volume_up(volume) == pytest.approx(r[:, 2])
    flipped = affine.copy()
    flipped[:3, 0] *= -1
    flipped[:3, 1] *= -1  # slices stacked downwards, rows mirrored: up still superior
    assert volume_up(Volume(np.zeros((3, 3, 3)), (0.5, 0.4, 0.4), flipped)) == pytest.approx(r[:, 2])


def test_invalid_points_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        ArchCurve.from_points(arch_points()[:2])
    pts = arch_points()
    pts[3] = pts[2] + [0.0, 0.0, 1.0]  # same place, only higher
    with pytest.raises(ValueError, match="coincide"):
        ArchCurve.from_points(pts)


def test_arc_positions_step_along_the_arch():
    arch = ArchCurve.from_points(circle_points(30.0, 12))
    steps = arc_positions(arch, 2.0)
    assert steps[0] == 0.0 and np.allclose(np.diff(steps), 2.0)
    assert arch.length_mm - 2.0 < steps[-1] <= arch.length_mm
    back = arc_positions(arch, -1.5, start_mm=10.0)
    assert np.allclose(back, [10.0, 8.5, 7.0, 5.5, 4.0, 2.5, 1.0])
    with pytest.raises(ValueError):
        arc_positions(arch, 0.0)
