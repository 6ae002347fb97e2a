"""The locator's working copy: a coarse bone mask in horizontal slices, bottom slice first.

The mandible is tens of millimetres across and its cortex a few millimetres thick, so the
locator works on ~1.5 mm voxels: each block of the scan keeps its maximum (a max-pool keeps a
thin cortex that plain striding could step over), read from a strided copy so that a
400 x 512 x 512 CBCT costs a fraction of a second. The voxel axis closest to the patient's
superior direction becomes axis 0, increasing upwards, so every working
slice is one horizontal plane of the patient (gantry tilt only shears the slices, it does not
tilt them). In-plane positions are exchanged in patient millimetres: ``lateral`` (LPS x:
towards the patient's left) and ``posterior`` (LPS y), both projected onto the slice plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cbct_osteo.volume import Volume

#: Target size (mm) of a working voxel.
WORKING_MM = 1.5


@dataclass(eq=False)
class WorkingGrid:
    """The pooled bone mask and the maps between its (slice, row, col) indices and the scan.

    Attributes
    ----------
    bone
        (slices, rows, cols) bool; slice 0 is the lowest.
    slice_mm
        Height step (mm) between working slices.
    pixel_mm
        (row, col) size of a working pixel in mm.
    """

    bone: np.ndarray
    slice_mm: float
    pixel_mm: tuple[float, float]
    _volume: Volume
    _order: tuple[int, int, int]  # original axis of each working axis
    _flip: tuple[bool, bool, bool]
    _step: np.ndarray  # original voxels per working voxel, per original axis
    _offset: np.ndarray  # original index of the centre of working voxel 0, per original axis
    _lateral: np.ndarray
    _posterior: np.ndarray
    _up: np.ndarray

    @classmethod
    def build(cls, volume: Volume, threshold: float, working_mm: float = WORKING_MM) -> WorkingGrid:
        spacing = np.asarray(volume.spacing, float)
        factor = np.maximum(1, np.round(working_mm / spacing).astype(int))
        stride = np.maximum(1, factor // 2)
        pool = np.maximum(1, np.round(factor / stride).astype(int))
        strided = volume.voxels[:: stride[0], :: stride[1], :: stride[2]]
        counts = np.asarray(strided.shape) // pool
        if np.any(counts < 1):
            counts = np.maximum(counts, 1)
            pool = np.minimum(pool, np.asarray(strided.shape))
        trimmed = strided[: counts[0] * pool[0], : counts[1] * pool[1], : counts[2] * pool[2]]
        bone = _block_max(trimmed, pool) >= threshold
        step = stride * pool
        offset = stride * (pool - 1) / 2.0

        directions = volume.axis_directions()
        # The voxel axis closest to the patient's superior direction stacks the working slices, so
        # a coronal or sagittal series is analysed in horizontal planes too; "up" is the normal
        # of the other two axes (gantry tilt shears the stack, it does not tilt the slices).
        vertical = int(np.argmax(np.abs(directions[:, 2])))
        in_plane = [a for a in range(3) if a != vertical]
        up = np.cross(directions[in_plane[0]], directions[in_plane[1]])
        up = up / np.linalg.norm(up)
        if up[2] < 0:
            up = -up
        order = (vertical, in_plane[0], in_plane[1])
        flip = (bool(directions[vertical] @ up < 0), False, False)
        bone = np.transpose(bone, order)
        if flip[0]:
            bone = bone[::-1]
        lateral = _in_plane_unit(np.array([1.0, 0.0, 0.0]), up)
        posterior = _in_plane_unit(np.array([0.0, 1.0, 0.0]), up)
        slice_mm = float(abs(volume.affine[:3, vertical] @ up) * step[vertical])
        pixel_mm = (float(spacing[in_plane[0]] * step[in_plane[0]]), float(spacing[in_plane[1]] * step[in_plane[1]]))
        return cls(
            np.ascontiguousarray(bone), slice_mm, pixel_mm, volume, order, flip, step, offset, lateral, posterior, up
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.bone.shape)

    @property
    def pixel_area_mm2(self) -> float:
        return self.pixel_mm[0] * self.pixel_mm[1]

    def to_index(self, working: np.ndarray) -> np.ndarray:
        """(..., 3) working (slice, row, col) -> (..., 3) fractional voxel index (z, y, x) of the scan."""
        working = np.asarray(working, float)
        if self._flip[0]:
            working = working.copy()
            working[..., 0] = self.shape[0] - 1 - working[..., 0]
        index = np.empty_like(working)
        for k, axis in enumerate(self._order):
            index[..., axis] = working[..., k] * self._step[axis] + self._offset[axis]
        return index

    def from_index(self, index: np.ndarray) -> np.ndarray:
        """(..., 3) fractional voxel index (z, y, x) of the scan -> (..., 3) working (slice, row, col)."""
        index = np.asarray(index, float)
        working = np.empty_like(index)
        for k, axis in enumerate(self._order):
            working[..., k] = (index[..., axis] - self._offset[axis]) / self._step[axis]
        if self._flip[0]:
            working[..., 0] = self.shape[0] - 1 - working[..., 0]
        return working

    @property
    def up(self) -> np.ndarray:
        """The vertical (3,), LPS unit vector."""
        return self._up

    def to_patient(self, working: np.ndarray) -> np.ndarray:
        """(..., 3) working (slice, row, col) -> (..., 3) patient LPS mm."""
        return self._volume.index_to_patient(self.to_index(working))

    def plane_mm(self, slice_index: float, rc: np.ndarray) -> np.ndarray:
        """(M, 2) in-slice pixels (row, col) -> (M, 2) (lateral, posterior) mm in the slice plane."""
        rc = np.asarray(rc, float).reshape(-1, 2)
        xyz = self.to_patient(np.column_stack([np.full(len(rc), float(slice_index)), rc]))
        return np.column_stack([xyz @ self._lateral, xyz @ self._posterior])

    def height_mm(self, slice_index: float) -> float:
        """Height (mm along the vertical) of a working slice."""
        return float(self.to_patient(np.array([float(slice_index), 0.0, 0.0])) @ self._up)


def _block_max(voxels: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Maximum over blocks of ``pool`` voxels, axis by axis: elementwise maxima of strided views
    read each voxel once, three times faster than a reshaped ``max`` over six axes."""
    result = voxels
    for axis, size in enumerate(pool):
        if size == 1:
            continue
        views = [result[(slice(None),) * axis + (slice(k, None, int(size)),)] for k in range(int(size))]
        result = views[0]
        for view in views[1:]:
            result = np.maximum(result, view)
    return result


def _in_plane_unit(axis: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``axis`` projected onto the plane perpendicular to ``up``, normalised."""
    projected = axis - (axis @ up) * up
    unit: npt.NDArray[np.float64] = projected / np.linalg.norm(projected)
    return unit
