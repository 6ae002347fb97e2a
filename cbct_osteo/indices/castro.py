"""The Castro et al. (2020) index definition, read from ``resources/indices/castro2020.toml``.

INDICES.md could not give this index's formula, coefficients or cutoff, and the literature
search recorded in the data file did not find them in a primary source. Keeping the whole
definition in one data file means that, once someone reads the paper, verifying the index is
an edit of that file (fill in the numbers, set ``status = "confirmed"``), not a code change.
Until then :func:`load_castro_definition` returns a definition whose :meth:`score` is never
called by the scoring, and the program says "definition pending verification".
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbct_osteo.io.errors import LoadError
from cbct_osteo.paths import resource_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

#: Forms of a published prediction rule this file can express.
FORMS: tuple[str, ...] = ("linear", "logistic")
#: Allowed statuses, as in INDICES.md.
STATUSES: tuple[str, ...] = ("confirmed", "to verify", "unverified")
DEFAULT_PATH = resource_path("indices", "castro2020.toml")


@dataclass(frozen=True)
class CastroDefinition:
    """The index as far as it is known.

    Attributes
    ----------
    status
        ``"confirmed"`` (checked against the paper), ``"to verify"`` (secondary source) or
        ``"unverified"`` (formula unknown: no value, no category).
    form, intercept, coefficients
        The prediction rule (``linear`` or ``logistic``) over measurement ids; empty while
        unverified.
    cutoff, direction
        The published cutoff and its at-risk side (``"below"`` or ``"above"``); ``None`` while
        unverified.
    landmarks, measured_inputs
        What the user places and which measurements are shown as the index's inputs.
    """

    status: str
    name: str
    citation: str
    population: str
    accuracy: str
    landmarks: tuple[str, ...]
    measured_inputs: tuple[str, ...]
    form: str | None = None
    intercept: float = 0.0
    coefficients: dict[str, float] = field(default_factory=dict)
    cutoff: float | None = None
    direction: str | None = None
    cutoff_unit: str = "1"
    source: str = ""

    @property
    def defined(self) -> bool:
        """True when a formula is present (only possible with status confirmed / to verify)."""
        return self.form is not None

    def score(
        self, values: Mapping[str, float], uncertainties: Mapping[str, float | None]
    ) -> tuple[float, float | None]:
        """Evaluate the rule on measured values; uncertainty is propagated for the linear form only.

        Raises
        ------
        ValueError
            If the definition has no formula (status unverified).
        """
        if self.form is None:
            raise ValueError("Castro et al. 2020: definition pending verification, nothing to compute")
        linear = self.intercept + sum(c * values[k] for k, c in self.coefficients.items())
        if self.form == "logistic":
            return 1.0 / (1.0 + math.exp(-linear)), None
        terms = [(c, uncertainties.get(k)) for k, c in self.coefficients.items()]
        known = [(c, s) for c, s in terms if s is not None]
        if len(known) < len(terms):
            return linear, None
        return linear, math.sqrt(sum((c * s) ** 2 for c, s in known))


def definition_from_document(document: Mapping[str, Any], status: str, default_name: str) -> CastroDefinition:
    """The rule of a definition file's TOML document (this file's and ``--index`` files' shared layout).

    Reads ``name``, ``citation``, ``population``, ``accuracy``, ``landmarks``, ``measured_inputs``,
    ``source``, ``[definition]`` (``form``, ``intercept``, ``[definition.coefficients]``) and
    ``[cutoff]`` (``value``, ``direction``, ``unit``); checks nothing beyond the types.

    Raises
    ------
    TypeError, ValueError, AttributeError
        A value of the wrong kind (e.g. a non-numeric coefficient); the callers name the file.
    """
    rule = document.get("definition") or {}
    cutoff = document.get("cutoff") or {}
    return CastroDefinition(
        status=status,
        name=str(document.get("name") or default_name),
        citation=str(document.get("citation", "")),
        population=str(document.get("population", "")),
        accuracy=str(document.get("accuracy", "")),
        landmarks=tuple(str(k) for k in document.get("landmarks", ())),
        measured_inputs=tuple(str(k) for k in document.get("measured_inputs", ())),
        form=str(rule["form"]) if rule.get("form") else None,
        intercept=float(rule.get("intercept", 0.0)),
        coefficients={str(k): float(v) for k, v in (rule.get("coefficients") or {}).items()},
        cutoff=float(cutoff["value"]) if "value" in cutoff else None,
        direction=str(cutoff["direction"]) if "direction" in cutoff else None,
        cutoff_unit=str(cutoff.get("unit", "1")),
        source=str(document.get("source", "")),
    )


def load_castro_definition(
    path: str | Path = DEFAULT_PATH, measurement_ids: tuple[str, ...] | None = None
) -> CastroDefinition:
    """Read and validate the definition file.

    A file that claims ``status = "confirmed"`` must carry a complete rule (form, coefficients
    over known measurement ids, cutoff and direction); an unverified file must carry none, so
    a half-filled file can never turn a guess into a risk category.

    Raises
    ------
    LoadError
        Naming the file and what is wrong with it.
    """
    source = Path(path)
    try:
        document: dict[str, Any] = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError(source, "Castro et al. 2020 definition file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LoadError(source, f"cannot read the Castro et al. 2020 definition: {exc}") from None
    status = str(document.get("status", ""))
    if status not in STATUSES:
        raise LoadError(source, f"status {status!r} is not one of {STATUSES}")
    try:
        definition = definition_from_document(document, status, "Castro et al. (2020) CBCT index")
    except (TypeError, ValueError, AttributeError) as exc:
        raise LoadError(source, f"has a non-numeric coefficient, intercept or cutoff ({exc})") from None
    _validate(definition, source, measurement_ids)
    return definition


def _validate(definition: CastroDefinition, source: Path, measurement_ids: tuple[str, ...] | None) -> None:
    if not definition.citation:
        raise LoadError(source, "has no citation")
    has_rule = definition.form is not None or definition.coefficients or definition.cutoff is not None
    if definition.status == "unverified":
        if has_rule:
            raise LoadError(
                source,
                "is marked unverified but carries a formula or cutoff",
                "set status to 'confirmed' (with the source) or remove the numbers",
            )
        return
    if definition.form not in FORMS:
        raise LoadError(source, f"definition form {definition.form!r} is not one of {FORMS}")
    if not definition.coefficients:
        raise LoadError(source, "a verified definition needs [definition.coefficients]")
    if measurement_ids is not None:
        unknown = sorted(set(definition.coefficients) - set(measurement_ids))
        if unknown:
            raise LoadError(source, f"coefficients name unknown measurement ids {unknown}")
    if definition.cutoff is None or definition.direction not in ("below", "above"):
        raise LoadError(source, "a verified definition needs [cutoff] value and direction 'below' or 'above'")
    if not definition.source:
        raise LoadError(source, "a verified definition must name the source it was checked against ('source = ...')")
