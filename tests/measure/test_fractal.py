"""Box counting on exact fractals, and White & Rudolph's pipeline on simple textures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cbct_osteo.measure.fractal import (
    box_counting_dimension,
    count_boxes,
    default_box_sizes,
    white_rudolph_dimension,
    white_rudolph_skeleton,
)


def sierpinski_carpet(level: int) -> np.ndarray:
    carpet = np.ones((1, 1), bool)
    for _ in range(level):
        hole = np.zeros_like(carpet)
        carpet = np.block([[carpet, carpet, carpet], [carpet, hole, carpet], [carpet, carpet, carpet]])
    return carpet


@pytest.mark.parametrize("level", [4, 5])
def test_sierpinski_carpet_default_sizes(level):
    fit = box_counting_dimension(sierpinski_carpet(level))
    assert fit.dimension == pytest.approx(math.log(8) / math.log(3), abs=0.02)
    assert fit.sizes[0] == 2 and fit.sizes[-1] == 3**level // 4


def test_sierpinski_carpet_self_similar_sizes_is_exact():
    fit = box_counting_dimension(sierpinski_carpet(5), sizes=(3, 9, 27, 81))
    assert fit.counts == (4096, 512, 64, 8)
    assert fit.dimension == pytest.approx(math.log(8) / math.log(3), abs=1e-9)
    assert fit.r_squared == pytest.approx(1.0)


@pytest.mark.parametrize("n", [50, 101, 240])
def test_filled_square_is_two_and_line_is_one(n):
    assert box_counting_dimension(np.ones((n, n), bool)).dimension == pytest.approx(2.0, abs=0.02)
    line = np.zeros((n, n), bool)
    line[n // 3, :] = True
    assert box_counting_dimension(line).dimension == pytest.approx(1.0, abs=0.02)
    assert box_counting_dimension(np.eye(n, dtype=bool)).dimension == pytest.approx(1.0, abs=0.02)


def test_filled_cube_is_three():
    fit = box_counting_dimension(np.ones((40, 40, 40), bool))
    assert fit.dimension == pytest.approx(3.0, abs=0.02)


def test_partial_edge_boxes_count_by_their_inside_fraction():
    mask = np.ones((10, 10), bool)
    assert count_boxes(mask, 4) == pytest.approx((10 / 4) ** 2)
    assert count_boxes(mask, 5) == 4


def test_default_sizes_run_to_a_quarter_of_the_roi():
    assert default_box_sizes((50, 60)) == tuple(range(2, 13))


def test_empty_set_is_refused():
    with pytest.raises(ValueError, match="non-empty"):
        box_counting_dimension(np.zeros((20, 20), bool))


def test_white_rudolph_ignores_uncalibrated_gray_scale():
    """CBCT gray values are not calibrated: offset and contrast must not change FD."""
    rng = np.random.default_rng(3)
    from scipy import ndimage

    texture = ndimage.gaussian_filter(rng.standard_normal((60, 60)), 2.0)
    base = white_rudolph_dimension(texture * 100 + 500)
    other_scanner = white_rudolph_dimension(texture * 250 - 1000)
    assert other_scanner.dimension == pytest.approx(base.dimension, abs=1e-9)
    assert 1.0 < base.dimension < 2.0


def test_white_rudolph_skeleton_is_thin_and_masked():
    rng = np.random.default_rng(4)
    from scipy import ndimage

    texture = ndimage.gaussian_filter(rng.standard_normal((50, 50)), 2.0)
    yy, xx = np.mgrid[:50, :50]
    disc = (yy - 24.5) ** 2 + (xx - 24.5) ** 2 <= 20**2
    skeleton = white_rudolph_skeleton(texture, mask=disc)
    assert skeleton.any() and not skeleton[~disc].any()
    assert skeleton.mean() < 0.3  # a skeleton, not a filled region
