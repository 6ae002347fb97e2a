"""Find the mandible in any head CT or CBCT, or say why it is not there.

1. A coarse bone mask in horizontal slices (:class:`~cbct_osteo.locate.grid.WorkingGrid`,
   threshold :func:`~cbct_osteo.locate.threshold.bone_threshold`).
2. In each slice the U-shaped, posteriorly open, symmetric bone in front of everything else
   (:func:`~cbct_osteo.locate.sections.arch_sections`).
3. Such sections stacked over at least :data:`MIN_BODY_MM` of height, each apex within
   :data:`LINK_MM` of the one below, form a candidate body; the lowest one is the mandibular
   body (the maxillary arch lies above it, the hyoid is too narrow to qualify). It must have
   scan below it: a U that reaches the lowest slice has lost its lower border to the scan
   (the case of a skull CT that ends at the upper teeth), and so has a chin that runs on
   into the lowest slice; with no lower border none of the mandibular indices can be measured.
4. The body is followed downwards to the chin's lowest bone, and upwards through the teeth
   and rami, slice by slice within :data:`FOLLOW_MM` of the bone below, until it runs into
   a plate far larger than the jaw (skull base, palate) or :data:`MAX_HEIGHT_MM` above the
   lower border; never behind the body's posterior end plus :data:`RAMUS_BACK_MM` (the spine).
5. The arch: the centre line of the body's sections at the level where the U is longest,
   refined on a ~0.75 mm copy of that slab (the working grid's 1.5 mm would cost accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from cbct_osteo.locate.grid import WorkingGrid
from cbct_osteo.locate.sections import ArchSection, arch_sections
from cbct_osteo.locate.skeleton import centre_line, straighten_ends
from cbct_osteo.locate.threshold import bone_threshold
from cbct_osteo.volume import Volume

#: Height (mm) of stacked U sections that makes a mandibular body.
MIN_BODY_MM = 8.0
#: Largest shift (mm) of the apex from one section to the next in a body.
LINK_MM = 10.0
#: Sections whose centre line is at least this fraction of the longest one make the arch slab.
ARCH_SLAB_FRACTION = 0.85
#: Highest point of a mandible (condyle) above its lower border, mm (adults: 55-75 mm).
MAX_HEIGHT_MM = 85.0
#: How far (mm) the followed bone may move sideways from one working slice to the next.
FOLLOW_MM = 3.0
#: Followed bone stops where a slice's share is this many times the body's largest section.
PLATE_FACTOR = 2.5
#: The rami may lie this far (mm) behind the body's posterior ends, never further (the spine).
RAMUS_BACK_MM = 20.0
#: And this far (mm) outside its sides.
RAMUS_SIDE_MM = 12.0
#: Bone (mm^2) of the followed mandible in the lowest slice that means the scan cuts through it.
MIN_CUT_BONE_MM2 = 20.0
#: Margin (mm) of :attr:`MandibleLocation.crop` around the bounding box.
CROP_MARGIN_MM = 5.0
#: Voxel size (mm) of the copy the arch is refined on.
ARCH_WORKING_MM = 0.75
#: Half height (mm) of the slab around the arch level projected for the refined arch.
ARCH_SLAB_HALF_MM = 3.0
#: Arch points returned.
ARCH_POINTS = 15


@dataclass(frozen=True, eq=False)
class MandibleLocation:
    """Where the mandible is, or why it was not found.

    Attributes
    ----------
    found
        Whether a mandibular body with its lower border is in the scan.
    reason
        One plain sentence: what was found, or why nothing was.
    bbox_mm
        (2, 3) patient LPS mm ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]`` of the body,
        symphysis and rami (axis-aligned in patient space), or ``None``.
    arch_points_mm
        (N, 3) LPS mm along the dental arch through the mandibular body, patient's right
        (-x) first, all at the body level, or ``None``.
    crop
        Voxel (z, y, x) slices of the volume holding the box plus :data:`CROP_MARGIN_MM`.
    body_level_mm
        Height (mm along :func:`~cbct_osteo.volume.volume_up`) of the arch.
    lower_border_mm
        Height of the mandible's lowest bone (mm along the vertical).
    threshold
        Bone threshold used (gray value of the volume).
    """

    found: bool
    reason: str
    bbox_mm: np.ndarray | None = None
    arch_points_mm: np.ndarray | None = None
    crop: tuple[slice, slice, slice] | None = None
    body_level_mm: float | None = None
    lower_border_mm: float | None = None
    threshold: float | None = None


def locate_mandible(volume: Volume, threshold: float | None = None) -> MandibleLocation:
    """Locate the mandible of ``volume`` (any orientation, HU or uncalibrated gray values).

    Parameters
    ----------
    threshold
        Bone gray value; default :func:`~cbct_osteo.locate.threshold.bone_threshold`.

    Returns
    -------
    MandibleLocation
        ``found`` False with the reason when there is no mandibular body with its lower border.
    """
    level = bone_threshold(volume) if threshold is None else float(threshold)
    grid = WorkingGrid.build(volume, level)
    if grid.shape[0] < 2 or not grid.bone.any():
        return MandibleLocation(False, f"no bone (gray value above {level:.0f}) in the scan", threshold=level)
    sections = [arch_sections(grid, k) for k in range(grid.shape[0])]
    bodies = [run for run in _stacks(sections) if _height(grid, run) >= MIN_BODY_MM]
    if not bodies:
        return MandibleLocation(
            False,
            "the mandibular body is not in the scan: no horizontal slice shows the U-shaped bone of a mandible",
            threshold=level,
        )
    body = bodies[0]
    no_border = MandibleLocation(
        False,
        "the scan ends within the lowest dental arch: the lower border of the mandible is not in the scan",
        threshold=level,
    )
    if body[0].slice_index == 0:
        return no_border
    masks = _follow(grid, body)
    if 0 in masks and masks[0].sum() * grid.pixel_area_mm2 >= MIN_CUT_BONE_MM2:  # the chin runs on below the scan
        return no_border
    bbox = _bounding_box(grid, masks)
    lowest = min(masks)
    arch, arch_level = _arch(volume, grid, body, level)
    widest = max(s.spread_mm for s in body)
    reason = (
        f"mandibular body found: a U-shaped bone {widest:.0f} mm across over {_height(grid, body):.0f} mm "
        "of height, lower border in the scan"
    )
    return MandibleLocation(
        True,
        reason,
        bbox_mm=bbox,
        arch_points_mm=arch,
        crop=crop_slices(volume, bbox, CROP_MARGIN_MM),
        body_level_mm=arch_level,
        lower_border_mm=grid.height_mm(lowest - 0.5),
        threshold=level,
    )


def crop_slices(
    volume: Volume, bbox_mm: np.ndarray, margin_mm: float, *, within: bool = False
) -> tuple[slice, slice, slice]:
    """Voxel (z, y, x) slices of ``volume`` covering the patient-mm box grown by ``margin_mm``.

    ``within``: only voxels whose centres lie inside the grown box (else every voxel it touches).
    """
    box = np.asarray(bbox_mm, float)
    low, high = box[0] - margin_mm, box[1] + margin_mm
    corners = np.array(
        [
            [(low[0], high[0])[i], (low[1], high[1])[j], (low[2], high[2])[k]]
            for i in (0, 1)
            for j in (0, 1)
            for k in (0, 1)
        ]
    )
    index = volume.patient_to_index(corners)
    first, last = index.min(axis=0), index.max(axis=0)
    start = np.ceil(first - 1e-6) if within else np.floor(first)
    stop = (np.floor(last + 1e-6) if within else np.ceil(last)) + 1
    start = np.clip(start.astype(int), 0, np.asarray(volume.shape))
    stop = np.clip(stop.astype(int), 0, np.asarray(volume.shape))
    return _region(start, stop)


def _stacks(sections: list[ArchSection | None]) -> list[list[ArchSection]]:
    """Runs of sections, bottom first, each apex within LINK_MM of the previous (one empty slice allowed)."""
    runs: list[list[ArchSection]] = []
    for section in sections:
        if section is None:
            continue
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and section.slice_index - last.slice_index <= 2
            and np.linalg.norm(section.apex_mm - last.apex_mm) <= LINK_MM
        ):
            runs[-1].append(section)
        else:
            runs.append([section])
    return runs


def _height(grid: WorkingGrid, run: list[ArchSection]) -> float:
    return (run[-1].slice_index - run[0].slice_index + 1) * grid.slice_mm


def _follow(grid: WorkingGrid, body: list[ArchSection]) -> dict[int, np.ndarray]:
    """The mandible's bone per working slice: the body's sections, followed down and up."""
    masks = {s.slice_index: s.mask for s in body}
    for k in range(body[0].slice_index, body[-1].slice_index + 1):  # a skipped slice inside the body
        if k not in masks:
            masks[k] = grid.bone[k] & ndimage.binary_dilation(masks[k - 1], iterations=2)
    reach = max(1, int(round(FOLLOW_MM / min(grid.pixel_mm))))
    largest = max(int(s.mask.sum()) for s in body)
    allowed = _ramus_region(grid, body)
    bottom = body[0].slice_index
    top_limit = bottom + int(MAX_HEIGHT_MM / grid.slice_mm)
    for direction, start in ((-1, bottom), (1, body[-1].slice_index)):
        previous = masks[start]
        k = start + direction
        while 0 <= k < grid.shape[0] and k <= top_limit:
            near = ndimage.binary_dilation(previous, iterations=reach)
            labels, _ = ndimage.label(grid.bone[k], structure=np.ones((3, 3), bool))
            touching = np.unique(labels[near & (labels > 0)])
            pieces = np.isin(labels, touching[touching > 0])
            if pieces.sum() > PLATE_FACTOR * largest:  # the skull base or palate: stop below it
                break
            current = pieces & near & allowed
            if current.sum() * grid.pixel_area_mm2 < 4.0:
                break
            masks[k] = current
            previous = current
            k += direction
    return masks


def _ramus_region(grid: WorkingGrid, body: list[ArchSection]) -> np.ndarray:
    """In-slice pixels the mandible may occupy: across the body's width, not behind its ends."""
    lines = np.vstack([s.line_mm for s in body])
    lateral_low, lateral_high = lines[:, 0].min() - RAMUS_SIDE_MM, lines[:, 0].max() + RAMUS_SIDE_MM
    posterior_high = lines[:, 1].max() + RAMUS_BACK_MM
    rows, cols = grid.shape[1:]
    rc = np.indices((rows, cols)).reshape(2, -1).T
    where = grid.plane_mm(body[-1].slice_index, rc)
    inside: npt.NDArray[np.bool_] = (
        (where[:, 0] >= lateral_low) & (where[:, 0] <= lateral_high) & (where[:, 1] <= posterior_high)
    )
    return inside.reshape(rows, cols)


def _bounding_box(grid: WorkingGrid, masks: dict[int, np.ndarray]) -> np.ndarray:
    """Patient LPS box of the followed bone (pixel centres, grown by half a working voxel)."""
    points = [np.column_stack([np.full(int(m.sum()), k), np.argwhere(m)]) for k, m in masks.items() if m.any()]
    xyz = grid.to_patient(np.vstack(points).astype(float))
    half = 0.5 * max(grid.slice_mm, *grid.pixel_mm)
    return np.array([xyz.min(axis=0) - half, xyz.max(axis=0) + half])


def _arch(volume: Volume, grid: WorkingGrid, body: list[ArchSection], threshold: float) -> tuple[np.ndarray, float]:
    """Arch points (right first) and their height: the refined centre line at the body's longest level."""
    longest = max(s.length_mm for s in body)
    slab = [s for s in body if s.length_mm >= ARCH_SLAB_FRACTION * longest]
    level_index = float(np.median([s.slice_index for s in slab]))
    footprint = ndimage.binary_dilation(np.any([s.mask for s in slab], axis=0), iterations=2)
    level_mm = grid.height_mm(level_index)
    fine = _fine_footprint(volume, grid, footprint, level_index, threshold)
    if fine is None:  # the coarse centre line is the best there is
        path_px, sub_grid, path_slice = centre_line(footprint), grid, level_index
    else:
        sub_grid, mask, path_slice = fine
        path_px = centre_line(mask)
    pixel_mm = np.asarray(sub_grid.pixel_mm)
    path_mm = ndimage.gaussian_filter1d(path_px * pixel_mm, sigma=3.0, axis=0, mode="nearest")
    shape_mask = footprint if fine is None else fine[1]
    half_width = float(np.median(ndimage.distance_transform_edt(shape_mask, sampling=pixel_mm)[tuple(path_px.T)]))
    if any(s.truncated for s in slab):
        path_mm = _trim_ends(path_mm, half_width)  # cut by the field of view: its skeleton bends into the corners
    else:
        path_mm = straighten_ends(path_mm, half_width)
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_mm, axis=0), axis=1))])
    picks = np.linspace(0.0, along[-1], ARCH_POINTS)
    rc = np.column_stack([np.interp(picks, along, path_mm[:, k]) for k in range(2)]) / pixel_mm
    points = sub_grid.to_patient(np.column_stack([np.full(len(rc), path_slice), rc]))
    up = sub_grid.up
    points += np.outer(level_mm - points @ up, up)  # exactly at the body level
    if points[0, 0] > points[-1, 0]:
        points = points[::-1]
    return points, level_mm


def _trim_ends(path_mm: np.ndarray, length_mm: float) -> np.ndarray:
    """The path without its last ``length_mm`` at each end (kept whole when that would leave too little)."""
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_mm, axis=0), axis=1))])
    keep = (along >= length_mm) & (along <= along[-1] - length_mm)
    return path_mm[keep] if keep.sum() >= 8 else path_mm


def _fine_footprint(
    volume: Volume, grid: WorkingGrid, footprint: npt.NDArray[np.bool_], level_index: float, threshold: float
) -> tuple[WorkingGrid, npt.NDArray[np.bool_], float] | None:
    """The body's bone projected over the arch slab on a ~0.75 mm grid, inside the coarse footprint.

    Returns (fine grid, 2D mask, a fine slice index the mask's pixels are mapped through), or
    ``None`` when the scan is not finer than the working grid.
    """
    rows = np.flatnonzero(footprint.any(axis=1))
    cols = np.flatnonzero(footprint.any(axis=0))
    half_slices = ARCH_SLAB_HALF_MM / grid.slice_mm
    corners = np.array(
        [
            [level_index + dz, r, c]
            for dz in (-half_slices, half_slices)
            for r in (rows[0] - 1, rows[-1] + 1)
            for c in (cols[0] - 1, cols[-1] + 1)
        ],
        float,
    )
    index = grid.to_index(corners)
    start = np.clip(np.floor(index.min(axis=0)).astype(int), 0, np.asarray(volume.shape) - 1)
    stop = np.clip(np.ceil(index.max(axis=0)).astype(int) + 1, 1, np.asarray(volume.shape))
    sub = sub_volume(volume, _region(start, stop))
    fine = WorkingGrid.build(sub, threshold, working_mm=ARCH_WORKING_MM)
    if fine.pixel_mm[0] >= grid.pixel_mm[0] and fine.pixel_mm[1] >= grid.pixel_mm[1]:
        return None
    projected = fine.bone.any(axis=0)
    # keep what lies in the coarse footprint: map each fine pixel centre to its coarse pixel
    rc = np.indices(projected.shape).reshape(2, -1).T
    middle = (fine.shape[0] - 1) / 2.0
    xyz = fine.to_patient(np.column_stack([np.full(len(rc), middle), rc]))
    coarse = grid.from_index(volume.patient_to_index(xyz))
    cr = np.clip(np.rint(coarse[:, 1]).astype(int), 0, footprint.shape[0] - 1)
    cc = np.clip(np.rint(coarse[:, 2]).astype(int), 0, footprint.shape[1] - 1)
    mask = projected & footprint[cr, cc].reshape(projected.shape)
    mask = ndimage.binary_fill_holes(ndimage.binary_closing(mask, iterations=2))
    labels, count = ndimage.label(mask)
    if count == 0:
        return None
    mask = labels == int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    return fine, mask, middle


def sub_volume(volume: Volume, region: tuple[slice, slice, slice]) -> Volume:
    """A view of ``volume[region]`` with its own affine (no copy of the voxels)."""
    z, y, x = (slice(*s.indices(n)[:2]) for s, n in zip(region, volume.shape, strict=True))
    region = (z, y, x)
    affine = volume.affine.copy()
    affine[:3, 3] = volume.index_to_patient(np.array([s.start for s in region], float))
    return Volume(volume.voxels[region], volume.spacing, affine, volume.meta)


def _region(start: npt.NDArray[np.int_], stop: npt.NDArray[np.int_]) -> tuple[slice, slice, slice]:
    """(3,) first and one-past-last voxel indices -> the region's (z, y, x) slices."""
    z, y, x = (slice(int(a), int(b)) for a, b in zip(start, stop, strict=True))
    return z, y, x
