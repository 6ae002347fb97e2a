"""The Volume: voxels with their geometry in patient space.

Every stage of the program exchanges volumes as this one small object. Voxels are stored
(z, y, x) as numpy wants them; patient coordinates are DICOM LPS millimetres in (x, y, z)
order, the order landmarks files use. Keeping both conventions in one place (the affine)
is what lets a landmark clicked on any reformatted image land on the right voxel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

#: Key in ``VolumeMeta.extra`` of the reconstructed slice thickness in mm (SliceThickness (0018,0050), for
#: Enhanced multi-frame from the Pixel Measures functional group); absent when the header gives none.
#: The resolution rules (:mod:`cbct_osteo.measure.resolution`) count it when it exceeds the slice spacing.
SLICE_THICKNESS_KEY = "slice_thickness_mm"


@dataclass(frozen=True)
class VolumeMeta:
    """What the report and the session need to know about where the voxels came from.

    Strings are empty when the DICOM header lacked the attribute. ``units`` is ``"HU"`` only
    for a calibrated CT; CBCT gray values are reported as ``"gray value"``. ``extra`` holds the
    loader's other facts, among them :data:`SLICE_THICKNESS_KEY` when the header gives one.
    """

    series_uid: str = ""
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""
    modality: str = ""
    series_description: str = ""
    series_number: str = ""
    patient_name: str = ""
    patient_id: str = ""
    patient_sex: str = ""
    patient_birth_date: str = ""
    study_date: str = ""
    study_id: str = ""
    accession_number: str = ""
    institution: str = ""
    manufacturer: str = ""
    model: str = ""
    kvp: float | None = None
    tube_current_ma: float | None = None
    transfer_syntax: str = ""
    units: str = "gray value"
    source_files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Volume:
    """A 3D image on a regular grid.

    Attributes
    ----------
    voxels
        numpy array indexed (z, y, x), values after the modality rescale (slope/intercept).
    spacing
        Voxel size (z, y, x) in mm.
    affine
        4x4 matrix mapping a voxel index (z, y, x, 1) to patient LPS mm (x, y, z, 1).
        It carries orientation, so gantry tilt and oblique stacks keep their true geometry.
    meta
        Header information (patient, study, device) as a :class:`VolumeMeta`.
    """

    voxels: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray
    meta: VolumeMeta = field(default_factory=VolumeMeta)

    def __post_init__(self) -> None:
        if self.voxels.ndim != 3:
            raise ValueError(f"Volume voxels must be 3D (z, y, x), got shape {self.voxels.shape}")
        self.affine = np.asarray(self.affine, dtype=float)
        if self.affine.shape != (4, 4):
            raise ValueError(f"Volume affine must be 4x4, got {self.affine.shape}")
        dz, dy, dx = (float(s) for s in self.spacing)
        self.spacing = (dz, dy, dx)

    @property
    def shape(self) -> tuple[int, int, int]:
        nz, ny, nx = self.voxels.shape
        return (int(nz), int(ny), int(nx))

    @property
    def nbytes(self) -> int:
        return int(self.voxels.nbytes)

    def index_to_patient(self, zyx: ArrayLike) -> np.ndarray:
        """Voxel indices (..., 3) in (z, y, x) order, fractional allowed, to LPS mm (..., 3) in (x, y, z)."""
        pts = np.asarray(zyx, dtype=float)
        result: np.ndarray = pts @ self.affine[:3, :3].T + self.affine[:3, 3]
        return result

    def patient_to_index(self, xyz: ArrayLike) -> np.ndarray:
        """LPS mm (..., 3) in (x, y, z) order to fractional voxel indices (..., 3) in (z, y, x)."""
        pts = np.asarray(xyz, dtype=float)
        inverse = np.linalg.inv(self.affine)
        result: np.ndarray = pts @ inverse[:3, :3].T + inverse[:3, 3]
        return result

    def axis_directions(self) -> np.ndarray:
        """Unit vectors (3, 3) in LPS of the z, y and x voxel axes (rows)."""
        cols = self.affine[:3, :3].T
        unit_rows: np.ndarray = cols / np.linalg.norm(cols, axis=1, keepdims=True)
        return unit_rows

    def fingerprint(self) -> str:
        """A short hash of geometry and a sparse sample of the voxels.

        Sessions store it so landmarks are never applied to a different scan, even one that
        reuses a SeriesInstanceUID. It reads a few thousand voxels, so it is cheap on any size.
        """
        import hashlib  # imported here: loading a volume should not pay for it (see benchmarks/load.py)

        digest = hashlib.sha256()
        digest.update(repr(self.shape).encode())
        digest.update(np.round(self.affine, 4).astype("<f8").tobytes())
        nz, ny, nx = self.shape
        sample = self.voxels[:: max(1, nz // 16), :: max(1, ny // 32), :: max(1, nx // 32)]
        digest.update(np.ascontiguousarray(sample).astype("<f8").tobytes())
        return digest.hexdigest()[:32]


def affine_from_axes(
    origin_xyz: ArrayLike,
    row_direction: ArrayLike,
    column_direction: ArrayLike,
    slice_direction: ArrayLike,
    spacing_zyx: tuple[float, float, float],
) -> np.ndarray:
    """Build the (z, y, x) → LPS affine from DICOM-style geometry.

    ``row_direction`` is the direction of increasing column index (x), ``column_direction`` that
    of increasing row index (y), as in ImageOrientationPatient; ``slice_direction`` is the unit
    step from one slice to the next (not necessarily their cross product, e.g. with gantry tilt).
    """
    dz, dy, dx = spacing_zyx
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_direction, float) * dz
    affine[:3, 1] = np.asarray(column_direction, float) * dy
    affine[:3, 2] = np.asarray(row_direction, float) * dx
    affine[:3, 3] = np.asarray(origin_xyz, float)
    return affine


def volume_up(volume: Volume) -> np.ndarray:
    """The volume's superior direction (3,): unit normal of its slice plane, with +z sign.

    For an axial series this is exactly (0, 0, 1). For an oblique acquisition it is the
    normal of the image rows and columns (not the slice-stacking direction, which gantry tilt
    makes non-perpendicular), so "vertical" in every reformat is perpendicular to the slices.
    """
    directions = volume.axis_directions()  # rows: LPS unit vectors of the z, y, x index axes
    up = np.cross(directions[2], directions[1])
    up /= np.linalg.norm(up)
    if up[2] < 0 or (up[2] == 0 and np.dot(up, directions[0]) < 0):
        up = -up
    return up
