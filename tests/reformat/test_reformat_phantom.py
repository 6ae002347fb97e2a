"""Reformats against the project phantom's exact anatomy."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo import phantom
from cbct_osteo.reformat import ArchCurve, cross_section, estimate_arch, panoramic

SIDES = ("left", "right")


@pytest.fixture(scope="module")
def case():
    """Small clean phantom (0.5 mm voxels, ~0.8 s): ideal edges, exact truth."""
    return phantom.make_phantom(shape=(80, 200, 200), voxel_mm=0.5, clean=True)


@pytest.fixture(scope="module")
def truth_arch(case) -> ArchCurve:
    return ArchCurve.from_points(case.truth["phantom"]["arch"]["points"])


def test_arch_through_the_truth_points_finds_the_foramina_arc_positions(case, truth_arch):
    for side in SIDES:
        foramen = case.truth["phantom"]["foramina"][side]
        s = truth_arch.closest_arc_position(foramen["centre"])
        assert s == pytest.approx(foramen["s_mm"], abs=0.02)
        # the foramen centre landmark lies buccal of the arch (in the buccal plate)
        assert np.dot(np.asarray(foramen["centre"]) - truth_arch.point(s), truth_arch.normal(s)) > 1.0


@pytest.mark.parametrize("side", SIDES)
def test_cross_section_at_the_foramen_shows_border_cortex_and_foramen_where_the_truth_is(case, truth_arch, side):
    grays = case.truth["phantom"]["gray_levels"]
    points = case.landmarks.sides[side].points
    s = truth_arch.closest_arc_position(points["foramen_centre"])
    section = cross_section(case.volume, truth_arch, s, 30.0, 30.0, 0.1, centre_z_mm=-5.0)

    def value_at(xyz, dz=0.0):
        row, col = section.patient_to_pixel(np.asarray(xyz) + [0.0, 0.0, dz])
        return float(section.image[int(round(row)), int(round(col))])

    assert value_at(points["border_outer"], -1.0) == pytest.approx(grays["soft_tissue"], abs=50)
    assert value_at(points["border_outer"], +0.6) == pytest.approx(grays["cortical_bone"], abs=100)
    soft, cortex = grays["soft_tissue"], grays["cortical_bone"]
    assert soft + 0.25 * (cortex - soft) < value_at(points["border_outer"]) < soft + 0.75 * (cortex - soft)
    assert value_at(points["foramen_centre"]) < 0.3 * cortex  # a soft-tissue hole in the bone


def test_panoramic_through_the_foramen_shows_it_as_a_hole(case, truth_arch):
    points = case.landmarks.sides["left"].points
    s = truth_arch.closest_arc_position(points["foramen_centre"])
    offset = float(np.dot(np.asarray(points["foramen_centre"]) - truth_arch.point(s), truth_arch.normal(s)))
    pano = panoramic(case.volume, truth_arch, pixel_mm=0.25, offset_mm=offset)
    row, col = np.round(pano.patient_to_pixel(points["foramen_centre"])).astype(int)
    below = int(round(row + 2.5 / 0.25))  # 2.5 mm lower: bone under the foramen
    assert pano.image[row, col] < 0.3 * pano.image[below, col]


def test_estimated_arch_follows_the_phantom_mandible(case, truth_arch):
    estimate = estimate_arch(case.volume)
    points = estimate.sample(0.5)
    nearest = truth_arch.point(truth_arch.closest_arc_position(points))
    distance = np.linalg.norm((points - nearest)[:, :2], axis=1)
    assert distance.mean() < 0.4 and distance.max() < 1.5
    assert estimate.length_mm > 0.85 * truth_arch.length_mm
