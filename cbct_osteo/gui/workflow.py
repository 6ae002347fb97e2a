"""The guided workflow's logic, without Qt: which steps exist, which are done, what a click does.

The steps come from the index catalogue (:func:`cbct_osteo.indices.catalogue.guided_steps`), so
adding an index that needs a new landmark adds its step here with no GUI change. A step is done
when the landmark it places exists; the user may do them in any order and redo any of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbct_osteo.indices.catalogue import LandmarkStep, guided_steps
from cbct_osteo.io.landmarks_file import LandmarkSet

#: At least this many arch points before the arch curve (and the panoramic) can be built.
MIN_ARCH_POINTS = 4

#: Marker colour per landmark kind (hex), shared by the 2D views, the 3D view and the sketches.
KIND_COLOURS: dict[str, str] = {
    "arch": "#ffbf1a",
    "foramen_centre": "#ff4d4d",
    "foramen_superior": "#ff9f40",
    "foramen_inferior": "#ffd24d",
    "border_outer": "#4dff88",
    "border_inner": "#40c4ff",
    "trab_roi": "#d580ff",
}
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
    """The guided steps, in the catalogue's order (arch first, then per side)."""
    return guided_steps()


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
        if step.what != "grade" and not is_done(step, landmarks):
            return step
    return None


def markers_for(landmarks: LandmarkSet) -> list[tuple[tuple[str, str], np.ndarray, str, str, float, str]]:
    """Every placed landmark as (key, xyz, colour, label, roi size mm, roi shape) for drawing."""
    out = []
    for side, marks in landmarks.sides.items():
        for kind, xyz in marks.points.items():
            out.append(((side, kind), np.asarray(xyz, float), KIND_COLOURS.get(kind, "#ffffff"), KIND_LABELS.get(kind, kind), 0.0, ""))
        if marks.trab_roi is not None:
            roi = marks.trab_roi
            out.append(((side, "trab_roi"), np.asarray(roi.centre, float), KIND_COLOURS["trab_roi"], "ROI", float(roi.size_mm), roi.shape))
    return out


