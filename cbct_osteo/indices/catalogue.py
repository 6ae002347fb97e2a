"""The index catalogue: the program's one source of truth for the science.

Every index of ../shared/science/INDICES.md that applies to a CBCT cross-section is one
declarative :class:`IndexEntry`: what the user places (per side), which measurements it uses,
its formula, unit, cutoff with direction, the population and accuracy behind the cutoff, its
status and citations. The GUI's guided steps, the session validation, the report table and
the batch CSV columns are all derived here (:func:`guided_steps`, :func:`required_inputs`,
:func:`csv_columns`), so adding an index is adding one entry and its formula.

Left out on purpose (INDICES.md gives no CBCT definition for them): the panoramic Mental Index
(MI) is the same measurement as CTMI at the mental foramen, so it is not a second entry (its
3.1 mm referral threshold is CTMI's cutoff, see :data:`CTMI_CUTOFF`); the Panoramic Mandibular
Index (PMI) is not defined in INDICES.md (its CBCT analogue there is CTI(I)).

Bump :data:`CATALOGUE_VERSION` whenever an entry's formula, cutoff or status changes: results
record it, so a result can always be traced to the science it was computed with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cbct_osteo.indices.castro import CastroDefinition, load_castro_definition
from cbct_osteo.io.landmarks_file import POINT_KINDS, SIDES

# The catalogue lists the measurements next to the indices: these three are re-exported (`X as X`).
from cbct_osteo.measure.definitions import MEASUREMENT_IDS as MEASUREMENT_IDS
from cbct_osteo.measure.definitions import MEASUREMENTS as MEASUREMENTS
from cbct_osteo.measure.definitions import MEASUREMENTS_BY_ID as MEASUREMENTS_BY_ID
from cbct_osteo.measure.quantity import Measurement

CATALOGUE_VERSION = "2026.12-1"

#: Landmark kinds an index can ask for: the point kinds of the landmarks file plus the ROI.
LANDMARK_KINDS: tuple[str, ...] = (*POINT_KINDS, "trab_roi")
#: Status words of INDICES.md, shown to the user verbatim.
STATUSES: tuple[str, ...] = ("confirmed", "confirmed definition", "to verify", "unverified", "experimental")
#: Valid grades of the cortical index and the ones that suggest low BMD (INDICES.md, CTCI).
CTCI_GRADES: tuple[str, ...] = ("C1", "C2", "C3")
CTCI_LOW_GRADES: tuple[str, ...] = ("C2", "C3")

#: Side-agreement tolerance = this many combined one-sigma uncertainties. INDICES.md gives no
#: tolerance; this is a measurement-plausibility flag ("the sides differ by more than the
#: measurement uncertainty explains: check the landmarks"), not a science cutoff.
SIDE_TOLERANCE_SIGMAS = 3.0
#: ... but never wider than this fraction of the mean of the two sides: a tolerance wider than the
#: value itself (326 mm once, from a collapsed fit) checks nothing. Beyond it the check says the
#: sides cannot be compared at this uncertainty instead of "agree".
SIDE_TOLERANCE_MAX_FRACTION = 0.5

DISCLAIMER = (
    "This is a screening aid, not a diagnosis: its cutoffs come from the cited study populations "
    "(mostly postmenopausal women). DXA is the reference standard (WHO: T-score \u2264 \u22122.5 "
    "osteoporosis, between \u22121 and \u22122.5 osteopenia)."
)
BV_TV_EXPERIMENTAL = (
    "On the program's phantom an Otsu threshold within the ROI does not follow the true bone fraction: true "
    "0.17-0.21 came out 0.26-0.44, and 0.33-0.52 came out 0.37-0.53, depending on blur (0-0.4 mm). It needs a "
    "threshold calibrated against micro-CT before it can be reported."
)
GRAY_VALUE_NOTE = (
    "CBCT gray values are not calibrated Hounsfield units; compare them only within one scanner and protocol."
)


@dataclass(frozen=True)
class Cutoff:
    """A published threshold: ``value`` in the index's unit, at-risk ``direction``, and its pedigree.

    ``direction`` is ``"below"`` when values under the cutoff are at risk (every cortical index).
    ``status`` is the cutoff's own status; ``note`` is the sentence shown next to it.
    """

    value: float
    direction: str
    unit: str
    source: str
    status: str
    population: str
    note: str

    def at_risk(self, value: float) -> bool:
        return value < self.value if self.direction == "below" else value > self.value


#: A formula maps the side's measurements to (value, one-sigma uncertainty or None).
Formula = Callable[[Mapping[str, Measurement]], tuple[float, float | None]]


@dataclass(frozen=True)
class IndexEntry:
    """One index of the catalogue.

    Attributes
    ----------
    id, name, unit
        As in INDICES.md; ``unit`` is ``"mm"``, ``"ratio"``, ``"grade"``, ``"gray value"`` or ``"1"``.
    kind
        ``"value"`` (numeric formula), ``"grade"`` (user-chosen C1/C2/C3) or ``"definition file"``
        (CASTRO: rule read from resources/indices/castro2020.toml).
    landmarks, measurements
        Landmark kinds placed per side and measurement ids used, both per side.
    formula
        For ``kind == "value"``: the function of the side's measurements.
    cutoff
        The threshold used for the category, or ``None`` ("no validated cutoff").
    status
        ``confirmed`` / ``confirmed definition`` / ``to verify`` / ``unverified``.
    side_tolerance_sigmas
        Side-agreement flag threshold in combined uncertainties (``None``: no check).
    provenance
        For an index read from a definition file (``--index``): where it came from (file,
        status, derivation: cohort size, AUC with interval, date, software); ``None`` for the
        built-in entries. Results of such an index carry it.
    experimental
        Why the entry is experimental (it does not yet measure what its name says), or ``""``.
        Experimental entries are computed and kept in the results JSON, but left out of the
        report by default.
    """

    id: str
    name: str
    unit: str
    kind: str
    landmarks: tuple[str, ...]
    measurements: tuple[str, ...]
    status: str
    citations: tuple[str, ...]
    population: str
    accuracy: str
    guidance: str
    formula: Formula | None = None
    cutoff: Cutoff | None = None
    side_tolerance_sigmas: float | None = SIDE_TOLERANCE_SIGMAS
    provenance: Mapping[str, Any] | None = None
    experimental: str = ""


# --- measurements -----------------------------------------------------------------------------
# The one list of measurements lives one layer down (the measure engine needs it and may not import
# indices): cbct_osteo/measure/definitions.py. It is re-exported here as part of the catalogue.

# --- formulas -------------------------------------------------------------------------------------


def _number(measurement: Measurement) -> float:
    """The value of a measurement that the scoring has checked is measurable (``score_index`` does first)."""
    if measurement.value is None:
        raise ValueError(f"{measurement.id} has no value: a formula was called before its inputs were checked")
    return float(measurement.value)


def _identity(measurement_id: str) -> Formula:
    def formula(m: Mapping[str, Measurement]) -> tuple[float, float | None]:
        return _number(m[measurement_id]), m[measurement_id].uncertainty

    formula.__doc__ = f"{measurement_id} itself"
    return formula


def _ratio(numerator: str, denominator: str) -> Formula:
    """numerator / denominator with first-order propagation of independent relative errors."""

    def formula(m: Mapping[str, Measurement]) -> tuple[float, float | None]:
        a, b = m[numerator], m[denominator]
        value = _number(a) / _number(b)
        if a.uncertainty is None or b.uncertainty is None:
            return value, None
        relative = math.hypot(a.uncertainty / _number(a), b.uncertainty / _number(b))
        return value, abs(value) * relative

    formula.__doc__ = f"{numerator} / {denominator}"
    return formula


# --- cutoffs and citations -------------------------------------------------------------------------

POIANA_2024 = (
    "Poiana IR, Burcea IF, Pituru SM, Bucur A. Cone beam computed tomography panoramic mandibular indices in "
    "the screening of postmenopausal women with low bone mass. Dent J. 2024;12(8):256."
)
KOH_KIM_2011 = (
    "Koh KJ, Kim KA. Utility of the computed tomography indices on cone beam computed tomography images "
    "in the diagnosis of osteoporosis in women. Imaging Sci Dent. 2011;41(3):101-106."
)
BRASILEIRO_2017 = (
    "Brasileiro CB, Chalub LLFH, Abreu MHNG, et al. Use of cone beam computed tomography in identifying "
    "postmenopausal women with osteoporosis. Arch Osteoporos. 2017;12:26."
)
ALKHADER_MI = (
    "Alkhader M, Alrashdan MS, Khader Y. Usefulness of measuring radiographic density of axis vertebra in "
    "patients at risk of osteoporosis: a cone-beam computed tomography study. Eur J Dent. 2018;12(4):496-501 "
    "(used a 3.1 mm mental index to form high- and low-risk groups; no DXA)."
)
DEVLIN_2007 = (
    "Devlin H, Karayianni K, Mitsea A, et al. Diagnosing osteoporosis by using dental panoramic radiographs: "
    "the OSTEODENT project. Oral Surg Oral Med Oral Pathol Oral Radiol Endod. 2007;104(6):821-828 "
    "(panoramic cortical width < 3 mm, corrected for magnification, as the referral threshold)."
)
KLEMETTI_1994 = (
    "Klemetti E, Kolmakov S, Kr\u00f6ger H. Pantomography in assessment of the osteoporosis risk group. "
    "Scand J Dent Res. 1994;102(1):68-72."
)
WHITE_RUDOLPH_1999 = "White SC, Rudolph DJ. Oral Surg Oral Med Oral Pathol Oral Radiol Endod. 1999;88:628-35."
OTSU_1979 = (
    "Otsu N. A threshold selection method from gray-level histograms. IEEE Trans Syst Man Cybern. 1979;9(1):62-66."
)
VAN_DESSEL_2013 = (
    "Van Dessel J, Huang Y, Depypere M, et al. A comparative evaluation of cone beam CT and micro-CT on "
    "trabecular bone structures in the human mandible. Dentomaxillofac Radiol. 2013;42(8):20130145."
)

#: CTMI's cutoff. INDICES.md (corrected 2026-12-01): 3.1 mm is a panoramic Mental Index threshold;
#: Alkhader et al. (2018) used it on CBCT to split 247 patients (men and women, 50-80 years) into
#: high- and low-risk groups, without DXA, so it has no sensitivity or specificity on CBCT. Its
#: primary panoramic source was not found: the panoramic referral threshold with DXA behind it is
#: < 3 mm corrected for magnification (Devlin et al. 2007, OSTEODENT, 671 postmenopausal women);
#: 3.1 mm itself is not traced. The CBCT thresholds of 1.7-3.4 mm (UFMG) belong to four OTHER sites,
#: so no value of them belongs to the foramen. The cutoff stays "to verify".
CTMI_CUTOFF = Cutoff(
    value=3.1,
    direction="below",
    unit="mm",
    source=ALKHADER_MI,
    status="to verify",
    population=(
        "no validated CBCT population: a panoramic Mental Index threshold that Alkhader et al. (2018) used "
        "on CBCT to form risk groups, without DXA"
    ),
    note=(
        "a panoramic Mental Index threshold, used on CBCT without DXA validation (Alkhader et al. 2018 used it to "
        "form risk groups); its primary panoramic source is not yet traced (the DXA-validated panoramic referral "
        "threshold is < 3 mm, Devlin et al. 2007)"
    ),
)


def _castro_formula(definition: CastroDefinition) -> Formula:
    def formula(m: Mapping[str, Measurement]) -> tuple[float, float | None]:
        names = definition.coefficients
        return definition.score({k: _number(m[k]) for k in names}, {k: m[k].uncertainty for k in names})

    formula.__doc__ = f"{definition.form} rule of resources/indices/castro2020.toml"
    return formula


def _castro_entry(definition: CastroDefinition) -> IndexEntry:
    """CASTRO from its data file; without a verified rule it has no formula and no cutoff."""
    # The sources searched for the definition (URLs and what each said) are logged in the comments
    # of resources/indices/castro2020.toml and in docs/science-notes.md.
    cutoff = None
    if definition.defined and definition.cutoff is not None and definition.direction is not None:
        cutoff = Cutoff(
            value=definition.cutoff,
            direction=definition.direction,
            unit=definition.cutoff_unit,
            source=definition.source or definition.citation,
            status=definition.status,
            population=definition.population,
            note="" if definition.status == "confirmed" else "cutoff from a secondary source",
        )
    return IndexEntry(
        id="CASTRO",
        name=definition.name,
        unit=definition.cutoff_unit if definition.defined else "1",
        kind="definition file",
        landmarks=definition.landmarks,
        measurements=tuple(definition.coefficients) if definition.defined else definition.measured_inputs,
        status=definition.status,
        citations=(definition.citation,),
        population=definition.population,
        accuracy=definition.accuracy,
        guidance=(
            "The mission's primary index. Uses the cortical-width landmarks at the mental foramen and the "
            "trabecular ROI; its formula is read from resources/indices/castro2020.toml."
        ),
        formula=_castro_formula(definition) if definition.defined else None,
        cutoff=cutoff,
        side_tolerance_sigmas=None,
    )


def _foramen_ratio_entry(height_id: str, where: str, cortical_landmarks: tuple[str, ...]) -> IndexEntry:
    """CTI(S) or CTI(I): W over the foramen height above (S) or below (I) it; value only (INDICES.md)."""
    return IndexEntry(
        id=f"CTI_{height_id}",
        name=f"CT index, {where}",
        unit="ratio",
        kind="value",
        landmarks=(*cortical_landmarks, f"foramen_{where}"),
        measurements=("W", height_id),
        formula=_ratio("W", height_id),
        cutoff=None,
        status="confirmed definition",
        citations=(POIANA_2024,),
        population="postmenopausal women",
        accuracy="r = 0.32-0.52 with T-scores (Poiana et al. 2024)",
        guidance=f"W / {height_id}; lower in osteoporosis. No validated CBCT cutoff: value only.",
    )


def _roi_entry(
    measurement_id: str,
    *,
    name: str,
    unit: str,
    status: str,
    citations: tuple[str, ...],
    population: str,
    accuracy: str,
    guidance: str,
    experimental: str = "",
) -> IndexEntry:
    """An index that is one measurement of the trabecular ROI itself (its id is the measurement's)."""
    return IndexEntry(
        id=measurement_id,
        name=name,
        unit=unit,
        kind="value",
        landmarks=("trab_roi",),
        measurements=(measurement_id,),
        formula=_identity(measurement_id),
        status=status,
        citations=citations,
        population=population,
        accuracy=accuracy,
        guidance=guidance,
        experimental=experimental,
    )


def build_catalogue(castro: CastroDefinition) -> tuple[IndexEntry, ...]:
    """All entries, in report order, with CASTRO built from its definition file."""
    cortical_landmarks = ("foramen_centre", "border_outer", "border_inner")
    return (
        _castro_entry(castro),
        IndexEntry(
            id="CTMI",
            name="CT mandibular (mental) index",
            unit="mm",
            kind="value",
            landmarks=cortical_landmarks,
            measurements=("W",),
            formula=_identity("W"),
            cutoff=CTMI_CUTOFF,
            status="to verify",
            citations=(KOH_KIM_2011, BRASILEIRO_2017, ALKHADER_MI, DEVLIN_2007, POIANA_2024),
            population="postmenopausal women (CBCT studies of the index); the cutoff has no validated CBCT population",
            accuracy=(
                "correlates best with femoral-neck T-score among CBCT cortical indices "
                "(r = 0.551; Poiana et al. 2024, 104 postmenopausal women)"
            ),
            guidance="Inferior cortical width W below the mental foramen; lower in osteoporosis.",
        ),
        _foramen_ratio_entry("S", "superior", cortical_landmarks),
        _foramen_ratio_entry("I", "inferior", cortical_landmarks),
        IndexEntry(
            id="CTCI",
            name="CT cortical index (Klemetti-type grade)",
            unit="grade",
            kind="grade",
            landmarks=(),
            measurements=(),
            cutoff=None,
            status="confirmed definition",
            citations=(KLEMETTI_1994, KOH_KIM_2011, BRASILEIRO_2017),
            population="panoramic grading (Klemetti 1994), applied to CBCT in postmenopausal women",
            accuracy="C2/C3 suggest low BMD",
            guidance=(
                "Grade the endosteal margin of the inferior cortex: C1 even and sharp; C2 semilunar defects or "
                "endosteal residues; C3 clearly porous cortex. C2/C3 suggest low BMD."
            ),
            side_tolerance_sigmas=None,
        ),
        _roi_entry(
            "TRAB_MEAN",
            name="Trabecular mean gray value",
            unit="gray value",
            status="confirmed definition",
            citations=(),
            population="none (no validated CBCT cutoff)",
            accuracy="not established",
            guidance=f"Mean gray value in the trabecular ROI. {GRAY_VALUE_NOTE}",
        ),
        _roi_entry(
            "TRAB_SD",
            name="Trabecular gray-value SD",
            unit="gray value",
            status="confirmed definition",
            citations=(),
            population="none (no validated CBCT cutoff)",
            accuracy="not established",
            guidance=(
                f"Spread of gray values in the trabecular ROI. {GRAY_VALUE_NOTE} Needs voxels of 0.2 mm or "
                "less to resolve trabeculae."
            ),
        ),
        _roi_entry(
            "BV_TV",
            name="Bone fraction (BV/TV), experimental",
            unit="ratio",
            status="experimental",
            citations=(OTSU_1979, VAN_DESSEL_2013),
            population="none (no validated CBCT cutoff)",
            accuracy="not established",
            guidance="Bone fraction of the ROI after an Otsu threshold within the ROI. Experimental: see its reason.",
            experimental=BV_TV_EXPERIMENTAL,
        ),
        _roi_entry(
            "FD",
            name="Fractal dimension (2D box counting)",
            unit="1",
            status="confirmed definition",
            citations=(WHITE_RUDOLPH_1999,),
            population="panoramic studies; no validated CBCT cutoff",
            accuracy="lower FD associated with osteoporosis (panoramic)",
            guidance=(
                "Box-counting dimension of the skeletonised marrow spaces of the cross-section ROI, after White & "
                "Rudolph's steps; the program's own choices: the ROI is resampled to 0.1 mm pixels and the 35-pixel "
                "blur is 3.5 mm. It depends on the scanner's blur, so compare values only within one protocol. "
                "Value only."
            ),
        ),
    )


@lru_cache(maxsize=1)
def all_entries() -> tuple[IndexEntry, ...]:
    """The catalogue with the bundled Castro definition (read once)."""
    return build_catalogue(load_castro_definition(measurement_ids=MEASUREMENT_IDS))


def load_index_file(path: str) -> IndexEntry:
    """One extra index from a definition file (``--index SITE.toml``); see :mod:`cbct_osteo.indices.definition_file`."""
    from cbct_osteo.indices.definition_file import load_index_file as load

    return load(path)


def entry(index_id: str) -> IndexEntry:
    """The entry with ``index_id``; ``KeyError`` naming the known ids otherwise."""
    for item in all_entries():
        if item.id == index_id:
            return item
    raise KeyError(f"unknown index {index_id!r}; known: {[e.id for e in all_entries()]}")


# --- derived views ---------------------------------------------------------------------------------


def required_inputs(index_id: str) -> dict[str, tuple[str, ...]]:
    """What one index needs per side: ``{"landmarks": (...), "measurements": (...), "grades": (...)}``."""
    e = entry(index_id)
    landmarks = list(e.landmarks)
    for measurement_id in e.measurements:
        landmarks += [k for k in MEASUREMENTS_BY_ID[measurement_id].landmarks if k not in landmarks]
    return {
        "landmarks": tuple(k for k in LANDMARK_KINDS if k in landmarks),
        "measurements": e.measurements,
        "grades": (e.id,) if e.kind == "grade" else (),
    }


def csv_columns(entries: tuple[IndexEntry, ...] | None = None) -> list[str]:
    """Batch CSV header: ``case_id,status,error``, per-side measurements and indices, means, screening.

    Per side: ``<side>_<id>`` and ``<side>_<id>_quality`` (the results JSON's ``quality``:
    ok, uncertain or not measurable) for every measurement, then every index whose id is not
    already a measurement column (``TRAB_MEAN`` etc. appear once). Then ``mean_<id>`` and
    ``mean_<id>_category`` per index, ``screening``, and the manifest's ``age`` and ``sex``.
    """
    entries = all_entries() if entries is None else entries
    columns = ["case_id", "status", "error"]
    index_ids = [e.id for e in entries if e.id not in MEASUREMENT_IDS]
    for side in SIDES:
        for item in MEASUREMENT_IDS:
            columns += [f"{side}_{item}", f"{side}_{item}_quality"]
        columns += [f"{side}_{item}" for item in index_ids]
    for e in entries:
        columns += [f"mean_{e.id}", f"mean_{e.id}_category"]
    columns += ["screening", "age", "sex"]
    return columns
