"""The mandibular body in one horizontal slice: a U-shaped bone, open posteriorly, symmetric.

Below the teeth, every horizontal slice through the mandibular body cuts it as a horseshoe
band whose two arms run back from the chin. Nothing else in a head scan looks like that in a
horizontal slice: a vertebra is a ring around the spinal canal (or arches posteriorly), the
hyoid is a U less than ~45 mm across, the palate is a filled plate, the skull base a broad
sheet. :func:`arch_sections` measures each bone piece of a slice by the centre line of its
filled outline (:func:`~cbct_osteo.locate.skeleton.centre_line`) and keeps those that are a U:

* wide: its ends at least :data:`MIN_SPREAD_MM` apart across (a field of view that cuts the
  arms short needs only :data:`MIN_SPREAD_CUT_MM` when both ends touch its edge);
* deep: both ends at least :data:`MIN_DEPTH_MM` behind its most anterior point (the apex);
* symmetric: the apex lies across the middle third between the ends;
* open: its filled outline covers at most :data:`MAX_SOLIDITY` of its convex hull (a palate
  or a skull-base plate fills it);
* in front: no other bone lies more than :data:`FRONT_MARGIN_MM` in front of its apex between
  its ends (the spine and the atlas have the jaw or the maxilla in front of them).

Positions are (lateral, posterior) mm in the slice plane (:class:`~cbct_osteo.locate.grid.WorkingGrid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.morphology import convex_hull_image

from cbct_osteo.locate.grid import WorkingGrid
from cbct_osteo.locate.skeleton import centre_line

MIN_SPREAD_MM = 45.0
MIN_SPREAD_CUT_MM = 25.0
MIN_DEPTH_MM = 15.0
MIN_DEPTH_CUT_MM = 8.0
MAX_ASYMMETRY = 0.25
MAX_SOLIDITY = 0.6
FRONT_MARGIN_MM = 5.0
#: Bone in front of the apex (mm^2) tolerated: a metal pin, a calcified node, streaks.
MAX_FRONT_BONE_MM2 = 60.0
#: Pieces smaller than this (mm^2) are not examined.
MIN_AREA_MM2 = 60.0


@dataclass(eq=False)
class ArchSection:
    """A U-shaped bone piece in one working slice.

    Attributes
    ----------
    slice_index
        Working slice (0 = lowest).
    mask
        (rows, cols) bool: the piece in its slice.
    line_mm
        (M, 2) (lateral, posterior) mm of its centre line, from one end to the other.
    apex_mm
        (2,) its most anterior centre-line point.
    spread_mm, depth_mm, length_mm
        Distance across between the ends, depth of the ends behind the apex, centre-line length.
    truncated
        Whether both ends touch the edge of the field of view.
    """

    slice_index: int
    mask: np.ndarray
    line_mm: np.ndarray
    apex_mm: np.ndarray
    spread_mm: float
    depth_mm: float
    length_mm: float
    truncated: bool


def arch_sections(grid: WorkingGrid, slice_index: int) -> ArchSection | None:
    """The best U-shaped piece of one working slice (longest centre line), or ``None``."""
    bone = ndimage.binary_closing(grid.bone[slice_index], iterations=1)
    labels, count = ndimage.label(bone, structure=np.ones((3, 3), bool))
    if count == 0:
        return None
    areas = np.bincount(labels.ravel())[1:] * grid.pixel_area_mm2
    boxes = ndimage.find_objects(labels)
    best: ArchSection | None = None
    for label in np.flatnonzero(areas >= MIN_AREA_MM2) + 1:
        section = _examine(grid, slice_index, labels, int(label), boxes[label - 1])
        if section is not None and (best is None or section.length_mm > best.length_mm):
            best = section
    if best is not None and _bone_in_front(grid, slice_index, labels, best) > MAX_FRONT_BONE_MM2:
        return None
    return best


def _examine(
    grid: WorkingGrid, slice_index: int, labels: np.ndarray, label: int, box: tuple[slice, ...]
) -> ArchSection | None:
    rows, cols = labels.shape
    pad = 1
    r0, r1 = max(0, box[0].start - pad), min(rows, box[0].stop + pad)
    c0, c1 = max(0, box[1].start - pad), min(cols, box[1].stop + pad)
    piece = labels[r0:r1, c0:c1] == label
    extent = np.array([r1 - r0, c1 - c0]) * np.asarray(grid.pixel_mm)
    if extent.max() < MIN_SPREAD_CUT_MM:
        return None
    filled = ndimage.binary_fill_holes(piece)
    if filled.sum() > MAX_SOLIDITY * convex_hull_image(filled).sum():  # a plate, not a U (checked first: cheap)
        return None
    path = centre_line(filled)
    if len(path) < 4:
        return None
    line = grid.plane_mm(slice_index, path + [r0, c0])
    ends = line[[0, -1]]
    apex = line[int(np.argmin(line[:, 1]))]
    spread = float(abs(ends[0, 0] - ends[1, 0]))
    depth = float(min(ends[:, 1]) - apex[1])
    truncated = all(_touches_edge(p + [r0, c0], labels.shape) for p in (path[0], path[-1]))
    if spread < (MIN_SPREAD_CUT_MM if truncated else MIN_SPREAD_MM):
        return None
    if depth < (MIN_DEPTH_CUT_MM if truncated else MIN_DEPTH_MM):
        return None
    if abs(apex[0] - ends[:, 0].mean()) > MAX_ASYMMETRY * spread:
        return None
    mask = np.zeros(labels.shape, bool)
    mask[r0:r1, c0:c1] = piece
    length = float(np.sum(np.linalg.norm(np.diff(line, axis=0), axis=1)))
    return ArchSection(slice_index, mask, line, apex, spread, depth, length, truncated)


def _touches_edge(rc: np.ndarray, shape: tuple[int, int], margin: int = 2) -> bool:
    return bool(rc[0] < margin or rc[1] < margin or rc[0] >= shape[0] - margin or rc[1] >= shape[1] - margin)


def _bone_in_front(grid: WorkingGrid, slice_index: int, labels: np.ndarray, section: ArchSection) -> float:
    """Area (mm^2) of other bone in front of the section's apex, between its ends (across)."""
    others = (labels > 0) & ~section.mask
    rc = np.argwhere(others)
    if rc.size == 0:
        return 0.0
    where = grid.plane_mm(slice_index, rc)
    low, high = np.sort(section.line_mm[[0, -1], 0])
    ahead = (where[:, 1] < section.apex_mm[1] - FRONT_MARGIN_MM) & (where[:, 0] > low) & (where[:, 0] < high)
    return float(ahead.sum() * grid.pixel_area_mm2)
