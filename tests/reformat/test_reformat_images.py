"""Cross-sections and panoramics: pixel <-> patient maps, values, round trips, known structures."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.reformat import ArchCurve, PlaneImage, cross_section, panoramic
from cbct_osteo.volume import Volume, affine_from_axes

from reformat_synthetic import arch_points, ramp_value


def all_pixels(shape: tuple[int, int]) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij"), axis=-1).astype(float)


def inside(volume: Volume, xyz: np.ndarray) -> np.ndarray:
    index = volume.patient_to_index(xyz)
    return np.all((index >= 0) & (index <= np.asarray(volume.shape) - 1), axis=-1)


@pytest.mark.parametrize("fixture", ["axial_ramp", "oblique_ramp"])
@pytest.mark.parametrize("slab_mm", [0.0, 3.0])
def test_cross_section_pixels_hold_the_value_at_their_patient_point(fixture, slab_mm, arch, request):
    volume = request.getfixturevalue(fixture)
    section = cross_section(volume, arch, 20.0, width_mm=16.0, height_mm=12.0, pixel_mm=0.2, slab_mm=slab_mm)
    assert section.image.shape == (60, 80) and section.image.dtype == np.float32
    xyz = section.pixel_to_patient(all_pixels(section.shape))
    # a slab half-width beyond the plane on both sides must also be inside for an exact mean
    ok = inside(volume, xyz + slab_mm / 2 * section.normal_xyz) & inside(volume, xyz - slab_mm / 2 * section.normal_xyz)
    assert ok.mean() > 0.5
    assert np.allclose(section.image[ok], ramp_value(xyz[ok]), atol=5e-3)


def test_cross_section_orientation(axial_ramp, arch):
    s = 25.0
    section = cross_section(axial_ramp, arch, s, width_mm=10.0, height_mm=8.0, pixel_mm=0.25, centre_z_mm=1.5)
    assert section.pixel_mm == 0.25
    assert section.arc_position_mm == s
    assert section.col_step_xyz == pytest.approx(0.25 * arch.normal(s))  # buccal to the right
    assert section.row_step_xyz == pytest.approx([0.0, 0.0, -0.25])  # rows go down
    assert section.normal_xyz == pytest.approx(arch.tangent(s))
    centre = section.pixel_to_patient([(section.shape[0] - 1) / 2, (section.shape[1] - 1) / 2])
    assert centre == pytest.approx(arch.point(s) + [0.0, 0.0, 1.5 - arch.level_mm])
    # default vertical centre (no mandible, a scan shorter than the arch's band): the middle of its z-extent;
    # default pixel 0.1 mm
    default = cross_section(axial_ramp, arch, s, width_mm=4.0, height_mm=4.0)
    z_extent = axial_ramp.index_to_patient([[0, 0, 0], [axial_ramp.shape[0] - 1, 0, 0]])[:, 2]
    assert default.pixel_mm == 0.1
    assert default.pixel_to_patient([19.5, 19.5])[2] == pytest.approx(np.mean(z_extent))


def test_plane_image_maps_are_inverse_and_measure_distance():
    plane = PlaneImage(
        image=np.zeros((4, 5), np.float32),
        origin_xyz=[1.0, 2.0, 3.0],
        row_step_xyz=[0.0, 0.0, -0.5],
        col_step_xyz=[0.3, 0.4, 0.0],
        pixel_mm=0.5,
    )
    rc = np.array([[1.25, 3.5], [-2.0, 7.0]])
    xyz = plane.pixel_to_patient(rc)
    assert np.allclose(plane.patient_to_pixel(xyz), rc)
    off = xyz + 2.0 * plane.normal_xyz
    assert np.allclose(plane.patient_to_pixel(off), rc)
    assert np.allclose(plane.distance_from_plane(off), 2.0)


def test_panoramic_pixels_hold_the_value_at_their_patient_point(oblique_ramp, arch):
    pano = panoramic(oblique_ramp, arch, pixel_mm=0.5, height_mm=12.0, slab_mm=2.0, centre_z_mm=0.5)
    assert pano.image.shape == (24, int(arch.length_mm / 0.5) + 1)
    xyz = pano.pixel_to_patient(all_pixels(pano.shape))
    assert np.allclose(xyz[0] @ arch.up, 0.5 + 11.5 * 0.5)  # top row centre: 11.5 pixels above the middle
    ok = inside(oblique_ramp, xyz + 1.5 * pano.arch.normal(pano.arc_position(np.arange(pano.shape[1]))))
    ok &= inside(oblique_ramp, xyz - 1.5 * pano.arch.normal(pano.arc_position(np.arange(pano.shape[1]))))
    assert ok.mean() > 0.5
    # the mean of a linear ramp across a straight slab is the value on the surface
    assert np.allclose(pano.image[ok], ramp_value(xyz[ok]), atol=5e-3)


def test_landmark_round_trip_panoramic_cross_section_panoramic(axial_ramp, oblique_ramp, arch):
    rng = np.random.default_rng(7)
    for volume in (axial_ramp, oblique_ramp):
        pano = panoramic(volume, arch, pixel_mm=0.3, height_mm=20.0)
        for rc in rng.random((10, 2)) * np.asarray(pano.shape):
            landmark = pano.pixel_to_patient(rc)  # stored in patient mm
            s = arch.closest_arc_position(landmark)
            section = cross_section(volume, arch, s, width_mm=20.0, height_mm=20.0, pixel_mm=0.1)
            assert abs(section.distance_from_plane(landmark)) < 1e-6
            on_section = section.pixel_to_patient(section.patient_to_pixel(landmark))
            assert np.linalg.norm(on_section - landmark) < 0.01
            back = pano.pixel_to_patient(pano.patient_to_pixel(on_section))
            assert np.linalg.norm(back - landmark) < 0.01
            assert np.allclose(pano.patient_to_pixel(on_section), rc, atol=1e-4)


def test_point_off_the_surface_maps_along_the_normal(arch, axial_ramp):
    pano = panoramic(axial_ramp, arch, pixel_mm=0.3, height_mm=20.0, offset_mm=1.0)
    s = 18.0
    point = arch.point(s) + 3.0 * arch.normal(s) + [0.0, 0.0, 2.0]
    row, col = pano.patient_to_pixel(point)
    assert pano.arc_position(col) == pytest.approx(s, abs=1e-6)
    assert pano.height(row) == pytest.approx(arch.level_mm + 2.0)
    assert pano.distance_from_surface(point) == pytest.approx(2.0)


@pytest.fixture(scope="module")
def ball_scene():
    """Air volume with two bright balls: one on the arch surface, one 3 mm buccal of it."""
    spacing = 0.4
    shape = (50, 120, 140)
    affine = affine_from_axes([-28.0, -24.0, -10.0], [1, 0, 0], [0, 1, 0], [0, 0, 1], (spacing,) * 3)
    arch = ArchCurve.from_points(arch_points(z=0.0))
    index = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    xyz = index * spacing + [-10.0, -24.0, -28.0]  # index (z, y, x) * spacing + origin (z, y, x)
    xyz = xyz[..., ::-1]
    on_surface = arch.point(15.0) + [0.0, 0.0, 4.0]
    buccal = arch.point(35.0) + 3.0 * arch.normal(35.0) + [0.0, 0.0, -3.0]
    voxels = np.zeros(shape, np.float32)
    voxels[np.linalg.norm(xyz - on_surface, axis=-1) < 1.2] = 1000.0
    voxels[np.linalg.norm(xyz - buccal, axis=-1) < 1.2] = 1000.0
    return Volume(voxels, (spacing,) * 3, affine), arch, on_surface, buccal


def brightest(image: np.ndarray) -> np.ndarray:
    """(row, col) centroid of the bright pixels."""
    return np.argwhere(image > 500.0).mean(axis=0)


def test_panoramic_shows_a_structure_at_its_row_and_column(ball_scene):
    volume, arch, on_surface, buccal = ball_scene
    thin = panoramic(volume, arch, pixel_mm=0.2, height_mm=16.0, centre_z_mm=0.0)
    assert np.allclose(brightest(thin.image), thin.patient_to_pixel(on_surface), atol=1.0)
    assert thin.patient_to_pixel(on_surface) == pytest.approx([(8.0 - 4.0) / 0.2 - 0.5, (15.0 - thin.start_mm) / 0.2])
    # the buccal ball is invisible on the thin surface but appears with a 7 mm slab or an offset
    near_buccal = tuple(np.round(thin.patient_to_pixel(buccal)).astype(int))
    assert thin.image[near_buccal] == 0.0
    slab = panoramic(volume, arch, pixel_mm=0.2, height_mm=16.0, centre_z_mm=0.0, slab_mm=7.0, slab_mode="max")
    assert slab.image[near_buccal] > 500.0
    shifted = panoramic(volume, arch, pixel_mm=0.2, height_mm=16.0, centre_z_mm=0.0, offset_mm=3.0)
    assert shifted.image[near_buccal] > 900.0


def test_cross_section_shows_a_structure_at_its_pixel(ball_scene):
    volume, arch, _, buccal = ball_scene
    section = cross_section(volume, arch, 35.0, width_mm=12.0, height_mm=12.0, pixel_mm=0.1, centre_z_mm=0.0)
    expected = section.patient_to_pixel(buccal)
    assert expected == pytest.approx([(6.0 + 3.0) / 0.1 - 0.5, (6.0 + 3.0) / 0.1 - 0.5])
    assert np.allclose(brightest(section.image), expected, atol=1.0)
    # slabs along the tangent: the mean dims the ball, the maximum keeps it
    mean = cross_section(volume, arch, 37.5, 12.0, 12.0, 0.1, slab_mm=6.0, centre_z_mm=0.0)
    mip = cross_section(volume, arch, 37.5, 12.0, 12.0, 0.1, slab_mm=6.0, centre_z_mm=0.0, slab_mode="max")
    thin = cross_section(volume, arch, 37.5, 12.0, 12.0, 0.1, centre_z_mm=0.0)
    assert thin.image.max() == 0.0 and 0.0 < mean.image.max() < 600.0 and mip.image.max() > 900.0


def test_outside_the_volume_is_background(ball_scene):
    volume, arch, _, _ = ball_scene
    above = cross_section(volume, arch, 10.0, 8.0, 8.0, 0.2, centre_z_mm=200.0, cval=-1000.0)
    assert np.all(above.image == -1000.0)
    tall = panoramic(volume, arch, pixel_mm=0.5, height_mm=60.0, centre_z_mm=0.0)
    assert np.all(tall.image[:5] == 0.0)  # default background: the volume minimum
    with pytest.raises(ValueError):
        panoramic(volume, arch, pixel_mm=0.5, slab_mode="median")
    with pytest.raises(ValueError):
        cross_section(volume, arch, 10.0, pixel_mm=0.0)
