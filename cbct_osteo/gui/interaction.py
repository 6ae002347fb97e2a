"""Plain functions behind the mouse: window/level, zoom/pan, slice planes, scale bars.

Following napari, every interaction is a function of (state, event position) that tests can
call without a canvas; the Qt widgets only translate events into these calls. Nothing here
imports Qt.

Conventions: images are numpy arrays indexed (row, col); a pixel's centre is at integer
(row, col); ``pixel_mm`` is (row spacing, column spacing) in mm. Screen coordinates are
(x, y) in device-independent pixels with y down. Patient coordinates are LPS mm (x, y, z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

#: Planes of the orthogonal slice views and, for each, (patient axis normal to the plane,
#: patient axis shown along rows, +1 if rows go towards +axis, patient axis along columns, sign).
#: Radiological convention: patient right on screen left (+x = patient left goes right),
#: anterior up on axial (+y = posterior goes down), superior up on coronal/sagittal,
#: anterior on the left of sagittal.
PLANES: dict[str, tuple[int, int, int, int, int]] = {
    "axial": (2, 1, +1, 0, +1),
    "coronal": (1, 2, -1, 0, +1),
    "sagittal": (0, 2, -1, 1, +1),
}
#: Orientation letters at (left, right, top, bottom) of each plane, from PLANES.
ORIENTATION_LABELS: dict[str, tuple[str, str, str, str]] = {
    "axial": ("R", "L", "A", "P"),
    "coronal": ("R", "L", "S", "I"),
    "sagittal": ("A", "P", "S", "I"),
}


# ----------------------------------------------------------------------------- window / level
def window_level_drag(
    window: float, level: float, dx: float, dy: float, value_range: float, pixels_for_range: float = 400.0
) -> tuple[float, float]:
    """New (window, level) after a right-drag of (dx, dy) screen pixels.

    Dragging right widens the window, dragging down raises the level (as in most viewers).
    ``value_range`` (max - min gray value of the scan) sets the speed so that a drag of
    ``pixels_for_range`` pixels sweeps the whole range whatever the scanner's gray scale.
    """
    per_px = max(value_range, 1e-6) / pixels_for_range
    new_window = max(window + dx * per_px, per_px)
    return float(new_window), float(level + dy * per_px)


def auto_window_level(
    values: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.5, max_samples: int = 200_000
) -> tuple[float, float]:
    """(window, level) spanning the ``low_pct``..``high_pct`` percentiles of ``values``.

    CBCT gray values are uncalibrated, so fixed HU presets often miss; percentiles of the
    volume's own histogram (on a strided sample so it costs milliseconds) always show
    something sensible. Air-dominated scans still work because the top percentile is bone.
    """
    flat = np.asarray(values).ravel()
    step = max(1, flat.size // max_samples)
    sample = flat[::step].astype(np.float64)
    lo, hi = np.percentile(sample, [low_pct, high_pct])
    if hi <= lo:
        hi = lo + 1.0
    return float(hi - lo), float((hi + lo) / 2.0)


def apply_window(image: np.ndarray, window: float, level: float) -> np.ndarray:
    """Map gray values to display bytes (0..255) with a linear window; returns a C-contiguous uint8 array."""
    lo = level - window / 2.0
    scale = 255.0 / max(window, 1e-6)
    out = (np.asarray(image, dtype=np.float32) - np.float32(lo)) * np.float32(scale)
    np.clip(out, 0, 255, out=out)
    return np.ascontiguousarray(out.astype(np.uint8))


# ----------------------------------------------------------------------------- zoom / pan
@dataclass(frozen=True)
class ViewTransform:
    """Where an image sits on the screen.

    The image point ``centre_rc`` is drawn at the widget centre; ``zoom`` multiplies the
    scale that fits the whole image. Pixels are drawn to physical scale (``pixel_mm``), so a
    coronal slice with 0.5 mm slices and 0.25 mm pixels is not squashed.
    """

    image_shape: tuple[int, int]
    pixel_mm: tuple[float, float]
    widget_size: tuple[float, float]
    centre_rc: tuple[float, float]
    zoom: float = 1.0

    @classmethod
    def fitted(
        cls, image_shape: tuple[int, int], pixel_mm: tuple[float, float], widget_size: tuple[float, float]
    ) -> ViewTransform:
        rows, cols = image_shape
        return cls(
            (rows, cols),
            (pixel_mm[0], pixel_mm[1]),
            (widget_size[0], widget_size[1]),
            ((rows - 1) / 2.0, (cols - 1) / 2.0),
            1.0,
        )

    @property
    def px_per_mm(self) -> float:
        """Screen pixels per mm at the current zoom."""
        rows, cols = self.image_shape
        height_mm = max(rows * self.pixel_mm[0], 1e-6)
        width_mm = max(cols * self.pixel_mm[1], 1e-6)
        fit = min(self.widget_size[0] / width_mm, self.widget_size[1] / height_mm)
        return fit * self.zoom

    def image_to_screen(self, rc: np.ndarray | tuple) -> np.ndarray:
        """(..., 2) image (row, col) to (..., 2) screen (x, y)."""
        rc = np.asarray(rc, dtype=float)
        s = self.px_per_mm
        x = self.widget_size[0] / 2.0 + (rc[..., 1] - self.centre_rc[1]) * self.pixel_mm[1] * s
        y = self.widget_size[1] / 2.0 + (rc[..., 0] - self.centre_rc[0]) * self.pixel_mm[0] * s
        return np.stack([x, y], axis=-1)

    def screen_to_image(self, xy: np.ndarray | tuple) -> np.ndarray:
        """(..., 2) screen (x, y) to (..., 2) image (row, col), fractional."""
        xy = np.asarray(xy, dtype=float)
        s = self.px_per_mm
        col = self.centre_rc[1] + (xy[..., 0] - self.widget_size[0] / 2.0) / (self.pixel_mm[1] * s)
        row = self.centre_rc[0] + (xy[..., 1] - self.widget_size[1] / 2.0) / (self.pixel_mm[0] * s)
        return np.stack([row, col], axis=-1)

    def zoomed_about(self, xy: tuple[float, float], factor: float) -> ViewTransform:
        """Zoom by ``factor`` keeping the image point under screen ``xy`` fixed (wheel zoom)."""
        anchor = self.screen_to_image(xy)
        zoom = float(np.clip(self.zoom * factor, 0.1, 50.0))
        scaled = replace(self, zoom=zoom)
        moved = scaled.screen_to_image(xy)
        centre = (self.centre_rc[0] + anchor[0] - moved[0], self.centre_rc[1] + anchor[1] - moved[1])
        return replace(scaled, centre_rc=centre)

    def panned(self, dx: float, dy: float) -> ViewTransform:
        """Move the image by (dx, dy) screen pixels (drag pan)."""
        s = self.px_per_mm
        return replace(
            self,
            centre_rc=(
                self.centre_rc[0] - dy / (self.pixel_mm[0] * s),
                self.centre_rc[1] - dx / (self.pixel_mm[1] * s),
            ),
        )

    def showing(self, centre_rc: tuple[float, float], px_per_mm: float) -> ViewTransform:
        """The image point ``centre_rc`` at the widget centre, drawn at ``px_per_mm`` screen pixels per mm."""
        fit = self.px_per_mm / self.zoom
        zoom = float(np.clip(px_per_mm / max(fit, 1e-9), 0.1, 50.0))
        return replace(self, centre_rc=(float(centre_rc[0]), float(centre_rc[1])), zoom=zoom)

    def resized(self, widget_size: tuple[float, float]) -> ViewTransform:
        return replace(self, widget_size=(widget_size[0], widget_size[1]))

    def with_image(self, image_shape: tuple[int, int], pixel_mm: tuple[float, float]) -> ViewTransform:
        """Keep zoom and pan when a new image of the same shape arrives; refit otherwise."""
        if tuple(image_shape) == self.image_shape and tuple(pixel_mm) == self.pixel_mm:
            return self
        return ViewTransform.fitted(image_shape, pixel_mm, self.widget_size)


def scale_bar(px_per_mm: float, max_px: float = 120.0) -> tuple[float, float]:
    """A round scale-bar length (1, 2, 5 × 10^k mm) no longer than ``max_px``: returns (mm, px)."""
    if px_per_mm <= 0:
        return 0.0, 0.0
    max_mm = max_px / px_per_mm
    exponent = math.floor(math.log10(max_mm))
    best = 10.0**exponent
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        length = mantissa * 10.0**exponent
        if length <= max_mm:
            best = length
    return best, best * px_per_mm


def nearest_point(screen_points: np.ndarray, xy: tuple[float, float], radius_px: float) -> int | None:
    """Index of the screen point closest to ``xy`` within ``radius_px``, or None (for picking landmarks)."""
    pts = np.asarray(screen_points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return None
    dist = np.hypot(pts[:, 0] - xy[0], pts[:, 1] - xy[1])
    best = int(np.argmin(dist))
    return best if dist[best] <= radius_px else None


# ----------------------------------------------------------------------------- orthogonal slices
@dataclass(frozen=True)
class SlicePlan:
    """How one orthogonal view cuts the (z, y, x) voxel array and orients it on screen.

    ``slice_axis``, ``row_axis`` and ``col_axis`` are voxel axes (0 = z, 1 = y, 2 = x) chosen
    as those closest to the plane's patient axes; ``row_flip``/``col_flip`` reverse them so the
    radiological orientation holds whatever the scan's storage order.
    """

    plane: str
    slice_axis: int
    row_axis: int
    col_axis: int
    row_flip: bool
    col_flip: bool
    shape_zyx: tuple[int, int, int]

    @property
    def n_slices(self) -> int:
        return self.shape_zyx[self.slice_axis]

    @property
    def image_shape(self) -> tuple[int, int]:
        return self.shape_zyx[self.row_axis], self.shape_zyx[self.col_axis]

    def extract(self, voxels: np.ndarray, index: int) -> np.ndarray:
        """The 2D slice ``index`` as (rows, cols), oriented for display (a view, no copy when possible)."""
        index = int(np.clip(index, 0, self.n_slices - 1))
        image = np.take(voxels, index, axis=self.slice_axis)
        remaining = [a for a in range(3) if a != self.slice_axis]
        if remaining.index(self.row_axis) != 0:
            image = image.T
        if self.row_flip:
            image = image[::-1, :]
        if self.col_flip:
            image = image[:, ::-1]
        return image

    def to_voxel(self, rc: np.ndarray, index: float) -> np.ndarray:
        """(..., 2) display (row, col) on slice ``index`` to (..., 3) voxel (z, y, x)."""
        rc = np.asarray(rc, dtype=float)
        rows, cols = self.image_shape
        r = (rows - 1) - rc[..., 0] if self.row_flip else rc[..., 0]
        c = (cols - 1) - rc[..., 1] if self.col_flip else rc[..., 1]
        out = np.zeros(rc.shape[:-1] + (3,))
        out[..., self.slice_axis] = index
        out[..., self.row_axis] = r
        out[..., self.col_axis] = c
        return out

    def from_voxel(self, zyx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 3) voxel (z, y, x) to ((..., 2) display (row, col), (...) slice index)."""
        zyx = np.asarray(zyx, dtype=float)
        rows, cols = self.image_shape
        r = zyx[..., self.row_axis]
        c = zyx[..., self.col_axis]
        if self.row_flip:
            r = (rows - 1) - r
        if self.col_flip:
            c = (cols - 1) - c
        return np.stack([r, c], axis=-1), zyx[..., self.slice_axis]


def slice_plan(plane: str, affine: np.ndarray, shape_zyx: tuple[int, int, int]) -> SlicePlan:
    """Choose voxel axes and flips for ``plane`` from the volume's (z, y, x) → LPS affine."""
    normal_axis, row_patient, row_sign, col_patient, col_sign = PLANES[plane]
    directions = np.asarray(affine, float)[:3, :3]  # column j = patient direction of voxel axis j
    used: set[int] = set()

    def voxel_axis_for(patient_axis: int) -> int:
        order = np.argsort(-np.abs(directions[patient_axis, :]))
        for axis in order:
            if int(axis) not in used:
                used.add(int(axis))
                return int(axis)
        raise AssertionError("unreachable")

    slice_axis = voxel_axis_for(normal_axis)
    row_axis = voxel_axis_for(row_patient)
    col_axis = voxel_axis_for(col_patient)
    row_flip = bool(np.sign(directions[row_patient, row_axis]) != row_sign)
    col_flip = bool(np.sign(directions[col_patient, col_axis]) != col_sign)
    return SlicePlan(
        plane,
        slice_axis,
        row_axis,
        col_axis,
        row_flip,
        col_flip,
        (int(shape_zyx[0]), int(shape_zyx[1]), int(shape_zyx[2])),
    )
