"""The report's cross-sections draw what S and I were checked against: the foramen walls the image shows."""

from __future__ import annotations

import copy

import numpy as np

from cbct_osteo.report import report_figures
from cbct_osteo.report.content import image_wall_points
from cbct_osteo.report.figures import IMAGE_WALL_COLOUR


def _wall_pixels(figure) -> int:
    pixels = np.asarray(figure.image.convert("RGB"))
    return int(np.all(pixels == np.array(IMAGE_WALL_COLOUR), axis=-1).sum())


def test_the_foramen_walls_of_the_margin_check_are_drawn_on_the_cross_sections(phantom_case):
    document = phantom_case.result.to_json()
    for side in ("right", "left"):
        walls = image_wall_points(document, side)
        assert len(walls) == 2, (side, walls)  # the phantom's foramen lumen is seen at both margins
        for wall, kind in zip(walls, ("foramen_superior", "foramen_inferior"), strict=True):
            placed = np.asarray(phantom_case.landmarks.point(side, kind))
            assert np.linalg.norm(np.asarray(wall) - placed) < 1.0, (side, kind)  # near the click it checks
    drawn = report_figures(document, phantom_case.volume, phantom_case.landmarks)
    without = copy.deepcopy(document)
    for side in ("right", "left"):
        for mid in ("S", "I"):
            without["sides"][side]["measurements"][mid]["details"]["margin_check"]["image_wall_mm"] = None
    plain = report_figures(without, phantom_case.volume, phantom_case.landmarks)
    for with_walls, no_walls in zip(drawn[1:], plain[1:], strict=True):  # the two cross-sections
        assert _wall_pixels(with_walls) > 20 and _wall_pixels(no_walls) == 0
