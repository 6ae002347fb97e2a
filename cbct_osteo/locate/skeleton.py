"""The centre line of a band-shaped 2D mask: the longest path through its skeleton.

A horseshoe band (a mandible in an axial slice, or its projection) skeletonises to its centre
line plus short side branches (tooth roots, a ramus, corners of blunt ends); the longest of
the shortest paths through the skeleton graph is the centre line from one end to the other.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from skimage.morphology import skeletonize


def centre_line(mask: np.ndarray) -> np.ndarray:
    """Pixel coordinates (M, 2) of the longest path through the skeleton of a 2D ``mask``."""
    return longest_skeleton_path(skeletonize(mask))


def longest_skeleton_path(skeleton: np.ndarray) -> np.ndarray:
    """Pixel coordinates (M, 2) of the longest shortest path in a 2D skeleton (8-connected)."""
    coords = np.argwhere(skeleton)
    if len(coords) < 2:
        return coords
    lookup = -np.ones(skeleton.shape, dtype=np.int64)
    lookup[tuple(coords.T)] = np.arange(len(coords))
    padded = np.pad(lookup, 1, constant_values=-1)
    rows, cols, weights = [], [], []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
        neighbour = padded[coords[:, 0] + 1 + dr, coords[:, 1] + 1 + dc]
        linked = neighbour >= 0
        rows.append(np.flatnonzero(linked))
        cols.append(neighbour[linked])
        weights.append(np.full(int(linked.sum()), np.hypot(dr, dc)))
    graph = sparse.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(len(coords),) * 2
    ).tocsr()
    # start inside the biggest skeleton piece, then two sweeps find the graph's longest path
    _, piece = sparse.csgraph.connected_components(graph, directed=False)
    start = int(np.flatnonzero(piece == np.argmax(np.bincount(piece)))[0])
    # a list of one start node (the stubs type ``indices`` as array-like only): row 0 of the result
    first = dijkstra(graph, directed=False, indices=[start])[0]
    end_a = int(np.argmax(np.where(np.isfinite(first), first, -1)))
    distances, predecessor_rows = dijkstra(graph, directed=False, indices=[end_a], return_predecessors=True)
    second, predecessors = distances[0], predecessor_rows[0]
    end_b = int(np.argmax(np.where(np.isfinite(second), second, -1)))
    order = [end_b]
    while order[-1] != end_a:
        order.append(int(predecessors[order[-1]]))
    path: npt.NDArray[np.intp] = coords[np.asarray(order[::-1])]
    return path


def straighten_ends(path_mm: np.ndarray, half_width_mm: float) -> np.ndarray:
    """Replace the last ``half_width_mm`` of each end by a straight continuation of the path.

    A skeleton forks into the corners of a blunt end, so its last half body-width bends
    sideways; the path a half-width further in still runs along the body, and continuing it
    straight restores the length without the bend.
    """
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_mm, axis=0), axis=1))])
    if along[-1] < 6 * half_width_mm or half_width_mm <= 0:
        return path_mm
    keep = (along >= half_width_mm) & (along <= along[-1] - half_width_mm)
    core, core_along = path_mm[keep], along[keep]
    ends = []
    for tip, inner in (
        (core[0], np.interp(core_along[0] + half_width_mm, core_along, np.arange(len(core)))),
        (core[-1], np.interp(core_along[-1] - half_width_mm, core_along, np.arange(len(core)))),
    ):
        reference = np.array([np.interp(inner, np.arange(len(core)), core[:, k]) for k in range(2)])
        direction = (tip - reference) / np.linalg.norm(tip - reference)
        ends.append(tip + half_width_mm * direction)
    return np.vstack([ends[0], core, ends[1]])
