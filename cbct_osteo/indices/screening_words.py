"""The screening in plain words: the finding first, what qualifies it on this scan, the caveats apart.

One source for the sentences the user reads about the screening: the scoring
(:func:`cbct_osteo.indices.scoring.screen`) writes them into the results JSON (``screening.explanation``
and ``screening.caveats``), and the command line, the PDF report and the GUI print them from there.
The functions read index results in their documented JSON form (``value``, ``unit``, ``cutoff``,
``category``, ``quality``, ``notes``, ``side_check``, ``cutoff_status``, ``cutoff_note``).

Rules: the finding comes first ("Refer for DXA: ..." / "No sign of low bone density on CTMI: ...");
where the cutoff and the primary index come from (Castro et al. pending verification, a cutoff still to
verify, the study populations) are caveats, never before the finding; no nested parentheses; no internal
ids such as ``CTI_S`` or ``border_outer``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Said for a male patient: the cutoffs' populations were mostly postmenopausal women.
MALE_SENTENCE = "The cutoffs were derived mostly in postmenopausal women; this patient is recorded as male."
#: Landmark ids that may appear in the scoring's messages, in the workflow's words.
PLAIN_LANDMARKS = {
    "foramen_centre": "foramen centre",
    "foramen_superior": "foramen upper margin",
    "foramen_inferior": "foramen lower margin",
    "border_outer": "outer border",
    "border_inner": "inner margin of the cortex",
    "trab_roi": "trabecular ROI",
}
#: Index ids with an underscore, as printed (see :func:`display_id`).
_UNDERSCORE_IDS = ("CTI_S", "CTI_I", "TRAB_MEAN", "TRAB_SD", "BV_TV", "FD_3D")

IndexJson = Mapping[str, Any]


def display_id(index_id: str) -> str:
    """An index id as printed: ``CTI_S`` -> ``CTI(S)``, ``TRAB_MEAN`` -> ``TRAB MEAN``."""
    head, _, tail = index_id.rpartition("_")
    if head and len(tail) == 1:
        return f"{head}({tail})"
    return index_id.replace("_", " ")


def plain_words(text: str) -> str:
    """Landmark and index ids in user text as words ("border_outer" -> "outer border", "CTI_S" -> "CTI(S)").

    "place foramen_centre, border_inner (left)" becomes "on the left side place foramen centre, inner
    margin of the cortex", so no parentheses nest. Text already in plain words is returned unchanged.
    """
    text = re.sub(r"place ([a-z_, ]+?) \((left|right)\)", r"on the \2 side place \1", text)
    for kind, words in PLAIN_LANDMARKS.items():
        text = text.replace(kind, words)
    for index_id in _UNDERSCORE_IDS:
        text = text.replace(index_id, display_id(index_id))
    return text


def _value_text(value: Any, unit: str) -> str:
    """A measured value as printed: 2.80 mm, 0.512, C2."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if unit == "mm":
        return f"{value:.2f} mm"
    return f"{value:.3g}" + ("" if unit in ("1", "ratio", "") else f" {unit}")


def _published_cutoff(value: Any, unit: str) -> str:
    """A cutoff as published (3.1 mm, not 3.10 mm)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    return f"{value:g}" + ("" if unit in ("1", "ratio", "") else f" {unit}")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def finding_sentence(code: str, primary: str, item: IndexJson) -> str:
    """The finding on the primary index's mean (``code`` ``low`` or ``normal``), what to do first."""
    name = display_id(primary)
    unit = str(item.get("unit", ""))
    value, cutoff = _value_text(item.get("value"), unit), _published_cutoff(item.get("cutoff"), unit)
    if code == "low":
        return f"Refer for DXA: {name} is {value}, the mean of both sides, below the cutoff of {cutoff}."
    return f"No sign of low bone density on {name}: {value}, the mean of both sides, not below the cutoff of {cutoff}."


def incomplete_sentence(primary: str, item: IndexJson) -> str:
    """Why there is no finding: the primary index's message ("not computable: ...") in plain words."""
    return plain_words(f"{display_id(primary)} is {item.get('message') or item.get('category') or 'not computable'}.")


def qualifier_sentences(
    mean: Mapping[str, IndexJson], sides: Mapping[str, Mapping[str, IndexJson]], primary: str, code: str
) -> list[str]:
    """What qualifies the finding on this scan: uncertainty, other low indices, one-sided or disagreeing sides.

    ``mean`` is the results JSON's ``mean.indices``, ``sides`` maps side to its ``indices``.
    """
    sentences = []
    item = mean.get(primary) or {}
    if code in ("low", "normal") and item.get("quality") == "uncertain":
        notes = "; ".join(plain_words(str(n)) for n in item.get("notes") or ()) or "see the table"
        sentences.append(f"{display_id(primary)} is uncertain on this scan: {notes}.")
    low = [
        f"{display_id(i)} {_value_text(r.get('value'), str(r.get('unit', '')))}"
        for i, r in mean.items()
        if i != primary and r.get("category") == "low"
    ]
    if low:
        sentences.append("Also below their cutoffs: " + _listed(low) + ".")
    one_sided = [
        f"{display_id(i)} {side}"
        for i, r in mean.items()
        for side in ("right", "left")
        if r.get("category") == "normal" and ((sides.get(side) or {}).get(i) or {}).get("category") == "low"
    ]
    if one_sided:
        sentences.append("Below the cutoff on one side only: " + _listed(one_sided) + ".")
    disagree = [display_id(i) for i, r in mean.items() if (r.get("side_check") or {}).get("agree") is False]
    if disagree:
        sentences.append(
            f"The two sides differ more than the measurement uncertainty explains for {_listed(disagree)}: "
            "check the landmarks. This is a plausibility flag, not a finding."
        )
    return sentences


def caveat_sentences(primary: str, item: IndexJson, *, castro_pending: bool, male: bool) -> list[str]:
    """Where the primary index and its cutoff come from, and whom they were derived on: for the limits.

    ``item`` is the primary index's mean (JSON); ``castro_pending``: the Castro et al. index is in the
    catalogue but its definition is not verified, so another index drives the screening.
    """
    caveats = []
    if primary != "CASTRO" and castro_pending:
        caveats.append(
            "The Castro et al. 2020 index is not used: its definition is pending verification from the primary "
            f"source, so the screening uses {display_id(primary)}."
        )
    status, note = item.get("cutoff_status") or item.get("status"), item.get("cutoff_note")
    if item.get("cutoff") is not None and status and status != "confirmed":
        sentence = f"The {display_id(primary)} cutoff of {_published_cutoff(item['cutoff'], str(item.get('unit', '')))}"
        caveats.append(f"{sentence} is {status}" + (f": {note}." if note else "."))
    if male:
        caveats.append(MALE_SENTENCE)
    return caveats
