"""The dental arch: a smooth horizontal curve parametrised by arc length in millimetres.

The panoramic image and every cross-section are built on this curve, and a landmark's arc
position is how the program finds "the cross-section through the foramen". So the curve must
be smooth (no kinks between clicked points), its parameter must be true millimetres along the
arch (so a panoramic column is ``pixel_mm`` of arch, and stepping by 1 mm moves 1 mm), and its
normal must point the same way everywhere (buccal), so that "right" in a cross-section always
means the cheek side.

Geometry (patient LPS mm, (x, y, z) order):

* The curve lies in the plane perpendicular to ``up`` (default +z, superior: the project's
  CBCTs are axial) at height ``level_mm`` = the mean height of the given points along ``up``.
  For a tilted volume pass the volume's superior direction (:func:`volume_up`) as ``up``.
* ``s`` runs from 0 at the first point to ``length_mm`` at the last.
* ``tangent(s)`` is the unit direction of increasing ``s``; ``normal(s)`` is the horizontal
  unit vector perpendicular to it pointing BUCCAL, i.e. away from the inside of the horseshoe.
  The inside is found from the orientation (signed area) of the curve closed by the chord
  between its ends, so it works for a U, a V or a shallow arc alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import CubicSpline
from scipy.spatial import cKDTree

#: Spacing (mm) of the arc-length table; the final spline is fitted through it.
_TABLE_STEP_MM = 0.25
#: Newton iterations refining a closest-point search started from the table.
_NEWTON_ITERATIONS = 6


def _plane_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors e1, e2 spanning the plane perpendicular to ``up``, with e1 x e2 = up.

    For up = +z they are +x and +y, so plane coordinates are just (x, y).
    """
    reference = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = reference - np.dot(reference, up) * up
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    return e1, e2


@dataclass(frozen=True, eq=False)
class ArchCurve:
    """Smooth dental arch curve in a horizontal plane, parametrised by arc length (mm).

    Build it with :meth:`from_points`. All methods accept a scalar ``s`` (returning (3,)) or an
    array of M positions (returning (M, 3)); ``s`` is clipped to ``[0, length_mm]``.

    Attributes
    ----------
    control_points
        The points the curve was made from, projected onto its plane, (N, 3) LPS mm.
    up
        Unit vertical (3,) the plane is perpendicular to.
    level_mm
        Height of the plane along ``up`` (for up = +z: its z coordinate in mm).
    length_mm
        Arc length of the curve in mm.
    """

    control_points: np.ndarray
    up: np.ndarray
    level_mm: float
    length_mm: float
    _spline: CubicSpline = field(repr=False)
    _basis: np.ndarray = field(repr=False)  # (2, 3): e1, e2
    _buccal_sign: float = field(repr=False)
    _table_s: np.ndarray = field(repr=False)
    _table_xy: np.ndarray = field(repr=False)
    _tree: cKDTree = field(repr=False)

    @classmethod
    def from_points(cls, points_xyz: ArrayLike, up: ArrayLike | None = None) -> ArchCurve:
        """Interpolating cubic spline through the points, reparametrised by arc length.

        Parameters
        ----------
        points_xyz
            (N, 3) patient LPS mm, N >= 3 (4-20 clicked points is typical), in order along the
            arch (either end first). They are projected onto the horizontal plane at their mean
            height, so small vertical click differences do not tilt the curve.
        up
            The vertical (3,), default (0, 0, 1). Use :func:`volume_up` for a tilted volume.

        Raises
        ------
        ValueError
            Fewer than 3 points, non-finite values, or two consecutive points (after projection)
            closer than 1 micrometre, which would make the curve undefined.

        Notes
        -----
        A cubic spline on the chord-length parameter goes through every point without the
        overshoot a uniform parameter gives with unevenly spaced clicks; its not-a-knot ends
        follow the arch's curvature to the last point instead of straightening it (a circle
        arc through 20 points comes out with its length right to 1e-5). It is tabulated
        every 0.05 mm, its cumulative length gives points at exact arc-length steps of 0.25 mm,
        and a second cubic spline through those is the curve used everywhere: its parameter is
        arc length to better than 1e-6 relative, and it has analytic derivatives for tangents
        and for the Newton steps of :meth:`closest_arc_position`.
        """
        pts = np.asarray(points_xyz, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 3:
            raise ValueError(f"arch points must have shape (N, 3), got {pts.shape}")
        if len(pts) < 3:
            raise ValueError(f"an arch needs at least 3 points, got {len(pts)}")
        if not np.all(np.isfinite(pts)):
            raise ValueError("arch points contain NaN or infinite values")
        up_vec = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=float)
        up_vec = up_vec / np.linalg.norm(up_vec)
        e1, e2 = _plane_basis(up_vec)
        level = float(np.mean(pts @ up_vec))
        plane_xy = np.column_stack([pts @ e1, pts @ e2])
        chords = np.linalg.norm(np.diff(plane_xy, axis=0), axis=1)
        if np.any(chords < 1e-3):
            raise ValueError("two consecutive arch points coincide (closer than 0.001 mm in the plane)")
        chord_u = np.concatenate([[0.0], np.cumsum(chords)])
        first = CubicSpline(chord_u, plane_xy, bc_type="not-a-knot")

        fine_u = np.linspace(0.0, chord_u[-1], max(200, int(np.ceil(chord_u[-1] / 0.05)) + 1))
        speed = np.linalg.norm(first(fine_u, 1), axis=1)
        # trapezoid on a 0.05 mm grid of a smooth curve: length error far below a micrometre
        fine_s = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(fine_u))])
        length = float(fine_s[-1])
        n_table = max(8, int(np.ceil(length / _TABLE_STEP_MM)) + 1)
        table_s = np.linspace(0.0, length, n_table)
        table_u = np.interp(table_s, fine_s, fine_u)
        # refine u(s) by Newton on s(u) - s_target, with ds/du = speed (cheap, removes the
        # linear-interpolation error of the inverse table)
        fine_spline_s = CubicSpline(fine_u, fine_s)
        for _ in range(3):
            table_u = table_u - (fine_spline_s(table_u) - table_s) / np.linalg.norm(first(table_u, 1), axis=1)
            table_u = np.clip(table_u, 0.0, chord_u[-1])
        table_xy = first(table_u)
        spline = CubicSpline(table_s, table_xy, bc_type="not-a-knot")

        sign = 1.0 if _signed_area(spline(np.linspace(0.0, length, 400))) > 0 else -1.0
        projected = level * up_vec + plane_xy[:, :1] * e1 + plane_xy[:, 1:] * e2
        return cls(
            control_points=projected,
            up=up_vec,
            level_mm=level,
            length_mm=length,
            _spline=spline,
            _basis=np.vstack([e1, e2]),
            _buccal_sign=sign,
            _table_s=table_s,
            _table_xy=table_xy,
            _tree=cKDTree(table_xy),
        )

    # --- evaluation -------------------------------------------------------------------------

    def _to_3d(self, plane_xy: np.ndarray, offset_level: bool) -> np.ndarray:
        xyz: np.ndarray = plane_xy @ self._basis
        return xyz + self.level_mm * self.up if offset_level else xyz

    def _clip(self, s: np.ndarray | float) -> np.ndarray:
        clipped: np.ndarray = np.clip(np.asarray(s, dtype=float), 0.0, self.length_mm)
        return clipped

    def point(self, s: np.ndarray | float) -> np.ndarray:
        """Point(s) on the arch at arc position(s) ``s`` (mm): (3,) or (M, 3) LPS mm."""
        return self._to_3d(self._spline(self._clip(s)), offset_level=True)

    def tangent(self, s: np.ndarray | float) -> np.ndarray:
        """Unit tangent(s) in the direction of increasing ``s``: (3,) or (M, 3)."""
        d = self._spline(self._clip(s), 1)
        d = d / np.linalg.norm(d, axis=-1, keepdims=True)
        return self._to_3d(d, offset_level=False)

    def normal(self, s: np.ndarray | float) -> np.ndarray:
        """Unit horizontal normal(s) pointing buccal (away from the arch's inside): (3,) or (M, 3)."""
        d = self._spline(self._clip(s), 1)
        d = d / np.linalg.norm(d, axis=-1, keepdims=True)
        # in plane coordinates (e1, e2, up right-handed), rotating the tangent by -90 degrees
        # gives t x up, the right-hand side of the direction of travel
        right = np.stack([d[..., 1], -d[..., 0]], axis=-1)
        return self._to_3d(self._buccal_sign * right, offset_level=False)

    def closest_arc_position(self, xyz: ArrayLike) -> float | np.ndarray:
        """Arc position (mm) of the arch point closest to ``xyz`` after projecting it onto the plane.

        Parameters
        ----------
        xyz
            (3,) or (M, 3) patient LPS mm. The height along ``up`` is ignored, so every point of a
            vertical line above an arch point maps to that arch point's ``s``.

        Returns
        -------
        float or numpy.ndarray
            A float for one point, an (M,) array for M points; values in ``[0, length_mm]``.

        Notes
        -----
        The nearest entry of the 0.25 mm table gives the basin of the global minimum; Newton
        steps on ``(P(s) - q) . P'(s) = 0`` then converge to machine precision, which is what
        lets a landmark round-trip between images to well under a micrometre.
        """
        pts = np.asarray(xyz, dtype=float)
        single = pts.ndim == 1
        pts = pts.reshape(-1, 3)
        q = pts @ self._basis.T
        _, nearest = self._tree.query(q)
        s = self._table_s[nearest]
        for _ in range(_NEWTON_ITERATIONS):
            diff = self._spline(s) - q
            d1 = self._spline(s, 1)
            d2 = self._spline(s, 2)
            gradient = np.sum(diff * d1, axis=1)
            curvature = np.sum(d1 * d1, axis=1) + np.sum(diff * d2, axis=1)
            step = np.where(curvature > 1e-9, gradient / np.where(curvature > 1e-9, curvature, 1.0), 0.0)
            step = np.clip(step, -_TABLE_STEP_MM, _TABLE_STEP_MM)
            s = np.clip(s - step, 0.0, self.length_mm)
        return float(s[0]) if single else s

    def to_points(self) -> np.ndarray:
        """The control points (N, 3) LPS mm, projected onto the arch plane (for the landmarks file)."""
        return self.control_points.copy()

    def sample(self, step_mm: float = 1.0) -> np.ndarray:
        """Points (M, 3) along the whole arch every ``step_mm`` (for drawing it on an axial slice)."""
        return self.point(arc_positions(self, step_mm))


def _signed_area(plane_xy: np.ndarray) -> float:
    """Shoelace area of the polygon closed by the chord; > 0 when it turns counter-clockwise."""
    x, y = plane_xy[:, 0], plane_xy[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def arc_positions(arch: ArchCurve, step_mm: float, start_mm: float = 0.0, end_mm: float | None = None) -> np.ndarray:
    """Arc positions from ``start_mm`` to ``end_mm`` (default: the arch end) every ``step_mm``.

    This is the "step along the arch" helper for browsing cross-sections: the positions are
    exact multiples of ``step_mm`` from ``start_mm``; the end is included only when it falls on
    that grid (within 1 nm). A negative ``step_mm`` walks backwards (then ``end_mm`` defaults to 0).

    Raises
    ------
    ValueError
        When ``step_mm`` is zero or not finite.
    """
    if not np.isfinite(step_mm) or step_mm == 0:
        raise ValueError(f"step_mm must be a non-zero finite number, got {step_mm}")
    start = float(np.clip(start_mm, 0.0, arch.length_mm))
    if end_mm is None:
        end_mm = arch.length_mm if step_mm > 0 else 0.0
    end = float(np.clip(end_mm, 0.0, arch.length_mm))
    count = int(np.floor((end - start) / step_mm + 1e-6)) + 1
    if count <= 0:
        return np.empty(0)
    return start + step_mm * np.arange(count)
