"""2D images that know exactly where every pixel is in the patient.

A landmark clicked on any image is stored in patient LPS mm (via ``pixel_to_patient``) and drawn
on every other image (via ``patient_to_pixel``), so these mappings are the single source of
geometric truth between views. Pixel coordinates are (row, col) with (0, 0) the CENTRE of the
top-left pixel; fractional values are allowed both ways. Rows go DOWN = inferior.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from cbct_osteo.reformat.arch import ArchCurve


@dataclass(eq=False)
class PlaneImage:
    """A planar reformat (cross-section, or any oblique plane).

    Attributes
    ----------
    image
        (rows, cols) float32 gray values.
    origin_xyz
        Patient LPS mm (3,) of the centre of pixel (0, 0).
    row_step_xyz
        Patient-mm vector (3,) from one row to the next (downwards = inferior).
    col_step_xyz
        Patient-mm vector (3,) from one column to the next.
    pixel_mm
        Pixel size in mm (the length of both steps).
    normal_xyz
        Unit normal (3,) of the plane; :meth:`distance_from_plane` is signed along it. For a
        cross-section it is the arch tangent (towards increasing arc position). Defaults to
        the unit vector of ``col_step x row_step``.
    arc_position_mm
        For a cross-section: the arc position of the plane; otherwise ``None``.
    slab_mm, slab_mode
        Thickness (mm) across the plane that was averaged (``"mean"``) or maximum-projected
        (``"max"``); 0 for a thin plane.
    """

    image: np.ndarray
    origin_xyz: np.ndarray
    row_step_xyz: np.ndarray
    col_step_xyz: np.ndarray
    pixel_mm: float
    normal_xyz: np.ndarray | None = None
    arc_position_mm: float | None = None
    slab_mm: float = 0.0
    slab_mode: str = "mean"
    _axes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.origin_xyz = np.asarray(self.origin_xyz, dtype=float)
        self.row_step_xyz = np.asarray(self.row_step_xyz, dtype=float)
        self.col_step_xyz = np.asarray(self.col_step_xyz, dtype=float)
        if self.normal_xyz is None:
            normal = np.cross(self.col_step_xyz, self.row_step_xyz)
            self.normal_xyz = normal / np.linalg.norm(normal)
        else:
            self.normal_xyz = np.asarray(self.normal_xyz, dtype=float)
        # rows of the pseudo-inverse of [row_step, col_step]: exact even for non-square pixels
        self._axes = np.linalg.pinv(np.column_stack([self.row_step_xyz, self.col_step_xyz]))

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.image.shape
        return (int(rows), int(cols))

    def pixel_to_patient(self, rc: ArrayLike) -> np.ndarray:
        """(..., 2) pixel (row, col) -> (..., 3) patient LPS mm on the plane."""
        rc = np.asarray(rc, dtype=float)
        xyz: np.ndarray = self.origin_xyz + rc[..., :1] * self.row_step_xyz + rc[..., 1:2] * self.col_step_xyz
        return xyz

    def patient_to_pixel(self, xyz: ArrayLike) -> np.ndarray:
        """(..., 3) patient LPS mm -> (..., 2) pixel (row, col) of its orthogonal projection on the plane."""
        rc: np.ndarray = (np.asarray(xyz, dtype=float) - self.origin_xyz) @ self._axes.T
        return rc

    def distance_from_plane(self, xyz: ArrayLike) -> np.ndarray | float:
        """Signed distance (mm) of point(s) from the plane along ``normal_xyz``."""
        value = (np.asarray(xyz, dtype=float) - self.origin_xyz) @ self.normal_xyz
        return float(value) if np.ndim(value) == 0 else value


@dataclass(eq=False)
class PanoramicImage:
    """A curved planar reformat: columns follow the arch, rows are vertical.

    Column ``c`` is at arc position ``start_mm + c * pixel_mm``; row ``r`` at height
    ``top_mm - r * pixel_mm`` along the arch's ``up`` (z in mm for an axial scan). The imaged
    surface is the vertical surface through the arch shifted by ``offset_mm`` along the buccal
    normal; a slab of ``slab_mm`` is centred on it along the normal.

    Attributes
    ----------
    image
        (rows, cols) float32 gray values.
    arch
        The arch the image was made along.
    pixel_mm
        Pixel size (mm) along the arch and vertically.
    start_mm
        Arc position (mm) of column 0.
    top_mm
        Height (mm along ``arch.up``) of row 0.
    offset_mm
        Buccal (+) or lingual (-) shift of the imaged surface from the arch, mm.
    slab_mm, slab_mode
        Slab thickness (mm) along the normal and how it was reduced (``"mean"`` or ``"max"``).
    """

    image: np.ndarray
    arch: ArchCurve
    pixel_mm: float
    start_mm: float
    top_mm: float
    offset_mm: float = 0.0
    slab_mm: float = 0.0
    slab_mode: str = "mean"

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.image.shape
        return (int(rows), int(cols))

    def arc_position(self, col: np.ndarray | float) -> np.ndarray | float:
        """Arc position (mm) of (fractional) column(s)."""
        return self.start_mm + np.asarray(col, dtype=float) * self.pixel_mm

    def height(self, row: np.ndarray | float) -> np.ndarray | float:
        """Height (mm along ``arch.up``) of (fractional) row(s)."""
        return self.top_mm - np.asarray(row, dtype=float) * self.pixel_mm

    def pixel_to_patient(self, rc: ArrayLike) -> np.ndarray:
        """(..., 2) pixel (row, col) -> (..., 3) patient LPS mm on the imaged surface."""
        rc = np.asarray(rc, dtype=float)
        s = self.arc_position(rc[..., 1])
        horizontal = self.arch.point(s) + self.offset_mm * self.arch.normal(s)
        dh = self.height(rc[..., 0]) - self.arch.level_mm
        xyz: np.ndarray = horizontal + np.asarray(dh)[..., None] * self.arch.up
        return xyz

    def patient_to_pixel(self, xyz: ArrayLike) -> np.ndarray:
        """(..., 3) patient LPS mm -> (..., 2) pixel (row, col).

        The column is that of the point's closest arch position, the row that of its height:
        a point off the surface (buccal or lingual of it) maps to where it projects along the
        arch normal, which is where the slab would show it.
        """
        xyz = np.asarray(xyz, dtype=float)
        flat = xyz.reshape(-1, 3)
        s = np.atleast_1d(self.arch.closest_arc_position(flat))
        col = (s - self.start_mm) / self.pixel_mm
        row = (self.top_mm - flat @ self.arch.up) / self.pixel_mm
        return np.stack([row, col], axis=-1).reshape(xyz.shape[:-1] + (2,))

    def distance_from_surface(self, xyz: ArrayLike) -> np.ndarray | float:
        """Signed distance (mm, buccal positive) of point(s) from the imaged surface."""
        xyz = np.asarray(xyz, dtype=float)
        flat = xyz.reshape(-1, 3)
        s = np.atleast_1d(self.arch.closest_arc_position(flat))
        value = np.sum((flat - self.arch.point(s)) * self.arch.normal(s), axis=1) - self.offset_mm
        return float(value[0]) if xyz.ndim == 1 else value.reshape(xyz.shape[:-1])
