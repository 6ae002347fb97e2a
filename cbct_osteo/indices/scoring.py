"""Scoring: measurements per side -> index values, side means, categories and the screening.

Everything here is a pure function of :class:`~cbct_osteo.measure.quantity.Measurement`
objects and the catalogue, so it can be tested with hand-made measurements and reused by
the GUI, the command line and the batch mode alike. The words produced here are the ones the
user reads: a missing landmark gives "not computable: place border_inner (left)", never a
guess; an index without a validated cutoff says so; the unverified Castro index says
"definition pending verification" instead of a category.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cbct_osteo.indices import screening_words as words
from cbct_osteo.indices.catalogue import (
    CTCI_GRADES,
    CTCI_LOW_GRADES,
    DISCLAIMER,
    MEASUREMENTS_BY_ID,
    SIDE_TOLERANCE_MAX_FRACTION,
    IndexEntry,
    all_entries,
)
from cbct_osteo.indices.results import (
    CASTRO_PENDING_TEXT,
    LOW,
    NO_CUTOFF,
    NO_SIGN_TEXT,
    NORMAL,
    NOT_COMPUTABLE,
    PENDING,
    CaseResult,
    IndexResult,
    Screening,
    SideCheck,
    SideResult,
)
from cbct_osteo.io.landmarks_file import SIDES, LandmarkSet
from cbct_osteo.measure.quantity import NOT_MEASURABLE, OK, UNCERTAIN, Measurement, worst_quality

__all__ = [
    "CASTRO_PENDING_TEXT",
    "CaseResult",
    "IndexResult",
    "LOW",
    "NORMAL",
    "NOT_COMPUTABLE",
    "NO_CUTOFF",
    "NO_SIGN_TEXT",
    "PENDING",
    "Screening",
    "SideCheck",
    "SideResult",
    "score_case",
    "score_index",
    "score_mean",
    "score_side",
    "screen",
]

# --- per side --------------------------------------------------------------------------------------


def _missing_text(side: str, missing: tuple[str, ...]) -> str:
    return f"place {', '.join(missing)} ({side})"


def _inputs_problem(
    entry: IndexEntry, side: str, measurements: Mapping[str, Measurement], landmarks: LandmarkSet | None
) -> tuple[tuple[str, ...], str] | None:
    """``(missing landmarks, sentence)`` when an input measurement has no value, else ``None``."""
    missing: list[str] = []
    failed: list[str] = []
    for measurement_id in entry.measurements:
        m = measurements.get(measurement_id)
        if m is not None and m.measurable:
            continue
        if m is not None and (m.missing or m.notes or m.details):
            kinds = m.missing  # measured and failed: its notes say why, not a missing landmark
        else:
            kinds = _absent_landmarks(MEASUREMENTS_BY_ID[measurement_id].landmarks, side, landmarks)
        if kinds:
            missing += [k for k in kinds if k not in missing]
        else:
            reason = None
            if m is not None:
                reason = (
                    "; ".join(n.removeprefix("not measurable: ") for n in m.notes)
                    or m.details.get("reason")
                    or m.details.get("error")
                )
            failed.append(
                f"{measurement_id} is not measurable" + (f": {reason}" if reason else "; check its landmarks")
            )
    if not missing and not failed:
        return None
    parts = ([_missing_text(side, tuple(missing))] if missing else []) + [f"{side} side: {f}" for f in failed]
    return tuple(missing), "; ".join(parts)


def _absent_landmarks(kinds: tuple[str, ...], side: str, landmarks: LandmarkSet | None) -> tuple[str, ...]:
    if landmarks is None:
        return kinds
    marks = landmarks.sides.get(side)
    absent = []
    for kind in kinds:
        present = marks is not None and (marks.trab_roi is not None if kind == "trab_roi" else kind in marks.points)
        if not present:
            absent.append(kind)
    return tuple(absent)


def _categorise(entry: IndexEntry, value: float) -> tuple[str, str]:
    cutoff = entry.cutoff
    if cutoff is None:
        return NO_CUTOFF, NO_CUTOFF
    side_word = "below" if cutoff.direction == "below" else "above"
    status = f"; cutoff {cutoff.status}" if cutoff.status != "confirmed" else ""
    if cutoff.at_risk(value):
        return LOW, f"{side_word} the cutoff of {cutoff.value:g} {cutoff.unit}{status}"
    return NORMAL, f"{NO_SIGN_TEXT} (not {side_word} the cutoff of {cutoff.value:g} {cutoff.unit}{status})"


def _input_quality(entry: IndexEntry, measurements: Mapping[str, Measurement]) -> tuple[str, tuple[str, ...]]:
    """The worst quality of an index's inputs and their notes (prefixed with the measurement id)."""
    inputs = [measurements[k] for k in entry.measurements if k in measurements]
    quality = worst_quality(*(m.quality for m in inputs))
    notes = tuple(f"{m.id}: {n}" for m in inputs if m.quality != OK for n in m.notes)
    return quality, notes


def _base(entry: IndexEntry) -> dict[str, Any]:
    """The fields every result of ``entry`` shares (name and provenance only for definition-file extras)."""
    base: dict[str, Any] = {"id": entry.id, "unit": entry.unit, "status": entry.status, "cutoff": entry.cutoff}
    if entry.provenance is not None:
        base.update(name=entry.name, provenance=entry.provenance)
    return base


def score_index(
    entry: IndexEntry,
    side: str,
    measurements: Mapping[str, Measurement],
    grades: Mapping[str, str],
    landmarks: LandmarkSet | None = None,
) -> IndexResult:
    """One index on one side."""
    base = _base(entry)
    if entry.kind == "grade":
        grade = grades.get(entry.id)
        if grade is None:
            return IndexResult(
                value=None,
                category=NOT_COMPUTABLE,
                missing=(entry.id,),
                message=f"{NOT_COMPUTABLE}: choose the {entry.id} grade ({side})",
                **base,
            )
        if grade not in CTCI_GRADES:
            return IndexResult(
                value=grade,
                category=NOT_COMPUTABLE,
                message=f"{NOT_COMPUTABLE}: grade {grade!r} ({side}) is not one of {', '.join(CTCI_GRADES)}",
                **base,
            )
        return _grade_result(entry, grade, base)
    problem = _inputs_problem(entry, side, measurements, landmarks)
    if entry.formula is None:
        inputs = {k: measurements[k] for k in entry.measurements if k in measurements}
        message = CASTRO_PENDING_TEXT + (f"; inputs incomplete: {problem[1]}" if problem else "")
        return IndexResult(
            value=None, category=PENDING, message=message, inputs=inputs, missing=problem[0] if problem else (), **base
        )
    if problem is not None:
        return IndexResult(
            value=None,
            category=NOT_COMPUTABLE,
            missing=problem[0],
            message=f"{NOT_COMPUTABLE}: {problem[1]}",
            quality=NOT_MEASURABLE,
            notes=(problem[1],),
            **base,
        )
    try:
        value, uncertainty = entry.formula(measurements)
    except ZeroDivisionError:
        return IndexResult(
            value=None,
            category=NOT_COMPUTABLE,
            message=f"{NOT_COMPUTABLE}: a denominator of {entry.id} is zero ({side}); check its landmarks",
            **base,
        )
    category, message = _categorise(entry, value)
    quality, notes = _input_quality(entry, measurements)
    if quality == UNCERTAIN:
        message += "; uncertain: " + "; ".join(notes) if notes else "; uncertain"
    return IndexResult(
        value=value, uncertainty=uncertainty, category=category, message=message, quality=quality, notes=notes, **base
    )


def _grade_result(entry: IndexEntry, grade: str, base: dict[str, Any]) -> IndexResult:
    if grade in CTCI_LOW_GRADES:
        return IndexResult(
            value=grade, category=LOW, message=f"{grade}: {'/'.join(CTCI_LOW_GRADES)} suggest low BMD", **base
        )
    return IndexResult(value=grade, category=NORMAL, message=f"{grade}: even, sharp endosteal margin", **base)


def score_side(
    side: str,
    measurements: Mapping[str, Measurement],
    grades: Mapping[str, str] | None = None,
    landmarks: LandmarkSet | None = None,
    entries: tuple[IndexEntry, ...] | None = None,
) -> dict[str, IndexResult]:
    """Every catalogue index on one side."""
    entries = all_entries() if entries is None else entries
    return {e.id: score_index(e, side, measurements, grades or {}, landmarks) for e in entries}


# --- both sides -----------------------------------------------------------------------------------


def _numeric_value(result: IndexResult) -> float:
    """The number of a computable value index (the grade index is averaged apart, never here)."""
    if not isinstance(result.value, (int, float)):
        raise TypeError(f"{result.id}: expected a number, got {result.value!r}")
    return float(result.value)


def score_mean(entry: IndexEntry, per_side: Mapping[str, IndexResult]) -> IndexResult:
    """The mean of both sides (the more advanced grade for CTCI), with the side-agreement check.

    The mean needs both sides: with one side missing it is "not computable" and says what to
    place, because the published indices were defined on both sides' mean.
    """
    base = _base(entry)
    results = [per_side[s] for s in SIDES if s in per_side]
    if entry.kind == "definition file" and all(r.category == PENDING for r in results):
        return IndexResult(value=None, category=PENDING, message=CASTRO_PENDING_TEXT, **base)
    problems = [r for r in results if not r.computable]
    if problems or len(results) < len(SIDES):
        texts = [r.message.removeprefix(f"{NOT_COMPUTABLE}: ") for r in problems]
        texts += [f"measure the {s} side" for s in SIDES if s not in per_side]
        missing = tuple(dict.fromkeys(k for r in problems for k in r.missing))
        return IndexResult(
            value=None,
            category=NOT_COMPUTABLE,
            message=f"{NOT_COMPUTABLE}: {'; '.join(texts)}",
            missing=missing,
            quality=NOT_MEASURABLE,
            notes=tuple(texts),
            **base,
        )
    if entry.kind == "grade":
        worst = max((str(r.value) for r in results), key=CTCI_GRADES.index)
        result = _grade_result(entry, worst, base)
        return replace(result, message=result.message + " (more advanced side; grades are not averaged)")
    values = [_numeric_value(r) for r in results]
    sigmas = [r.uncertainty for r in results]
    mean = sum(values) / len(values)
    known_sigmas = [s for s in sigmas if s is not None]
    combined = math.sqrt(sum(s * s for s in known_sigmas)) if len(known_sigmas) == len(sigmas) else None
    uncertainty = combined / len(values) if combined is not None else None
    check = None
    if entry.side_tolerance_sigmas is not None and combined is not None:
        check = SideCheck.of(values, combined, entry.side_tolerance_sigmas)
    category, message = _categorise(entry, mean)
    quality = worst_quality(*(r.quality for r in results))
    notes = tuple(f"{s}: {n}" for s, r in zip(SIDES, results, strict=True) for n in r.notes)
    if check is not None and not check.agree:
        message += "; the two sides differ more than the measurement uncertainty explains: check the landmarks"
    if check is not None and check.capped:
        notes += (
            f"the sides' combined uncertainty is too large to check their agreement "
            f"(tolerance capped at {SIDE_TOLERANCE_MAX_FRACTION:.0%} of the mean)",
        )
    if quality == UNCERTAIN:
        message += "; uncertain (see the notes)"
    return IndexResult(
        value=mean,
        uncertainty=uncertainty,
        category=category,
        message=message,
        side_check=check,
        quality=quality,
        notes=notes,
        **base,
    )


# --- screening ------------------------------------------------------------------------------------


def screen(
    sides: Mapping[str, Mapping[str, IndexResult]],
    mean: Mapping[str, IndexResult],
    entries: tuple[IndexEntry, ...] | None = None,
    sex: str | None = None,
) -> Screening:
    """The overall result: driven by CASTRO once verified, otherwise by CTMI, on both sides' mean.

    The words come from :mod:`cbct_osteo.indices.screening_words`: the explanation opens with the
    finding, then what qualifies it on this scan; where the index and its cutoff come from goes to
    ``caveats``, which ends with the screening-aid disclaimer.
    """
    entries = all_entries() if entries is None else entries
    by_id = {e.id: e for e in entries}
    castro = by_id.get("CASTRO")
    primary_id = "CASTRO" if castro is not None and castro.status == "confirmed" else "CTMI"
    primary = mean[primary_id]
    mean_json = {i: r.to_json() for i, r in mean.items()}
    sides_json = {side: {i: r.to_json() for i, r in indices.items()} for side, indices in sides.items()}
    code = primary.category if primary.category in (LOW, NORMAL) else "incomplete"
    if code == "incomplete":
        finding = words.incomplete_sentence(primary_id, mean_json[primary_id])
    else:
        finding = words.finding_sentence(code, primary_id, mean_json[primary_id])
    explanation = " ".join([finding, *words.qualifier_sentences(mean_json, sides_json, primary_id, code)])
    caveats = (
        *words.caveat_sentences(
            primary_id,
            mean_json[primary_id],
            castro_pending=castro is not None and castro.status != "confirmed",
            male=bool(sex and sex.strip().upper().startswith("M")),
        ),
        DISCLAIMER,
    )
    if primary.category == LOW:
        return Screening(
            LOW,
            f"Possible low bone mineral density ({primary_id} below its cutoff)",
            explanation,
            "Refer for DXA (dual-energy X-ray absorptiometry) to measure bone mineral density.",
            primary_id,
            caveats,
        )
    if primary.category == NORMAL:
        return Screening(
            NORMAL,
            f"No sign of low bone density on {primary_id}",
            explanation,
            "This index shows no sign of low bone density; it does not rule out osteoporosis. Refer for DXA "
            "if clinical risk factors for osteoporosis are present.",
            primary_id,
            caveats,
        )
    todo = primary.message.removeprefix(f"{NOT_COMPUTABLE}: ")
    if primary.quality == NOT_MEASURABLE and not primary.missing:
        return Screening(
            "incomplete",
            f"Screening incomplete: {primary_id} not computable on this scan",
            explanation,
            words.plain_words(
                f"{primary_id} cannot be measured on this scan: {todo}. No screening result is given; check the "
                "landmarks, or use a scan that resolves the cortex."
            ),
            primary_id,
            caveats,
        )
    return Screening(
        "incomplete",
        f"Screening incomplete: {primary_id} not computable",
        explanation,
        words.plain_words(f"Complete the landmarks ({todo}) and measure again."),
        primary_id,
        caveats,
    )


def _point(coordinates: Any) -> tuple[float, float, float]:
    """A refined landmark as an (x, y, z) patient LPS mm triple."""
    x, y, z = (float(c) for c in coordinates)
    return x, y, z


def score_case(
    measurements: Mapping[str, Mapping[str, Measurement]],
    grades: Mapping[str, Mapping[str, str]] | None = None,
    *,
    provenance: dict[str, Any] | None = None,
    landmarks: LandmarkSet | None = None,
    refined_points: Mapping[str, Mapping[str, Any]] | None = None,
    sex: str | None = None,
    entries: tuple[IndexEntry, ...] | None = None,
) -> CaseResult:
    """Score a case from per-side measurements (``measurements[side][id]``) and grades.

    Parameters
    ----------
    measurements
        ``{"left": {"W": Measurement, ...}, "right": {...}}``; absent sides or ids count as missing.
    grades
        ``{"left": {"CTCI": "C2"}, ...}`` as in the landmarks file.
    landmarks
        Optional: lets "not computable" name exactly the landmarks that are absent.
    sex
        Optional patient sex (DICOM ``M``/``F``/``O``): the explanation notes when the cutoffs'
        population (postmenopausal women) does not fit.
    """
    entries = all_entries() if entries is None else entries
    grades = grades or {}
    sides: dict[str, SideResult] = {}
    for side in SIDES:
        side_measurements = dict(measurements.get(side, {}))
        indices = score_side(side, side_measurements, grades.get(side, {}), landmarks, entries)
        points = {k: _point(p) for k, p in (refined_points or {}).get(side, {}).items()}
        sides[side] = SideResult(side_measurements, indices, points)
    mean = {e.id: score_mean(e, {s: sides[s].indices[e.id] for s in SIDES}) for e in entries}
    screening = screen({s: r.indices for s, r in sides.items()}, mean, entries, sex)
    return CaseResult(sides, mean, screening, dict(provenance or {}), entries)
