"""The screening in plain words: the finding first, the method's caveats apart (for the limits section).

The PDF's screening box and the GUI's screening text both come from :func:`screening_text`, so
the paper and the screen say the same. It reads the documented results JSON (``screening``,
``mean.indices``, ``sides.<side>.indices``, ``provenance``) and composes short sentences:
the finding ("Refer for DXA: ..." / "No sign of low bone density on CTMI: ..."), then what
qualifies it on this scan (uncertain values, one-sided or disagreeing sides). Where the cutoff
and the primary index come from (Castro et al. pending verification, a cutoff still to verify,
the study populations) are caveats, printed under the limits: never before the finding, never
in nested parentheses, never with internal ids such as ``CTI_S`` or ``border_outer``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The sentence the scoring adds for a male patient (cbct_osteo.indices.scoring.screen).
MALE_SENTENCE = "The cutoffs were derived mostly in postmenopausal women; this patient is recorded as male."
SIDE_WORDS = {"right": "right", "left": "left"}
#: Landmark ids that may appear in the scoring's messages, in the workflow's words.
PLAIN_LANDMARKS = {
    "foramen_centre": "foramen centre",
    "foramen_superior": "foramen upper margin",
    "foramen_inferior": "foramen lower margin",
    "border_outer": "outer border",
    "border_inner": "inner margin of the cortex",
    "trab_roi": "trabecular ROI",
}


@dataclass(frozen=True)
class ScreeningText:
    """What the report and the GUI print for the screening.

    Attributes
    ----------
    result
        The headline ("Possible low bone mineral density ...").
    finding
        The plain finding first, then what qualifies it on this scan.
    recommendation
        What to do.
    caveats
        Where the index and its cutoff come from: sentences for the limits section.
    """

    result: str
    finding: str
    recommendation: str
    caveats: tuple[str, ...]


def display_id(index_id: str) -> str:
    """An index id as printed: ``CTI_S`` -> ``CTI(S)``, ``TRAB_MEAN`` -> ``TRAB MEAN``."""
    head, _, tail = index_id.rpartition("_")
    if head and len(tail) == 1:
        return f"{head}({tail})"
    return index_id.replace("_", " ")


def plain_words(text: str) -> str:
    """Landmark and index ids in user text as words ("border_outer" -> "outer border", "CTI_S" -> "CTI(S)").

    "place foramen_centre, border_inner (left)" becomes "on the left side place foramen centre, inner
    margin of the cortex", so no parentheses nest.
    """
    text = re.sub(r"place ([a-z_, ]+?) \((left|right)\)", r"on the \2 side place \1", text)
    for kind, words in PLAIN_LANDMARKS.items():
        text = text.replace(kind, words)
    for index_id in ("CTI_S", "CTI_I", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD_3D"):
        text = text.replace(index_id, display_id(index_id))
    return text


def _number(value: Any, unit: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if unit == "mm":
        return f"{value:.2f} mm"
    return f"{value:.3g}" + ("" if unit in ("1", "ratio", "") else f" {unit}")


def _cutoff(value: Any, unit: str) -> str:
    """A cutoff as published (3.1 mm, not 3.10 mm)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    return f"{value:g}" + ("" if unit in ("1", "ratio", "") else f" {unit}")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _finding(code: str, primary: str, item: Mapping[str, Any]) -> str:
    name = display_id(primary)
    unit = str(item.get("unit", ""))
    value, cutoff = _number(item.get("value"), unit), _cutoff(item.get("cutoff"), unit)
    if code == "low":
        return f"Refer for DXA: {name} is {value}, the mean of both sides, below the cutoff of {cutoff}."
    return f"No sign of low bone density on {name}: {value}, the mean of both sides, not below the cutoff of {cutoff}."


def _without_caveats(explanation: str, primary: str) -> str:
    """The scoring's explanation of an incomplete screening without the sentences that are caveats."""
    from cbct_osteo.indices.catalogue import DISCLAIMER
    from cbct_osteo.indices.scoring import CASTRO_PENDING_TEXT

    for sentence in (f"{CASTRO_PENDING_TEXT}; the screening uses {primary} instead.", DISCLAIMER, MALE_SENTENCE):
        explanation = explanation.replace(sentence, "")
    return plain_words(" ".join(explanation.split()))


def _qualifiers(results: Mapping[str, Any], primary: str, code: str) -> list[str]:
    """What qualifies the finding on this scan: uncertainty, other low indices, one-sided or disagreeing sides."""
    mean = ((results.get("mean") or {}).get("indices")) or {}
    sides = results.get("sides") or {}
    sentences = []
    item = mean.get(primary) or {}
    if code in ("low", "normal") and item.get("quality") == "uncertain":
        notes = "; ".join(plain_words(str(n)) for n in item.get("notes") or ()) or "see the table"
        sentences.append(f"{display_id(primary)} is uncertain on this scan: {notes}.")
    low = [
        f"{display_id(i)} {_number(r.get('value'), str(r.get('unit', '')))}"
        for i, r in mean.items()
        if i != primary and isinstance(r, Mapping) and r.get("category") == "low"
    ]
    if low:
        sentences.append("Also below their cutoffs: " + _listed(low) + ".")
    one_sided = [
        f"{display_id(i)} {side}"
        for i, r in mean.items()
        for side in ("right", "left")
        if isinstance(r, Mapping)
        and r.get("category") == "normal"
        and ((sides.get(side) or {}).get("indices") or {}).get(i, {}).get("category") == "low"
    ]
    if one_sided:
        sentences.append("Below the cutoff on one side only: " + _listed(one_sided) + ".")
    disagree = [
        display_id(i)
        for i, r in mean.items()
        if isinstance(r, Mapping) and (r.get("side_check") or {}).get("agree") is False
    ]
    if disagree:
        sentences.append(
            f"The two sides differ more than the measurement uncertainty explains for {_listed(disagree)}: "
            "check the landmarks. This is a plausibility flag, not a finding."
        )
    return sentences


def _caveats(results: Mapping[str, Any], primary: str) -> list[str]:
    """Where the primary index and its cutoff come from, in sentences for the limits section."""
    provenance = results.get("provenance") or {}
    screening = results.get("screening") or {}
    item = (((results.get("mean") or {}).get("indices")) or {}).get(primary) or {}
    caveats = []
    if primary != "CASTRO" and provenance.get("castro_status", "") != "confirmed":
        caveats.append(
            "The Castro et al. 2020 index is not used: its definition is pending verification from the primary "
            f"source, so the screening uses {display_id(primary)}."
        )
    status, note = item.get("cutoff_status") or item.get("status"), item.get("cutoff_note")
    if item.get("cutoff") is not None and status and status != "confirmed":
        sentence = (
            f"The {display_id(primary)} cutoff of {_cutoff(item['cutoff'], str(item.get('unit', '')))} is {status}"
        )
        caveats.append(sentence + (f": {note}." if note else "."))
    if MALE_SENTENCE in str(screening.get("explanation", "")):
        caveats.append(MALE_SENTENCE)
    return caveats


def screening_text(results: Mapping[str, Any]) -> ScreeningText:
    """The screening of a results JSON in plain words, the finding first and the caveats apart."""
    screening = results.get("screening") or {}
    primary = str(screening.get("primary_index") or "CTMI")
    code = str(screening.get("code") or "")
    item = (((results.get("mean") or {}).get("indices")) or {}).get(primary) or {}
    if code in ("low", "normal") and item:
        finding = " ".join([_finding(code, primary, item), *_qualifiers(results, primary, code)])
    else:  # incomplete: what is missing, in the scoring's (or the incomplete report's) words
        finding = _without_caveats(str(screening.get("explanation", "")), primary)
    return ScreeningText(
        str(screening.get("result", "")),
        finding,
        plain_words(str(screening.get("recommendation", ""))),
        tuple(_caveats(results, primary)),
    )
