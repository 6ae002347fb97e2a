"""Index definition files: one more index for the catalogue, read from a TOML data file.

The form is the one of ``resources/indices/castro2020.toml``: ``id``, ``name``, ``status``,
``citation``, ``population``, ``accuracy``, ``landmarks``, ``measured_inputs``, a
``[definition]`` table (``form`` = ``"linear"`` | ``"logistic"``, ``intercept``,
``[definition.coefficients]`` over measurement ids, applied per side) and a ``[cutoff]``
(``value``, ``direction``, ``unit``). ``cbct-osteo validate --write-index`` writes such files
with ``status = "site-derived"`` and a ``[derivation]`` table (cohort size, AUC with its
interval, date, program version); ``measure``/``report``/``batch --index FILE`` read them.

A file with ``id = "CASTRO"`` replaces the bundled Castro et al. definition for that run: the
same mechanism brings in the real Castro rule once a primary source is found.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from cbct_osteo.indices.castro import FORMS, CastroDefinition, definition_from_document, load_castro_definition
from cbct_osteo.indices.catalogue import (
    MEASUREMENT_IDS,
    MEASUREMENTS_BY_ID,
    Cutoff,
    IndexEntry,
    _castro_entry,
    _castro_formula,
    all_entries,
)
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.user_files import read_user_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

SITE_DERIVED = "site-derived"
#: Statuses an extra (non-Castro) definition file may carry: it must hold a usable rule.
EXTRA_STATUSES: tuple[str, ...] = ("confirmed", "to verify", SITE_DERIVED)
_ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


def load_index_file(path: str | Path) -> IndexEntry:
    """Read one index definition file into a catalogue entry.

    Raises
    ------
    LoadError
        Naming the file and the fault (unreadable TOML, unknown status or measurement id, an
        id that would shadow a built-in index, a rule without a cutoff).
    """
    source = Path(path)
    document = _read_toml(source)
    index_id = str(document.get("id", ""))
    if index_id == "CASTRO":
        return _castro_entry(load_castro_definition(source, measurement_ids=MEASUREMENT_IDS))
    if not _ID_PATTERN.match(index_id):
        raise LoadError(source, f"id {index_id!r} is not an index id (capital letters, digits and _, up to 32)")
    if index_id in {e.id for e in all_entries()} or index_id in MEASUREMENT_IDS:
        raise LoadError(source, f"id {index_id!r} is already a built-in index or measurement", "choose another id")
    status = str(document.get("status", ""))
    if status not in EXTRA_STATUSES:
        raise LoadError(source, f"status {status!r} is not one of {EXTRA_STATUSES}")
    definition = _definition(source, document, status)
    derivation = document.get("derivation") or {}
    if status == SITE_DERIVED and not derivation:
        raise LoadError(source, "a site-derived index needs its [derivation] table (cohort, AUC, date, software)")
    assert definition.cutoff is not None  # _definition refuses a file without one
    cutoff = Cutoff(
        value=float(definition.cutoff),
        direction=str(definition.direction),
        unit=definition.cutoff_unit,
        source=definition.source or definition.citation,
        status=status,
        population=definition.population,
        note=provenance_summary(derivation) if status == SITE_DERIVED else "",
    )
    return IndexEntry(
        id=index_id,
        name=definition.name,
        unit=definition.cutoff_unit,
        kind="definition file",
        landmarks=_landmarks(definition),
        measurements=tuple(definition.coefficients),
        status=status,
        citations=(definition.citation,),
        population=definition.population,
        accuracy=definition.accuracy,
        guidance=f"{definition.name}: read from {source.name}.",
        formula=_castro_formula(definition),  # the same rule evaluation as Castro's
        cutoff=cutoff,
        side_tolerance_sigmas=None,
        provenance={
            "file": str(source.resolve()),
            "status": status,
            "summary": provenance_summary(derivation),
            **{str(k): v for k, v in derivation.items()},
        },
    )


def load_index_files(paths: tuple[str, ...] | list[str] | None) -> tuple[IndexEntry, ...]:
    """The entries of several files (``--index`` given more than once), refusing duplicate ids."""
    entries: list[IndexEntry] = []
    for path in paths or ():
        item = load_index_file(path)
        if any(e.id == item.id for e in entries):
            raise LoadError(path, f"index id {item.id!r} is given twice")
        entries.append(item)
    return tuple(entries)


@lru_cache(maxsize=8)
def cached_index_files(paths: tuple[str, ...]) -> tuple[IndexEntry, ...]:
    """:func:`load_index_files` read once per process (batch workers score many cases with the same files)."""
    return load_index_files(paths)


def catalogue_with(extra: tuple[IndexEntry, ...]) -> tuple[IndexEntry, ...]:
    """The catalogue for one run: the built-in entries, CASTRO replaced if an extra one is CASTRO, then the rest."""
    by_id = {e.id: e for e in extra}
    base = tuple(by_id.pop(e.id, e) for e in all_entries())
    return base + tuple(by_id.values())


def provenance_summary(derivation: Mapping[str, Any]) -> str:
    """ "derived from N local cases (AUC 0.81 [0.70, 0.90]) ..." - the words the report prints."""
    if not derivation:
        return ""
    auc, ci = derivation.get("auc"), derivation.get("auc_ci95") or []
    text = f"derived from {derivation.get('n', '?')} local cases"
    if isinstance(auc, (int, float)):
        interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if len(ci) == 2 else ""
        text += f" (AUC {auc:.2f}{interval}, cross-validated)"
    extras = [str(derivation[k]) for k in ("target_text", "date") if derivation.get(k)]
    if extras:
        text += "; " + "; ".join(extras)
    return text


def _read_toml(source: Path) -> dict[str, Any]:
    text = read_user_text(source, "index definition file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(source, f"is not a valid TOML index definition: {exc}") from None


def _definition(source: Path, document: Mapping[str, Any], status: str) -> CastroDefinition:
    try:
        definition = definition_from_document(document, status, str(document.get("id")))
    except (TypeError, ValueError, AttributeError) as exc:
        raise LoadError(source, f"has a non-numeric coefficient, intercept or cutoff ({exc})") from None
    if not definition.citation:
        raise LoadError(source, "has no citation (for a site-derived index: how and where it was derived)")
    if definition.form not in FORMS:
        raise LoadError(source, f"[definition] form {definition.form!r} is not one of {FORMS}")
    if not definition.coefficients:
        raise LoadError(source, "needs [definition.coefficients] (measurement id = coefficient)")
    unknown = sorted(set(definition.coefficients) - set(MEASUREMENT_IDS))
    if unknown:
        raise LoadError(source, f"coefficients name unknown measurement ids {unknown} (known: {list(MEASUREMENT_IDS)})")
    if definition.cutoff is None or definition.direction not in ("below", "above"):
        raise LoadError(source, "needs [cutoff] value and direction 'below' or 'above'")
    return definition


def _landmarks(definition: CastroDefinition) -> tuple[str, ...]:
    kinds = list(definition.landmarks)
    for measurement_id in definition.coefficients:
        kinds += [k for k in MEASUREMENTS_BY_ID[measurement_id].landmarks if k not in kinds]
    return tuple(kinds)
