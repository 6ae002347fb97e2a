"""The locator against the phantom's true geometry, in every storage order and field of view."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.locate import bone_threshold, cached_location, locate_mandible, sub_volume
from cbct_osteo.reformat import ArchCurve
from cbct_osteo.volume import Volume


@pytest.fixture(scope="module")
def phantom(small_phantom_noisy):
    return small_phantom_noisy


@pytest.fixture(scope="module")
def truth_arch(phantom):
    return ArchCurve.from_points(phantom.truth["phantom"]["arch"]["points"])


def distances_to(arch: ArchCurve, points: np.ndarray) -> np.ndarray:
    nearest = arch.point(arch.closest_arc_position(points))
    return np.linalg.norm((points - nearest)[:, :2], axis=1)


def test_the_phantom_mandible_is_found_where_it_is(phantom, truth_arch):
    location = locate_mandible(phantom.volume)
    assert location.found, location.reason
    located = ArchCurve.from_points(location.arch_points_mm)
    assert distances_to(truth_arch, located.sample(0.5)).mean() < 0.5
    assert located.length_mm > 0.85 * truth_arch.length_mm
    low, high = location.bbox_mm
    border = phantom.truth["phantom"]["inferior_border_z_mm"]
    assert low[2] <= border + 0.5 and low[2] > border - 3.0  # down to the inferior border, not far beyond
    every_landmark = [p for side in phantom.landmarks.sides.values() for p in side.points.values()]
    assert np.all(np.asarray(every_landmark) >= low) and np.all(np.asarray(every_landmark) <= high)


def reversed_slices(volume: Volume) -> Volume:
    """The same scan stored top slice first."""
    affine = volume.affine.copy()
    affine[:3, 3] = volume.index_to_patient([volume.shape[0] - 1, 0, 0])
    affine[:3, 0] = -affine[:3, 0]
    return Volume(np.ascontiguousarray(volume.voxels[::-1]), volume.spacing, affine, volume.meta)


def coronal_slices(volume: Volume) -> Volume:
    """The same scan stored as coronal slices (voxel axes y, z, x)."""
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = volume.affine[:3, 1], volume.affine[:3, 0], volume.affine[:3, 2]
    affine[:3, 3] = volume.affine[:3, 3]
    spacing = (volume.spacing[1], volume.spacing[0], volume.spacing[2])
    return Volume(np.ascontiguousarray(np.transpose(volume.voxels, (1, 0, 2))), spacing, affine, volume.meta)


@pytest.mark.parametrize("stored", [reversed_slices, coronal_slices])
def test_the_storage_order_does_not_matter(phantom, stored):
    plain = locate_mandible(phantom.volume)
    other = locate_mandible(stored(phantom.volume))
    assert other.found
    assert np.allclose(other.bbox_mm, plain.bbox_mm, atol=1.5)
    assert np.allclose(other.arch_points_mm, plain.arch_points_mm, atol=1.0)


def test_a_small_field_of_view_with_the_front_of_the_mandible(phantom, truth_arch):
    volume = phantom.volume
    first, last = volume.patient_to_index([[-30.0, -30.0, 0.0], [30.0, 12.0, 0.0]]).astype(int)
    small = sub_volume(volume, (slice(None), slice(first[1], last[1]), slice(first[2], last[2])))  # 60 x 42 mm
    location = locate_mandible(small)
    assert location.found, location.reason
    assert distances_to(truth_arch, ArchCurve.from_points(location.arch_points_mm).sample(0.5)).mean() < 1.0


def test_a_scan_starting_inside_the_body_has_no_lower_border(phantom):
    start = int(phantom.volume.patient_to_index([0.0, 0.0, -5.0])[0])
    location = locate_mandible(sub_volume(phantom.volume, (slice(start, None), slice(None), slice(None))))
    assert not location.found and "lower border" in location.reason


def test_a_scan_without_bone_says_so():
    empty = Volume(np.zeros((30, 40, 40), np.float32), (1.0, 1.0, 1.0), np.eye(4))
    location = locate_mandible(empty, threshold=100.0)
    assert not location.found and "no bone" in location.reason


def test_the_cache_answers_once_per_volume_object(phantom):
    first = cached_location(phantom.volume)
    assert cached_location(phantom.volume) is first
    copy = Volume(phantom.volume.voxels, phantom.volume.spacing, phantom.volume.affine, phantom.volume.meta)
    assert cached_location(copy) is not first


def test_bone_threshold_is_fixed_in_hu_and_from_the_histogram_otherwise(phantom):
    from dataclasses import replace

    from cbct_osteo.locate import HU_BONE

    gray = bone_threshold(phantom.volume)
    levels = phantom.truth["phantom"]["gray_levels"]
    assert levels["soft_tissue"] < gray < levels["cortical_bone"], levels
    true_hu = Volume(
        np.clip(phantom.volume.voxels * 0.25, -1000, None),
        phantom.volume.spacing,
        phantom.volume.affine,
        replace(phantom.volume.meta, units="HU"),
    )  # soft tissue ~110, cortex ~640
    assert bone_threshold(true_hu) == HU_BONE
    # labelled HU but not on the HU scale (soft tissue at 430 "HU"): the histogram rule, not 400
    mislabelled = Volume(
        phantom.volume.voxels, phantom.volume.spacing, phantom.volume.affine, replace(phantom.volume.meta, units="HU")
    )
    assert bone_threshold(mislabelled) == pytest.approx(gray)


def with_neighbours(volume: Volume, cortical: float, soft: float) -> Volume:
    """The phantom with what a larger field of view holds around a mandible: 30 mm more below it,
    a hyoid there (a 36 mm wide, 10 mm tall U of bone, open posteriorly, like the mandible but smaller), a
    cervical vertebra behind the jaw (a bone ring round the canal, all the way up) and a couch
    under the head (a bone-bright plate behind everything)."""
    pad = int(round(30.0 / volume.spacing[0]))
    voxels = np.concatenate([np.full((pad, *volume.shape[1:]), soft, np.float32), volume.voxels.astype(np.float32)])
    affine = volume.affine.copy()
    affine[:3, 3] = volume.index_to_patient([-pad, 0, 0])
    grown = Volume(voxels, volume.spacing, affine, volume.meta)
    rows, cols = volume.shape[1:]
    plane = grown.index_to_patient(np.column_stack([np.zeros(rows * cols), *np.indices((rows, cols)).reshape(2, -1)]))
    x, y = plane[:, 0].reshape(rows, cols), plane[:, 1].reshape(rows, cols)
    hyoid_centre = np.hypot(x / 18.0, (y - 2.0) / 22.0)  # a half ellipse 36 mm across, 22 mm deep
    hyoid = (np.abs(hyoid_centre - 1.0) < 0.12) & (y < 2.0)
    ring = np.abs(np.hypot(x, y - 42.0) - 7.5) < 2.5
    couch = np.abs(y - 50.0) < 1.5
    z = grown.index_to_patient(np.column_stack([np.arange(len(voxels)), np.zeros((len(voxels), 2))]))[:, 2]
    for k, height in enumerate(z):
        if -42.0 < height < -32.0:  # 10 mm tall: a stack of U sections like a body
            voxels[k][hyoid] = cortical
        voxels[k][ring | couch] = cortical
    return grown


def test_the_mandible_is_chosen_over_hyoid_spine_and_couch(phantom, truth_arch):
    levels = phantom.truth["phantom"]["gray_levels"]
    volume = with_neighbours(phantom.volume, levels["cortical_bone"], levels["soft_tissue"])
    location = locate_mandible(volume)
    assert location.found, location.reason
    located = ArchCurve.from_points(location.arch_points_mm)
    assert distances_to(truth_arch, located.sample(0.5)).mean() < 0.5
    low, high = location.bbox_mm
    assert low[2] > -30.0  # not down to the hyoid
    assert high[1] < 42.0 - 10.0 + 1.0  # in front of the vertebra's ring
