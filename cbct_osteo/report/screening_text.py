"""The screening in plain words for the report and the GUI: the finding first, the caveats apart.

The PDF's screening box and the GUI's screening text both come from :func:`screening_text`, so the
paper and the screen say the same; the sentences themselves are the scoring's
(:mod:`cbct_osteo.indices.screening_words`, written into the results JSON as ``screening.explanation``
and ``screening.caveats``), so the command line says the same too. The caveats are printed under the
limits: never before the finding, never in nested parentheses, never with internal ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cbct_osteo.indices.catalogue import DISCLAIMER
from cbct_osteo.indices.screening_words import plain_words


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
        Where the index and its cutoff come from: sentences for the limits section (without the
        screening-aid disclaimer, which the report's fixed limits and the GUI state in their own place).
    """

    result: str
    finding: str
    recommendation: str
    caveats: tuple[str, ...]


def screening_text(results: Mapping[str, Any]) -> ScreeningText:
    """The screening of a results JSON in plain words, the finding first and the caveats apart."""
    screening = results.get("screening") or {}
    return ScreeningText(
        str(screening.get("result", "")),
        plain_words(str(screening.get("explanation", ""))),
        plain_words(str(screening.get("recommendation", ""))),
        tuple(str(c) for c in screening.get("caveats") or () if c != DISCLAIMER),
    )
