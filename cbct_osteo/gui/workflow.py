"""The guided workflow's logic, without Qt: which steps exist, which are done, what a click does.

The steps come from the index catalogue (:func:`cbct_osteo.indices.steps.guided_steps`), so
adding an index that needs a new landmark adds its step here with no GUI change. A step is done
when the landmark it places exists; the user may do them in any order and redo any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbct_osteo.indices.steps import LandmarkStep, guided_steps
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.measure.geometry import MIN_ARCH_POINTS  # one minimum for the GUI, the report and measure
from cbct_osteo.report.figures import FORAMEN_COLOUR, IMAGE_WALL_COLOUR, ROI_COLOUR, WIDTH_COLOUR


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


#: The report's figure colours (cbct_osteo.report.figures): the screen and the paper agree.
MEASURED_COLOUR = _hex(WIDTH_COLOUR)
WALL_COLOUR = _hex(IMAGE_WALL_COLOUR)
#: Marker colour per landmark kind (hex), shared by the 2D views, the 3D view and the sketches:
#: the foramen in the report's yellow, the cortex margins in its red, the ROI in its cyan.
KIND_COLOURS: dict[str, str] = {
    "arch": "#ff9f1a",
    "foramen_centre": _hex(FORAMEN_COLOUR),
    "foramen_superior": _hex(FORAMEN_COLOUR),
    "foramen_inferior": _hex(FORAMEN_COLOUR),
    "border_outer": "#ff7a6e",
    "border_inner": "#ff7a6e",
    "trab_roi": _hex(ROI_COLOUR),
}
#: A landmark with a placement warning (e.g. the trabecular ROI on a root) is drawn in this red.
WARNING_COLOUR = "#ff1a1a"
#: Side order everywhere on screen, as in the report: patient right first (on the left of the screen).
SIDE_ORDER = ("right", "left")
#: Short labels drawn next to markers.
KIND_LABELS: dict[str, str] = {
    "foramen_centre": "MF",
    "foramen_superior": "S",
    "foramen_inferior": "I",
    "border_outer": "B",
    "border_inner": "E",
    "trab_roi": "ROI",
}


@dataclass(frozen=True)
class StepStatus:
    step: LandmarkStep
    done: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.step.side or "", self.step.kind)

    @property
    def title(self) -> str:
        name = self.step.kind.replace("_", " ")
        if self.step.what == "grade":
            name = f"{self.step.kind} grade"
        return f"{self.step.side.capitalize()}: {name}" if self.step.side else name.capitalize()


def steps() -> list[LandmarkStep]:
    """The guided steps in the catalogue's order within a side: the arch, then right, then left."""
    rank = {None: 0, SIDE_ORDER[0]: 1, SIDE_ORDER[1]: 2}
    return sorted(guided_steps(), key=lambda step: rank.get(step.side, 3))


def is_done(step: LandmarkStep, landmarks: LandmarkSet) -> bool:
    """Whether the landmark (or grade) this step asks for has been placed."""
    if step.what == "arch":
        return len(landmarks.arch_points) >= MIN_ARCH_POINTS
    side = landmarks.sides.get(step.side or "")
    if step.what == "grade":
        return bool(landmarks.grades.get(step.side or "", {}).get(step.kind))
    if side is None:
        return False
    if step.what == "roi":
        return side.trab_roi is not None
    return step.kind in side.points


def statuses(landmarks: LandmarkSet) -> list[StepStatus]:
    return [StepStatus(step, is_done(step, landmarks)) for step in steps()]


def next_open_step(landmarks: LandmarkSet, after: LandmarkStep | None = None) -> LandmarkStep | None:
    """The first step not yet done after ``after`` (wrapping around), or None when all are done."""
    all_steps = steps()
    start = all_steps.index(after) + 1 if after in all_steps else 0
    ordered = all_steps[start:] + all_steps[:start]
    for step in ordered:
        if not is_done(step, landmarks):  # grades included: the flow never skips a step
            return step
    return None


def all_done(landmarks: LandmarkSet) -> bool:
    """Every guided step done, grades included."""
    return all(status.done for status in statuses(landmarks))


def markers_for(landmarks: LandmarkSet) -> list[tuple[tuple[str, str], np.ndarray, str, str, float, str]]:
    """Every placed landmark as (key, xyz, colour, label, roi size mm, roi shape) for drawing."""
    out = []
    for side, marks in landmarks.sides.items():
        for kind, xyz in marks.points.items():
            out.append(
                (
                    (side, kind),
                    np.asarray(xyz, float),
                    KIND_COLOURS.get(kind, "#ffffff"),
                    KIND_LABELS.get(kind, kind),
                    0.0,
                    "",
                )
            )
        if marks.trab_roi is not None:
            roi = marks.trab_roi
            out.append(
                (
                    (side, "trab_roi"),
                    np.asarray(roi.centre, float),
                    KIND_COLOURS["trab_roi"],
                    "ROI",
                    float(roi.size_mm),
                    roi.shape,
                )
            )
    return out
