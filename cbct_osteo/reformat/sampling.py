"""Interpolating a Volume at patient points, fast enough to scrub reformats interactively.

Conventions shared by every reformat:

* Points are patient LPS mm in (x, y, z) order; the volume's inverse affine turns them into
  fractional voxel indices (z, y, x), whatever the volume's orientation.
* A point is inside the volume when each fractional index lies in ``[0, n - 1]`` (the centres
  of the edge voxels). Outside points get the background value: ``cval`` if given, otherwise
  the volume's minimum (air), so a reformat running off the scan shows black, not a smear.
* ``order`` 0 = nearest, 1 = trilinear (default), 3 = cubic B-spline.

Reformats here are "vertical extrusions": a set of horizontal sample positions (one column of
the image, possibly several across a slab) repeated at every row height along the volume's
up direction. When the volume's slice axis is that up direction and its rows/columns are
horizontal (every axial CBCT), trilinear sampling separates exactly into a bilinear in-plane
weighting, identical for every slice, and a linear interpolation between slices. The in-plane
part is then one sparse matrix (columns x touched voxels) applied to all slices at once, which
is what makes a 1200 x 500 panoramic with a 5 mm slab cost tens of milliseconds instead of
the second a general ``map_coordinates`` call needs. Other geometries and cubic interpolation
fall back to ``scipy.ndimage.map_coordinates``.
"""

from __future__ import annotations

import weakref
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage, sparse

from cbct_osteo.volume import Volume

#: The spline orders the reformats use: 0 nearest, 1 (tri)linear, 3 cubic B-spline.
SplineOrder = Literal[0, 1, 3]
#: Interpolation names accepted by the reformat functions, and their spline orders.
INTERPOLATION_ORDERS: dict[str, SplineOrder] = {"nearest": 0, "linear": 1, "cubic": 3}
_ORDER_BY_NUMBER: dict[int, SplineOrder] = {order: order for order in INTERPOLATION_ORDERS.values()}
#: Tolerance (in voxels) on the inside test, so points on the edge voxel centres count as inside.
_EDGE_TOLERANCE = 1e-6
#: Extra voxels around the sampled region when prefiltering a block for cubic interpolation;
#: the B-spline prefilter's influence decays as 0.268**k, so 8 voxels leave < 3e-5 of an edge.
_CUBIC_MARGIN = 8
#: Points per map_coordinates call in the general path (bounds temporary memory).
_CHUNK_POINTS = 2_000_000

_background_cache: dict[int, tuple[weakref.ref[np.ndarray], float]] = {}


def interpolation_order(interpolation: str | int) -> SplineOrder:
    """Spline order for an interpolation name (``"nearest"``, ``"linear"``, ``"cubic"``) or order."""
    if isinstance(interpolation, (int, np.integer)) and int(interpolation) in _ORDER_BY_NUMBER:
        return _ORDER_BY_NUMBER[int(interpolation)]
    try:
        return INTERPOLATION_ORDERS[str(interpolation)]
    except KeyError:
        raise ValueError(
            f"interpolation must be one of {sorted(INTERPOLATION_ORDERS)} (or order 0, 1, 3), got {interpolation!r}"
        ) from None


def background_value(volume: Volume) -> float:
    """The volume's minimum gray value, the default for samples outside the volume.

    Cached per voxel array (a full scan of 640 MB takes ~100 ms, far too slow to repeat for
    every frame). Voxel arrays are treated as immutable, as everywhere in the program.
    """
    voxels = volume.voxels
    key = id(voxels)
    cached = _background_cache.get(key)
    if cached is not None and cached[0]() is voxels:
        return cached[1]
    value = float(np.min(voxels))

    def forget(_ref: weakref.ref[np.ndarray], k: int = key) -> None:
        _background_cache.pop(k, None)

    _background_cache[key] = (weakref.ref(voxels, forget), value)
    return value


def _resolve_cval(volume: Volume, cval: float | None) -> float:
    return background_value(volume) if cval is None else float(cval)


def _inverse_affine(volume: Volume) -> np.ndarray:
    """(3, 4) matrix mapping patient (x, y, z, 1) to fractional voxel indices (z, y, x)."""
    inverse: np.ndarray = np.linalg.inv(volume.affine)[:3]
    return inverse


def sample_points(volume: Volume, xyz: ArrayLike, order: int | str = 1, cval: float | None = None) -> np.ndarray:
    """Gray values at arbitrary patient points.

    Parameters
    ----------
    volume
        The volume (any orientation: its affine is inverted, not assumed axis-aligned).
    xyz
        Points (..., 3) in patient LPS mm, (x, y, z) order.
    order
        0 nearest, 1 trilinear (default), 3 cubic B-spline; or ``"nearest"``, ``"linear"``, ``"cubic"``.
    cval
        Value for points outside the volume; default the volume's minimum.

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``xyz.shape[:-1]``.

    Notes
    -----
    Cubic interpolation prefilters only the block of voxels the points touch (plus a margin of
    8 voxels), not the whole volume, so it stays usable on a 640 MB scan.
    """
    spline_order = interpolation_order(order)
    pts = np.asarray(xyz, dtype=float)
    if pts.shape[-1] != 3:
        raise ValueError(f"points must have shape (..., 3), got {pts.shape}")
    background = _resolve_cval(volume, cval)
    inverse = _inverse_affine(volume)
    flat = pts.reshape(-1, 3)
    out = np.full(len(flat), background, dtype=np.float32)
    for start in range(0, len(flat), _CHUNK_POINTS):
        chunk = flat[start : start + _CHUNK_POINTS]
        index = chunk @ inverse[:, :3].T + inverse[:, 3]
        inside = _inside(index, volume.shape)
        if np.any(inside):
            out[start : start + len(chunk)][inside] = _interpolate(volume.voxels, index[inside], spline_order)
    return out.reshape(pts.shape[:-1])


def _inside(index: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    upper = np.asarray(shape, dtype=float) - 1 + _EDGE_TOLERANCE
    inside: np.ndarray = np.all((index >= -_EDGE_TOLERANCE) & (index <= upper), axis=1)
    return inside


def _interpolate(voxels: np.ndarray, index: np.ndarray, order: SplineOrder) -> np.ndarray:
    """Interpolate at fractional indices (M, 3) that are all inside the volume."""
    if order <= 1:
        return ndimage.map_coordinates(voxels, index.T, order=order, mode="nearest", output=np.float32)
    low = np.maximum(np.floor(index.min(axis=0)).astype(int) - _CUBIC_MARGIN, 0)
    high = np.minimum(np.ceil(index.max(axis=0)).astype(int) + _CUBIC_MARGIN + 1, voxels.shape)
    block = np.asarray(voxels[low[0] : high[0], low[1] : high[1], low[2] : high[2]], dtype=np.float64)
    return ndimage.map_coordinates(
        block, (index - low).T, order=order, mode="mirror", prefilter=True, output=np.float32
    )


def sample_line(
    volume: Volume,
    p0_xyz: ArrayLike,
    p1_xyz: ArrayLike,
    step_mm: float,
    order: int | str = 1,
    cval: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Intensity profile along the segment from ``p0_xyz`` to ``p1_xyz`` (patient LPS mm).

    Returns
    -------
    positions_mm, values
        ``positions_mm`` (M,) distances from ``p0`` at exact multiples of ``step_mm`` (0 first;
        ``p1`` is included only when the length is a whole number of steps, within 1 nm);
        ``values`` (M,) float32 gray values (background outside the volume).

    Raises
    ------
    ValueError
        When ``step_mm`` is not positive.
    """
    if not step_mm > 0:
        raise ValueError(f"step_mm must be positive, got {step_mm}")
    p0 = np.asarray(p0_xyz, dtype=float)
    p1 = np.asarray(p1_xyz, dtype=float)
    length = float(np.linalg.norm(p1 - p0))
    count = int(np.floor(length / step_mm + 1e-6)) + 1
    positions = step_mm * np.arange(count)
    direction = (p1 - p0) / length if length > 0 else np.zeros(3)
    points = p0 + positions[:, None] * direction
    return positions, sample_points(volume, points, order=order, cval=cval)


def sample_extruded(
    volume: Volume,
    base_xyz: np.ndarray,
    up: np.ndarray,
    heights_mm: np.ndarray,
    order: int | str = 1,
    cval: float | None = None,
    reduce: str = "mean",
) -> np.ndarray:
    """Sample a vertical extrusion of horizontal positions; the engine of every reformat.

    Parameters
    ----------
    base_xyz
        (C, K, 3) patient mm: for each of C image columns, K positions across the slab (K = 1
        without a slab). Only their horizontal part matters.
    up
        Unit vertical (3,).
    heights_mm
        (R,) heights along ``up`` (``p . up``, i.e. z in mm for up = +z) of the image rows.
    reduce
        How the K slab samples become one pixel: ``"mean"`` or ``"max"`` (maximum intensity).

    Returns
    -------
    numpy.ndarray
        (R, C) float32; sample (r, c, k) is at ``base[c, k] + (heights[r] - base[c, k] . up) * up``.
    """
    if reduce not in ("mean", "max"):
        raise ValueError(f"slab mode must be 'mean' or 'max', got {reduce!r}")
    spline_order = interpolation_order(order)
    base = np.asarray(base_xyz, dtype=float)
    up_vec = np.asarray(up, dtype=float)
    heights = np.asarray(heights_mm, dtype=float)
    background = _resolve_cval(volume, cval)
    separable = _separable_geometry(volume, up_vec) if spline_order == 1 else None
    if separable is not None:
        return _sample_separable(volume.voxels, *separable, base, heights, background, reduce)
    return _sample_general(volume, base, up_vec, heights, spline_order, background, reduce)


def _separable_geometry(volume: Volume, up: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """Inverse affine, slice index per mm of height, and slice index at height 0, when separable.

    Separable means: the slice index depends only on the height along ``up`` and the in-slice
    (y, x) indices only on the horizontal position. True for axial scans (any in-plane
    rotation or spacing); false for gantry tilt or oblique stacks, which take the general path.
    """
    if min(volume.shape) < 2:
        return None
    inverse = _inverse_affine(volume)
    slice_row = inverse[0, :3]
    per_mm = float(slice_row @ up)
    scale = float(np.linalg.norm(inverse[:, :3]))
    if abs(per_mm) < 1e-12 * scale:
        return None
    if np.linalg.norm(slice_row - per_mm * up) > 1e-9 * scale:
        return None
    if np.linalg.norm(inverse[1:, :3] @ up) > 1e-9 * scale:
        return None
    return inverse, per_mm, float(inverse[0, 3])


def _sample_separable(
    voxels: np.ndarray,
    inverse: np.ndarray,
    slices_per_mm: float,
    slice_offset: float,
    base: np.ndarray,
    heights: np.ndarray,
    background: float,
    reduce: str,
) -> np.ndarray:
    """Exact trilinear sampling as (in-plane sparse bilinear weights) x (linear in z)."""
    nz, ny, nx = voxels.shape
    n_cols, n_slab = base.shape[:2]
    out = np.full((len(heights), n_cols), background, dtype=np.float32)

    slice_index = slices_per_mm * heights + slice_offset
    rows_inside = (slice_index >= -_EDGE_TOLERANCE) & (slice_index <= nz - 1 + _EDGE_TOLERANCE)
    if not np.any(rows_inside):
        return out
    z0 = np.clip(np.floor(slice_index[rows_inside]).astype(np.int64), 0, nz - 2)
    wz = np.clip(slice_index[rows_inside] - z0, 0.0, 1.0).astype(np.float32)
    z_low, z_high = int(z0.min()), int(z0.max()) + 1

    flat = base.reshape(-1, 3)
    ky = flat @ inverse[1, :3] + inverse[1, 3]
    kx = flat @ inverse[2, :3] + inverse[2, 3]
    inside = (
        (ky >= -_EDGE_TOLERANCE)
        & (ky <= ny - 1 + _EDGE_TOLERANCE)
        & (kx >= -_EDGE_TOLERANCE)
        & (kx <= nx - 1 + _EDGE_TOLERANCE)
    )
    y0 = np.clip(np.floor(ky).astype(np.int64), 0, ny - 2)
    x0 = np.clip(np.floor(kx).astype(np.int64), 0, nx - 2)
    wy = np.clip(ky - y0, 0.0, 1.0)
    wx = np.clip(kx - x0, 0.0, 1.0)
    corner_index = (y0 * nx + x0)[:, None] + np.array([0, 1, nx, nx + 1])
    corner_weight = np.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx], axis=1)

    sample_ids = np.flatnonzero(inside)
    used, position = np.unique(corner_index[sample_ids].ravel(), return_inverse=True)
    # one extra "voxel" after the used ones holds the background for outside samples
    n_used = len(used)
    matrix_rows = n_cols if reduce == "mean" else n_cols * n_slab
    row_of_sample = np.arange(len(flat)) // n_slab if reduce == "mean" else np.arange(len(flat))
    scale = 1.0 / n_slab if reduce == "mean" else 1.0
    outside_ids = np.flatnonzero(~inside)
    weights = sparse.csr_matrix(
        (
            np.concatenate([corner_weight[sample_ids].ravel() * scale, np.full(len(outside_ids), scale)]),
            (
                np.concatenate([np.repeat(row_of_sample[sample_ids], 4), row_of_sample[outside_ids]]),
                np.concatenate([position.ravel(), np.full(len(outside_ids), n_used)]),
            ),
        ),
        shape=(matrix_rows, n_used + 1),
        dtype=np.float32,
    )
    gathered = np.empty((n_used + 1, z_high - z_low + 1), dtype=np.float32)
    used_y, used_x = np.divmod(used, nx)  # fancy indexing works on any strides, never copies the volume
    gathered[:n_used] = voxels[z_low : z_high + 1, used_y, used_x].T
    gathered[n_used] = background
    per_slice = weights @ gathered  # (matrix_rows, slices): in-plane values on every slice
    values = np.empty((n_cols, int(rows_inside.sum())), dtype=np.float32)
    # linear interpolation between slices, in column blocks so the temporaries stay in cache
    rows_per_col = matrix_rows // n_cols
    block = max(1, 4096 // rows_per_col)
    for first in range(0, n_cols, block):
        part = per_slice[first * rows_per_col : (first + block) * rows_per_col]
        lower = part[:, z0 - z_low]
        upper = part[:, z0 + 1 - z_low]
        np.subtract(upper, lower, out=upper)
        upper *= wz
        upper += lower
        if reduce == "max":
            upper = upper.reshape(-1, n_slab, upper.shape[1]).max(axis=1)
        values[first : first + block] = upper
    out[rows_inside] = values.T
    return out


def _sample_general(
    volume: Volume,
    base: np.ndarray,
    up: np.ndarray,
    heights: np.ndarray,
    order: SplineOrder,
    background: float,
    reduce: str,
) -> np.ndarray:
    """Any geometry, any order: build every 3D sample point and interpolate (slower)."""
    horizontal = base - (base @ up)[..., None] * up
    n_cols, n_slab = base.shape[:2]
    out = np.empty((len(heights), n_cols), dtype=np.float32)
    rows_per_chunk = max(1, _CHUNK_POINTS // (n_cols * n_slab))
    for start in range(0, len(heights), rows_per_chunk):
        chunk = heights[start : start + rows_per_chunk]
        points = horizontal[None] + chunk[:, None, None, None] * up
        values = sample_points(volume, points, order=order, cval=background)
        out[start : start + len(chunk)] = values.mean(axis=2) if reduce == "mean" else values.max(axis=2)
    return out
