"""The report's annotated images: panoramic overview and one cross-section per side.

Images come from :mod:`cbct_osteo.reformat` with their pixel↔patient mapping, so every mark
is drawn where the landmark really is (landmarks are patient LPS mm, never pixels). Drawing
uses Pillow on an upscaled copy, so lines and labels stay crisp when printed at ~200 dpi.
Only anatomy and marks are drawn: no patient name or ID is ever burnt into an image.

Colours (also named in the report's legend, :data:`cbct_osteo.report.statements.IMAGING_NOTE`):
red = inferior cortical width W, yellow = mental foramen and its margins, cyan = trabecular
ROI, light blue = cross-section planes on the panoramic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.volume import Volume

WIDTH_COLOUR = (235, 45, 45)
FORAMEN_COLOUR = (255, 215, 0)
#: The foramen's walls as the image shows them (the margin check of S and I).
IMAGE_WALL_COLOUR = (255, 140, 0)
ROI_COLOUR = (0, 215, 240)
PLANE_COLOUR = (110, 170, 255)
TEXT_COLOUR = (255, 255, 255)

#: Field of view of the cross-section figures (mm): wide enough for the whole body of the mandible.
CROSS_SECTION_FOV_MM = 34.0

#: An RGB colour, 0-255 per channel.
Colour = tuple[int, int, int]
#: A source-pixel position (row, col), fractional; a sequence or a NumPy array of two numbers.
PixelRC = Sequence[float] | npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Figure:
    """An annotated image ready for the page, with its caption (no patient identifiers).

    ``pixel_mm`` is the size of one pixel of ``image`` in mm (rows, cols), and
    ``patient_orientation`` the DICOM PatientOrientation letters of the row and column
    directions (e.g. ``("L", "F")``), both for the DICOM Secondary Capture export.
    """

    image: Image.Image
    caption: str
    pixel_mm: tuple[float, float] | None = None
    patient_orientation: tuple[str, str] | None = None


def orientation_letter(direction_xyz: npt.ArrayLike) -> str:
    """The DICOM orientation letter of the dominant axis of an LPS direction (``[1, 0.2, 0]`` -> ``"L"``).

    One letter, as highdicom's PatientOrientation values accept; the exact geometry of the
    reformats is in the report, the Secondary Capture only needs the sense of the image.
    """
    vector = np.asarray(direction_xyz, float)
    axis = int(np.argmax(np.abs(vector)))
    positive = vector[axis] > 0
    return (("R", "L"), ("A", "P"), ("F", "H"))[axis][int(positive)]


@lru_cache(maxsize=8)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Bitstream Vera from reportlab's own fonts: the same face as the PDF text, present in every install."""
    import reportlab

    name = "VeraBd.ttf" if bold else "Vera.ttf"
    return ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / name), size)


def to_display(image: npt.ArrayLike, low_pct: float = 1.0, high_pct: float = 99.7) -> npt.NDArray[np.uint8]:
    """Gray values to uint8 by a percentile window (CBCT gray values are uncalibrated, so no fixed HU window)."""
    values = np.asarray(image, dtype=np.float32)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, np.uint8)
    lo, hi = np.percentile(finite, [low_pct, high_pct])
    if hi <= lo:
        hi = lo + 1.0
    scaled = np.clip((np.nan_to_num(values, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    display: npt.NDArray[np.uint8] = (scaled * 255.0 + 0.5).astype(np.uint8)
    return display


class Canvas:
    """An upscaled RGB copy of a 2D image plus the map from source pixel (row, col) to canvas (x, y).

    ``flip_columns`` mirrors the image left-right (to show the patient's right on the viewer's
    left, the radiological convention of dental panoramics) and maps marks accordingly.
    """

    def __init__(self, gray: np.ndarray, scale: float, flip_columns: bool = False) -> None:
        display = to_display(gray)
        if flip_columns:
            display = display[:, ::-1]
        rows, cols = display.shape
        self.scale = float(scale)
        self.flip = flip_columns
        self.source_shape = (rows, cols)
        size = (max(1, round(cols * self.scale)), max(1, round(rows * self.scale)))
        self.image = Image.fromarray(display, mode="L").resize(size, Image.Resampling.BICUBIC).convert("RGB")
        self.draw = ImageDraw.Draw(self.image)

    def xy(self, rc: PixelRC) -> tuple[float, float]:
        """Canvas (x, y) of the centre of source pixel (row, col)."""
        row, col = float(rc[0]), float(rc[1])
        if self.flip:
            col = self.source_shape[1] - 1 - col
        return ((col + 0.5) * self.scale, (row + 0.5) * self.scale)

    def line(self, a: PixelRC, b: PixelRC, colour: Colour, width: int = 3, dash: float = 0.0) -> None:
        (x0, y0), (x1, y1) = self.xy(a), self.xy(b)
        if dash <= 0:
            self.draw.line([(x0, y0), (x1, y1)], fill=colour, width=width)
            return
        length = float(np.hypot(x1 - x0, y1 - y0))
        steps = max(1, int(length // dash))
        for i in range(0, steps, 2):
            t0, t1 = i / steps, min(1.0, (i + 1) / steps)
            self.draw.line(
                [(x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0), (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)],
                fill=colour,
                width=width,
            )

    def circle(self, rc: PixelRC, radius_px: float, colour: Colour, width: int = 3) -> None:
        x, y = self.xy(rc)
        self.draw.ellipse([x - radius_px, y - radius_px, x + radius_px, y + radius_px], outline=colour, width=width)

    def dot(self, rc: PixelRC, radius_px: float, colour: Colour) -> None:
        x, y = self.xy(rc)
        self.draw.ellipse([x - radius_px, y - radius_px, x + radius_px, y + radius_px], fill=colour, outline=(0, 0, 0))

    def text(
        self, xy: tuple[float, float], text: str, size: int, colour: Colour = TEXT_COLOUR, anchor: str = "la"
    ) -> None:
        """Text with a dark outline so it reads on bone and on air alike."""
        self.draw.text(
            xy,
            text,
            font=font(size, bold=True),
            fill=colour,
            anchor=anchor,
            stroke_width=max(2, size // 8),
            stroke_fill=(0, 0, 0),
        )

    def scale_bar(self, mm_per_source_pixel: float, target_fraction: float = 0.22) -> None:
        """A white bar with a length label in the lower-right corner, a round number of mm long."""
        mm_per_canvas_px = mm_per_source_pixel / self.scale
        width, height = self.image.size
        wanted_mm = width * target_fraction * mm_per_canvas_px
        length_mm = max((c for c in (1, 2, 5, 10, 20, 50, 100) if c <= max(wanted_mm, 1)), default=1)
        bar_px = length_mm / mm_per_canvas_px
        margin = max(10, min(width, height) // 40)
        size = max(14, min(width, height) // 24)
        x1, y = width - margin, height - margin - size // 2
        x0 = x1 - bar_px
        thick = max(4, size // 4)
        self.draw.rectangle([x0 - 2, y - thick // 2 - 2, x1 + 2, y + thick // 2 + 2], fill=(0, 0, 0))
        self.draw.rectangle([x0, y - thick // 2, x1, y + thick // 2], fill=(255, 255, 255))
        self.text(((x0 + x1) / 2, y - thick), f"{length_mm:g} mm", size, anchor="md")


def cross_section_figure(
    volume: Volume,
    arch: Any,
    landmarks: LandmarkSet,
    side: str,
    *,
    measured_points: Mapping[str, Sequence[float]] | None = None,
    image_walls: Sequence[Sequence[float]] = (),
    width_px: int = 640,
) -> Figure | None:
    """The cross-section through one side's mental foramen with every mark of that side.

    Parameters
    ----------
    arch
        The :class:`cbct_osteo.reformat.ArchCurve` of the case.
    measured_points
        Points actually used for W (e.g. the edge-refined ``border_outer`` / ``border_inner``),
        in LPS mm; they replace the placed landmarks of the same name in the drawing.
    image_walls
        The foramen walls the image shows near the placed margins (LPS mm, the margin check of S
        and I): drawn as dashed orange ticks longer than the margin ticks, so both stay visible.
    width_px
        Width of the returned image in pixels.

    Returns
    -------
    Figure or None
        ``None`` when the side has no foramen centre (no cross-section is defined).
    """
    from cbct_osteo.reformat import cross_section

    marks = landmarks.sides.get(side)
    points: dict[str, np.ndarray] = {k: np.asarray(v, float) for k, v in (marks.points if marks else {}).items()}
    for key, value in (measured_points or {}).items():
        if value is not None:
            points[key] = np.asarray(value, float)
    centre = points.get("foramen_centre")
    if centre is None:
        return None
    s = float(arch.closest_arc_position(centre))
    border = points.get("border_outer")
    centre_z = float(centre[2]) if border is None else 0.5 * (float(centre[2]) + float(border[2]))
    plane = cross_section(
        volume, arch, s, width_mm=CROSS_SECTION_FOV_MM, height_mm=CROSS_SECTION_FOV_MM, centre_z_mm=centre_z
    )
    rows, cols = plane.image.shape
    canvas = Canvas(plane.image, width_px / cols)
    px = canvas.scale  # canvas pixels per source pixel

    def rc(name: str) -> npt.NDArray[np.float64] | None:
        p = points.get(name)
        return None if p is None else np.asarray(plane.patient_to_pixel(p), float)

    c_rc = np.asarray(plane.patient_to_pixel(centre), float)
    sup, inf, outer, inner = (
        rc("foramen_superior"),
        rc("foramen_inferior"),
        rc("border_outer"),
        rc("border_inner"),
    )
    line_w = max(2, round(width_px / 220))
    if outer is not None:
        # The measurement line from the foramen down to the inferior border, and the border tangent.
        canvas.line(c_rc, outer, (255, 255, 255), width=max(1, line_w - 1), dash=10)
        tangent = np.array([0.0, 6.0 / plane.pixel_mm])
        canvas.line(outer - tangent, outer + tangent, (255, 255, 255), width=max(1, line_w - 1), dash=6)
    roi = marks.trab_roi if marks else None
    if roi is not None:
        r_rc = np.asarray(plane.patient_to_pixel(np.asarray(roi.centre, float)), float)
        half = 0.5 * roi.size_mm / plane.pixel_mm
        (x0, y0), (x1, y1) = canvas.xy(r_rc - half), canvas.xy(r_rc + half)
        if roi.shape == "circle":
            canvas.draw.ellipse([x0, y0, x1, y1], outline=ROI_COLOUR, width=line_w)
        else:
            canvas.draw.rectangle([x0, y0, x1, y1], outline=ROI_COLOUR, width=line_w)
        canvas.text((x1 + 6, y0), "ROI", max(14, width_px // 34), ROI_COLOUR)
    if sup is not None and inf is not None:
        (sup_x, sup_y), (inf_x, inf_y) = canvas.xy(sup), canvas.xy(inf)
        radius = 0.5 * float(np.hypot(sup_x - inf_x, sup_y - inf_y))
        canvas.circle(0.5 * (sup + inf), max(radius, 4.0), FORAMEN_COLOUR, width=line_w)
    for mark in (sup, inf):
        if mark is not None:
            tick = np.array([0.0, 2.0 / plane.pixel_mm])
            canvas.line(mark - tick, mark + tick, FORAMEN_COLOUR, width=line_w)
    for wall in image_walls:
        wall_rc = np.asarray(plane.patient_to_pixel(np.asarray(wall, float)), float)
        tick = np.array([0.0, 3.2 / plane.pixel_mm])
        canvas.line(wall_rc - tick, wall_rc + tick, IMAGE_WALL_COLOUR, width=max(1, line_w - 1), dash=5)
    canvas.dot(c_rc, max(3.0, px * 0.35), FORAMEN_COLOUR)
    if outer is not None and inner is not None:
        canvas.line(outer, inner, WIDTH_COLOUR, width=line_w + 2)
        for end in (outer, inner):
            tick = np.array([0.0, 1.6 / plane.pixel_mm])
            canvas.line(end - tick, end + tick, WIDTH_COLOUR, width=line_w + 1)
        x, y = canvas.xy(0.5 * (outer + inner))
        canvas.text((x + 2.0 / plane.pixel_mm * px, y), "W", max(16, width_px // 28), WIDTH_COLOUR, "lm")
    label_size = max(16, width_px // 30)
    buccal_right = _buccal_is_right(plane, arch, s)
    canvas.text((10, 8), "buccal" if not buccal_right else "lingual", label_size)
    canvas.text((canvas.image.size[0] - 10, 8), "buccal" if buccal_right else "lingual", label_size, anchor="ra")
    canvas.text((10, canvas.image.size[1] - 10), "inferior", label_size, anchor="ld")
    canvas.scale_bar(plane.pixel_mm)
    side_word = "Right" if side == "right" else "Left"
    return Figure(
        canvas.image,
        f"{side_word} side: cross-section through the mental foramen",
        pixel_mm=(plane.pixel_mm / px, plane.pixel_mm / px),
        patient_orientation=(orientation_letter(plane.col_step_xyz), orientation_letter(plane.row_step_xyz)),
    )


def panoramic_figure(
    volume: Volume,
    arch: Any,
    landmarks: LandmarkSet,
    *,
    width_px: int = 1400,
    pixel_mm: float = 0.3,
) -> Figure:
    """The panoramic (curved planar) reformat with both foramina and the cross-section planes.

    Shown the way dentists read a panoramic radiograph: patient's right on the viewer's left.
    The scale bar is along the arch (columns are arc length, rows are height; both ``pixel_mm``).
    """
    from cbct_osteo.reformat import panoramic

    pano = panoramic(volume, arch, pixel_mm=pixel_mm)
    rows, cols = pano.image.shape
    start_x = float(np.asarray(arch.point(0.0))[0])
    end_x = float(np.asarray(arch.point(arch.length_mm))[0])
    # Column 0 is arc position 0; LPS +x is the patient's left, so flip when the arch starts on the left.
    flip = bool(start_x > end_x)
    canvas = Canvas(pano.image, width_px / cols, flip_columns=flip)
    label_size = max(18, width_px // 48)
    line_w = max(2, round(width_px / 450))
    for side in ("right", "left"):
        marks = landmarks.sides.get(side)
        centre = marks.points.get("foramen_centre") if marks is not None else None
        if marks is None or centre is None:
            continue
        r, c = np.asarray(pano.patient_to_pixel(np.asarray(centre, float)), float)
        canvas.line((0, c), (rows - 1, c), PLANE_COLOUR, width=line_w, dash=12)
        radius = max(6.0, 2.0 / pano.pixel_mm * canvas.scale)
        sup, inf = marks.points.get("foramen_superior"), marks.points.get("foramen_inferior")
        if sup is not None and inf is not None:
            rs = np.asarray(pano.patient_to_pixel(np.asarray(sup, float)), float)[0]
            ri = np.asarray(pano.patient_to_pixel(np.asarray(inf, float)), float)[0]
            radius = max(radius * 0.6, 0.5 * abs(ri - rs) * canvas.scale + 3)
        canvas.circle((r, c), radius, FORAMEN_COLOUR, width=line_w + 1)
        x, _ = canvas.xy((0, c))
        canvas.text((x, 8), "R" if side == "right" else "L", label_size, PLANE_COLOUR, anchor="ma")
    canvas.text((10, 8), "patient's right", max(14, label_size * 3 // 4), anchor="la")
    canvas.text((canvas.image.size[0] - 10, 8), "patient's left", max(14, label_size * 3 // 4), anchor="ra")
    canvas.scale_bar(pano.pixel_mm, target_fraction=0.08)
    return Figure(
        canvas.image,
        "Panoramic reformat along the dental arch, patient's right on the left: mental foramina (yellow circles) "
        "and the cross-section planes (dashed blue). The scale bar holds along the arch and vertically.",
        pixel_mm=(pano.pixel_mm / canvas.scale, pano.pixel_mm / canvas.scale),
        # Columns run along the curved arch from the patient's right to left, rows downwards.
        patient_orientation=("L", "F"),
    )


def _buccal_is_right(plane: Any, arch: Any, s: float) -> bool:
    """Whether the plane's columns run towards buccal (the arch normal points buccal by contract)."""
    normal = np.asarray(arch.normal(s), float)
    return float(np.dot(np.asarray(plane.col_step_xyz, float), normal)) > 0


def placeholder(text: str, size: tuple[int, int]) -> Image.Image:
    """A light-gray box with a message, for a figure that cannot be drawn (e.g. no 3D rendering here)."""
    image = Image.new("RGB", size, (238, 238, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, size[0] - 1, size[1] - 1], outline=(160, 160, 160), width=3)
    draw.multiline_text(
        (size[0] / 2, size[1] / 2),
        text,
        font=font(max(14, size[0] // 32)),
        fill=(90, 90, 90),
        anchor="mm",
        align="center",
    )
    return image
