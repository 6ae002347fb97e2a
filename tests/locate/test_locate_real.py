"""The locator on real scans: a head CT with mandible, spine and skull base; two without a mandibular body."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cbct_osteo import load
from cbct_osteo.locate import locate_mandible
from cbct_osteo.reformat import ArchCurve

#: The dental arch through the mandibular body of the real head CT, placed by hand on the axial
#: slice at z = -189.5 mm (index 82, a 2.5 mm MIP) along the middle of the bone band, patient's
#: right first, and checked by eye on a PNG of that slice. Picked as (column, row) pixels (140, 230),
#: (152, 195), (168, 160), (196, 125), (235, 101), (277, 122), (303, 155), (322, 195), (340, 225) and
#: converted with the series' geometry (x = -125.2 + 0.489 col, y = -53.54 + 0.489 row).
HAND_ARCH_MM = np.array(
    [
        [-56.7, 58.9, -189.5],
        [-50.9, 41.8, -189.5],
        [-43.0, 24.7, -189.5],
        [-29.3, 7.6, -189.5],
        [-10.3, -4.1, -189.5],
        [10.3, 6.1, -189.5],
        [23.0, 22.3, -189.5],
        [32.3, 41.8, -189.5],
        [41.1, 56.5, -189.5],
    ]
)
#: The C2/C3 vertebral body at the same level, placed by hand: it must stay outside the mandible's box.
VERTEBRA_MM = np.array([-10.3, 93.2, -189.5])
#: The chin's lowest bone (by eye on the sagittal MIP) is below this height: the box must reach it.
CHIN_BELOW_MM = -205.0


@pytest.fixture(scope="module")
def location(real_head_ct):
    return locate_mandible(real_head_ct)


def arch_agreement(located: np.ndarray, hand: ArchCurve) -> tuple[float, float]:
    """Median horizontal distance (mm) of the located arch from the hand arch, and the share of the
    hand arch's length that the located arch runs along (within 5 mm)."""
    points = ArchCurve.from_points(located).sample(0.5)
    s = hand.closest_arc_position(points)
    distance = np.linalg.norm((points - hand.point(s))[:, :2], axis=1)
    near = s[distance <= 5.0]
    covered = np.unique(np.floor(near))  # 1 mm bins of the hand arch that the located arch runs along
    return float(np.median(distance)), len(covered) / hand.length_mm


def test_the_real_head_ct_mandible_is_found_with_its_arch(location):
    assert location.found, location.reason
    hand = ArchCurve.from_points(HAND_ARCH_MM)
    median, coverage = arch_agreement(location.arch_points_mm, hand)
    assert median <= 5.0 and coverage >= 0.7, (median, coverage)
    assert median <= 2.0 and coverage >= 0.9  # what it does today (1.6 mm, all of it): a drop is a regression
    assert location.arch_points_mm[0, 0] < location.arch_points_mm[-1, 0]  # patient's right first
    assert -205.0 < location.body_level_mm < -180.0  # within the mandibular body (by eye: -214 .. -180 mm)


def test_the_box_holds_the_mandible_and_not_the_spine(location):
    low, high = location.bbox_mm
    assert np.all(low <= HAND_ARCH_MM) and np.all(high >= HAND_ARCH_MM)
    assert low[2] < CHIN_BELOW_MM
    assert not (np.all(low <= VERTEBRA_MM) and np.all(high >= VERTEBRA_MM))
    assert high[0] - low[0] < 140.0 and high[1] - low[1] < 120.0  # a jaw, not the head


def test_the_crop_holds_the_box(location, real_head_ct):
    index = real_head_ct.patient_to_index(location.bbox_mm)
    for axis, part in enumerate(location.crop):
        assert part.start <= index[:, axis].min() and index[:, axis].max() <= part.stop


def test_locating_takes_about_a_second(real_head_ct):
    start = time.perf_counter()
    locate_mandible(real_head_ct)
    assert time.perf_counter() - start < 3.0  # ~0.5 s here; benchmarks/locate.py has the numbers


@pytest.mark.parametrize("scan", ["head_ct_gantry_tilt_ge", "skull_ct_medimodel_dicomdir/DICOMDIR"])
def test_scans_without_a_mandibular_body_say_so(shared_data, scan):
    location = locate_mandible(load(shared_data / "real_volumes" / scan))
    assert not location.found
    assert "mandibular body is not in the scan" in location.reason
    assert location.bbox_mm is None and location.arch_points_mm is None and location.crop is None


def test_a_scan_that_starts_inside_the_body_has_no_lower_border(real_head_ct):
    from cbct_osteo.locate import sub_volume

    start = int(round((-200.0 + 230.5) / 0.5))  # z = -200 mm: through the body, below the arch
    location = locate_mandible(sub_volume(real_head_ct, (slice(start, None), slice(None), slice(None))))
    assert not location.found and "lower border" in location.reason


def test_a_scan_of_the_upper_head_only_has_no_mandible(real_head_ct):
    from cbct_osteo.locate import sub_volume

    start = int(round((-160.0 + 230.5) / 0.5))  # z = -160 mm: maxilla, rami, spine and skull base
    location = locate_mandible(sub_volume(real_head_ct, (slice(start, None), slice(None), slice(None))))
    assert not location.found


def test_a_scan_cutting_through_the_chin_has_no_lower_border(real_head_ct):
    """Starting 3 mm above the chin's lowest bone, the lowest slice holds chin bone that is not yet U-shaped."""
    from cbct_osteo.locate import sub_volume

    start = int(round((-211.5 + 230.5) / 0.5))
    location = locate_mandible(sub_volume(real_head_ct, (slice(start, None), slice(None), slice(None))))
    assert not location.found and "lower border" in location.reason
