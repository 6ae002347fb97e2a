"""An automatic first guess of the dental arch, for the user to correct.

Clicking 4-20 arch points is the first thing a user does on every scan; a good guess turns
it into a check. The guess follows the mandible, the largest bony structure in the lower
part of a dental CBCT:

1. work on a copy downsampled to about ``working_mm`` voxels (speed; the arch is tens of mm);
2. bone = voxels above the upper of two multi-Otsu thresholds (air | soft tissue | bone), or a
   given ``threshold``;
3. keep the largest 3D connected bone component in the lower ``lower_fraction`` of the volume
   (the mandibular body with its teeth);
4. project it along the vertical (a maximum-intensity projection of the mask), fill holes,
   and skeletonise: a horseshoe band becomes its centre line;
5. the longest path through the skeleton (two Dijkstra sweeps on the pixel graph) is the arch
   from one posterior end to the other; side branches (ramus, tooth roots) are dropped;
6. smooth it, replace the last half body-width at each end (where a skeleton forks into the
   corners of a blunt end) by a straight continuation, take ``n_points`` points evenly along it at the component's mean height, ordered
   from the patient's right (-x) to left (+x), and fit an :class:`ArchCurve` through them.

Limits: the ends are extrapolated over the last half body-width, a cervical
vertebra larger than the mandible in the lower slab would be chosen instead, and a scan
without a visible mandible raises. The user edits the returned points in any case.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import dijkstra
from skimage.filters import threshold_multiotsu
from skimage.morphology import skeletonize

from cbct_osteo.reformat.arch import ArchCurve, volume_up
from cbct_osteo.volume import Volume


def estimate_arch(
    volume: Volume,
    *,
    threshold: float | None = None,
    lower_fraction: float = 0.5,
    n_points: int = 12,
    working_mm: float = 0.8,
) -> ArchCurve:
    """Guess the dental arch from the bone of the lower part of the volume.

    Parameters
    ----------
    volume
        The scan; the vertical is :func:`volume_up`, and the voxel axis closest to it is
        projected along.
    threshold
        Bone threshold in the volume's gray values; default: multi-Otsu (3 classes).
    lower_fraction
        Fraction (0-1] of the vertical extent, from the bottom, searched for the mandible.
    n_points
        Number of arch points returned (>= 4).
    working_mm
        Approximate voxel size (mm) of the downsampled working copy.

    Returns
    -------
    ArchCurve
        Through ``n_points`` points in the mandible's mean height plane, first point at the
        patient's right.

    Raises
    ------
    ValueError
        When no bone structure with an arch-like centre line is found.
    """
    if not 0 < lower_fraction <= 1:
        raise ValueError(f"lower_fraction must be in (0, 1], got {lower_fraction}")
    if n_points < 4:
        raise ValueError(f"n_points must be at least 4, got {n_points}")
    up = volume_up(volume)
    directions = volume.axis_directions()
    axis = int(np.argmax(np.abs(directions @ up)))
    stride = np.maximum(1, np.round(working_mm / np.asarray(volume.spacing)).astype(int))
    small = volume.voxels[:: stride[0], :: stride[1], :: stride[2]]

    # keep the lower part: heights of the working slices along the projected axis
    step = volume.affine[:3, axis] @ up * stride[axis]
    heights = np.arange(small.shape[axis]) * step
    cut = heights.min() + lower_fraction * (heights.max() - heights.min())
    lower = np.flatnonzero(heights <= cut + 1e-9)
    slab = np.take(small, lower, axis=axis)

    if threshold is None:
        threshold = float(threshold_multiotsu(np.asarray(small, dtype=np.float32), classes=3)[-1])
    bone = ndimage.binary_opening(slab > threshold)
    labels, count = ndimage.label(bone)
    if count == 0:
        raise ValueError(f"no bone above gray value {threshold:.1f} in the lower part of the volume")
    sizes = np.bincount(labels.ravel())[1:]
    mandible = labels == (int(np.argmax(sizes)) + 1)

    footprint = ndimage.binary_fill_holes(ndimage.binary_closing(mandible.any(axis=axis), iterations=2))
    path = _longest_skeleton_path(skeletonize(footprint))
    if len(path) < 8:
        raise ValueError("the largest bone structure in the lower volume has no arch-like centre line")
    pixel_mm = np.delete(np.asarray(volume.spacing) * stride, axis)  # working pixel size in the plane
    half_width = float(np.median(ndimage.distance_transform_edt(footprint, sampling=pixel_mm)[tuple(path.T)]))
    path_mm = ndimage.gaussian_filter1d(path * pixel_mm, sigma=3.0, axis=0, mode="nearest")
    path_mm = _straighten_ends(path_mm, half_width)
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_mm, axis=0), axis=1))])
    picks = np.linspace(0.0, along[-1], n_points)
    plane = np.column_stack([np.interp(picks, along, path_mm[:, k]) for k in range(2)]) / pixel_mm

    level = float(np.mean(np.nonzero(mandible)[axis]))
    index = np.insert(plane, axis, level, axis=1)  # working-copy indices (z, y, x)
    index[:, axis] = lower[0] + index[:, axis]
    points = volume.index_to_patient(index * stride)
    if points[0, 0] > points[-1, 0]:
        points = points[::-1]
    return ArchCurve.from_points(points, up=up)


def _straighten_ends(path_mm: np.ndarray, half_width_mm: float) -> np.ndarray:
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
    for tip, inner in ((core[0], np.interp(core_along[0] + half_width_mm, core_along, np.arange(len(core)))),
                       (core[-1], np.interp(core_along[-1] - half_width_mm, core_along, np.arange(len(core))))):
        reference = np.array([np.interp(inner, np.arange(len(core)), core[:, k]) for k in range(2)])
        direction = (tip - reference) / np.linalg.norm(tip - reference)
        ends.append(tip + half_width_mm * direction)
    return np.vstack([ends[0], core, ends[1]])


def _longest_skeleton_path(skeleton: np.ndarray) -> np.ndarray:
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
    first = dijkstra(graph, directed=False, indices=start)
    end_a = int(np.argmax(np.where(np.isfinite(first), first, -1)))
    second, predecessors = dijkstra(graph, directed=False, indices=end_a, return_predecessors=True)
    end_b = int(np.argmax(np.where(np.isfinite(second), second, -1)))
    order = [end_b]
    while order[-1] != end_a:
        order.append(int(predecessors[order[-1]]))
    return coords[np.asarray(order[::-1])]
