"""Whether a case is complete enough to report, and what is still to do, in plain words.

A report of an incomplete case must never pass for a final one (issue 16): every page then
carries :data:`INCOMPLETE_MARK`, the recommendation lists the missing steps in the words of
the guided workflow (never internal ids such as ``border_outer``), and the default file name
says so. The steps come from the index catalogue, so a new index's landmark is covered here.
"""

from __future__ import annotations

from cbct_osteo.indices.steps import guided_steps
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.measure.geometry import MIN_ARCH_POINTS
from cbct_osteo.measure.validation import NAMES

INCOMPLETE_MARK = "INCOMPLETE – not for clinical use"
#: Appended to the default report file name of an incomplete case.
INCOMPLETE_SUFFIX = "_INCOMPLETE.pdf"
SIDE_ORDER = ("right", "left")  # the report's and the screen's side order


def _done(landmarks: LandmarkSet, side: str | None, kind: str, what: str) -> bool:
    if what == "arch":
        return len(landmarks.arch_points) >= MIN_ARCH_POINTS
    if what == "grade":
        return bool(landmarks.grades.get(side or "", {}).get(kind))
    marks = landmarks.sides.get(side or "")
    if marks is None:
        return False
    return marks.trab_roi is not None if what == "roi" else kind in marks.points


def missing_steps(landmarks: LandmarkSet, include_grades: bool = False) -> list[str]:
    """Each guided step not yet done, as a plain sentence ("Right side: place the lower border …").

    The user's grades (CTCI) are optional for a report (the screening rests on the measured
    indices), so they count only with ``include_grades``.
    """
    steps = guided_steps()
    order = {side: i for i, side in enumerate(SIDE_ORDER)}
    steps = sorted(steps, key=lambda s: (s.side is not None, order.get(s.side or "", 0)))  # stable: arch, right, left
    out = []
    for step in steps:
        if _done(landmarks, step.side, step.kind, step.what) or (step.what == "grade" and not include_grades):
            continue
        if step.what == "arch":
            out.append(f"place {NAMES['arch']} (at least {MIN_ARCH_POINTS} points)")
        elif step.what == "grade":
            out.append(f"{(step.side or '').capitalize()} side: choose the cortical index grade (C1, C2 or C3)")
        else:
            out.append(
                f"{(step.side or '').capitalize()} side: place {NAMES.get(step.kind, step.kind.replace('_', ' '))}"
            )
    return out


def incomplete_recommendation(missing: list[str]) -> str:
    """The recommendation of an incomplete report: what to do before it can be used."""
    return (
        f"{INCOMPLETE_MARK}. This report was made before all landmarks were placed; complete these steps "
        "and write it again: " + "; ".join(missing) + "."
    )
