"""The guided landmark steps of the GUI, derived from the index catalogue.

Each step says what to place (a point, the ROI, the arch or a grade), on which view, in the words
the user reads. They are derived from the catalogue's entries, so a new index's landmark gets its
step here (and :func:`guided_steps` fails until its wording is in :data:`_STEP_TEXT`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cbct_osteo.indices.catalogue import LANDMARK_KINDS, MEASUREMENTS_BY_ID, IndexEntry, all_entries
from cbct_osteo.io.landmarks_file import SIDES


@dataclass(frozen=True)
class LandmarkStep:
    """One guided step of the GUI: what to place, on which view, with which words."""

    side: str | None
    kind: str
    what: str  # "arch", "point", "roi" or "grade"
    view: str  # "axial", "panoramic" or "cross-section"
    instruction: str


#: Order and wording of the guided steps. The foramen is found on the panoramic image; the
#: cross-section through it then opens and everything else is placed there.
_STEP_TEXT: dict[str, tuple[str, str, str]] = {
    "foramen_centre": (
        "point",
        "panoramic",
        "Click the centre of the mental foramen where it opens through the buccal cortex (the round "
        "opening on the outer surface, not the canal inside the bone) on the panoramic, then again "
        "on the cross-section to centre it.",
    ),
    "foramen_superior": (
        "point",
        "cross-section",
        "Click the upper margin of the foramen on the vertical measurement line.",
    ),
    "foramen_inferior": ("point", "cross-section", "Click the lower margin of the foramen on the measurement line."),
    "border_outer": ("point", "cross-section", "Click the outer surface of the inferior cortex below the foramen."),
    "border_inner": (
        "point",
        "cross-section",
        "Click the inner (endosteal) margin of the inferior cortex on the same line.",
    ),
    "trab_roi": (
        "roi",
        "cross-section",
        "Place the 5 mm trabecular square between the canal and the cortex, avoiding roots, canal and cortex.",
    ),
}
ARCH_STEP = LandmarkStep(
    None, "arch", "arch", "axial", "Click points along the dental arch on an axial slice, from one side to the other."
)


def guided_steps(entries: tuple[IndexEntry, ...] | None = None) -> list[LandmarkStep]:
    """The GUI's guided steps for ``entries`` (default: all), in placement order, per side.

    The arch comes first (every cross-section needs it), then for each side the landmark
    kinds any entry needs, in the order of :data:`LANDMARK_KINDS`, then the grades.
    """
    entries = all_entries() if entries is None else entries
    needed = {kind for e in entries for kind in e.landmarks}
    for e in entries:
        for measurement_id in e.measurements:
            needed.update(MEASUREMENTS_BY_ID[measurement_id].landmarks)
    steps = [ARCH_STEP]
    for side in SIDES:
        for kind in LANDMARK_KINDS:
            if kind in needed:
                what, view, text = _STEP_TEXT[kind]
                steps.append(
                    LandmarkStep(side, kind, what, view, f"{side.capitalize()} side: {text[0].lower()}{text[1:]}")
                )
        for e in entries:
            if e.kind == "grade":
                steps.append(
                    LandmarkStep(side, e.id, "grade", "cross-section", f"{side.capitalize()} side: {e.guidance}")
                )
    return steps
