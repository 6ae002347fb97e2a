"""The report header: who, when, with what, and the anonymised variant of all of it.

Anonymisation is decided here, once, so the PDF text, the PDF metadata, the default file
name and the CSV/JSON exports all leave out the same identifiers. In anonymised mode the
patient's name, ID, birth date, the study date, the institution and every DICOM UID are
dropped, and free text is scrubbed of them (:mod:`cbct_osteo.report.anonymise`); the case
is named by a pseudonym (a hash of the identifiers, not reversible in practice because it
mixes the study and series UIDs), and only sex and age in whole years at the study remain,
which are needed to read the cutoffs.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cbct_osteo import __version__
from cbct_osteo.report.anonymise import redactor
from cbct_osteo.volume import VolumeMeta

#: What the report prints where a header attribute is absent from the DICOM data.
NOT_RECORDED = "not recorded"
_SEX_WORDS = {"F": "female", "M": "male", "O": "other"}


@dataclass(frozen=True)
class ReportHeader:
    """Every header line of the report as display text (empty string = leave the line out).

    Attributes
    ----------
    case_label
        The name of the case in titles, PDF metadata and file names: the patient ID, or
        the pseudonym ``case-<10 hex>`` when anonymised.
    scrub
        Free text -> the same text without the scan's identifiers (paths, file names, UIDs,
        the patient's name, ID and birth date; :func:`cbct_osteo.report.anonymise.redact`).
        Unchanged text when not anonymised. A function, so the header holds no identifier itself.
    """

    practice_name: str
    patient_name: str
    patient_id: str
    sex: str
    birth_date: str
    age: str
    study_date: str
    device: str
    voxel_size: str
    report_date: str
    software: str
    anonymised: bool
    case_label: str
    scrub: Callable[[str], str] = field(default=lambda text: text, repr=False, compare=False)

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in print order, without the lines anonymisation removed."""
        rows = [
            ("Patient", self.patient_name),
            ("Patient ID" if not self.anonymised else "Case", self.patient_id),
            ("Sex", self.sex),
            ("Birth date", self.birth_date),
            ("Age at study", self.age),
            ("Study date", self.study_date),
            ("Device", self.device),
            ("Voxel size", self.voxel_size),
            ("Report date", self.report_date),
            ("Software", self.software),
        ]
        return [(label, value) for label, value in rows if value]


def pseudonym(meta: VolumeMeta) -> str:
    """A stable pseudonym ``case-<10 hex>`` for the case, from its identifiers and UIDs.

    Stable, so the anonymised PDF, CSV and JSON of one case carry the same name; the hash
    mixes the 64-character UIDs, so it cannot be reversed by trying patient IDs.
    """
    digest = hashlib.sha256(
        "|".join((meta.patient_id, meta.patient_name, meta.study_uid, meta.series_uid)).encode("utf-8")
    ).hexdigest()
    return f"case-{digest[:10]}"


def build_header(
    meta: VolumeMeta,
    spacing_zyx: Sequence[float],
    *,
    anonymise: bool = False,
    practice_name: str = "",
    today: _dt.date | None = None,
) -> ReportHeader:
    """Assemble the header from the volume's metadata.

    Parameters
    ----------
    meta
        The header information of the loaded series.
    spacing_zyx
        Voxel size (z, y, x) in mm.
    anonymise
        Leave out every patient identifier (see the module docstring).
    practice_name
        The practice or clinic that issues the report (from the settings or the command line).
    today
        The report date; today's date when ``None`` (tests pass a fixed one).
    """
    today = today or _dt.date.today()
    birth = _parse_dicom_date(meta.patient_birth_date)
    study = _parse_dicom_date(meta.study_date)
    age = ""
    if birth is not None:
        reference = study or today
        years = reference.year - birth.year - ((reference.month, reference.day) < (birth.month, birth.day))
        if 0 <= years < 130:
            age = f"{years} years"
    device = " ".join(part for part in (meta.manufacturer.strip(), meta.model.strip()) if part) or NOT_RECORDED
    dz, dy, dx = (float(v) for v in spacing_zyx)
    if max(dx, dy, dz) - min(dx, dy, dz) < 1e-3:
        voxel = f"{dx:.3g} mm (isotropic)"
    else:
        voxel = f"{dx:.3g} × {dy:.3g} × {dz:.3g} mm (x × y × z)"
    software = f"cbct-osteo {__version__}"
    if anonymise:
        label = pseudonym(meta)
        return ReportHeader(
            practice_name=practice_name.strip(),
            patient_name="",
            patient_id=label,
            sex=_SEX_WORDS.get(meta.patient_sex.strip().upper(), ""),
            birth_date="",
            age=age,
            study_date="",
            device=device,
            voxel_size=voxel,
            report_date=today.isoformat(),
            software=software,
            anonymised=True,
            case_label=label,
            scrub=redactor(meta),
        )
    return ReportHeader(
        practice_name=practice_name.strip(),
        patient_name=format_person_name(meta.patient_name) or NOT_RECORDED,
        patient_id=meta.patient_id.strip() or NOT_RECORDED,
        sex=_SEX_WORDS.get(meta.patient_sex.strip().upper(), NOT_RECORDED),
        birth_date=birth.isoformat() if birth else NOT_RECORDED,
        age=age,
        study_date=study.isoformat() if study else NOT_RECORDED,
        device=device,
        voxel_size=voxel,
        report_date=today.isoformat(),
        software=software,
        anonymised=False,
        case_label=meta.patient_id.strip() or pseudonym(meta),
    )


def format_person_name(dicom_name: str) -> str:
    """DICOM PN ``Family^Given^Middle^Prefix^Suffix`` as ``Family, Given Middle``."""
    parts = [p.strip() for p in str(dicom_name).split("=")[0].split("^")]
    family = parts[0] if parts else ""
    given = " ".join(p for p in parts[1:3] if p)
    if family and given:
        return f"{family}, {given}"
    return family or given


def default_report_name(meta: VolumeMeta, *, anonymise: bool, suffix: str = ".pdf") -> str:
    """A file name for the report that carries no identifier when anonymised.

    ``report_<pseudonym hash>.pdf`` when anonymised, else ``report_<patient id>_<study date>.pdf``
    (characters unsafe in file names replaced by ``_``).
    """
    if anonymise:
        return f"report_{pseudonym(meta).removeprefix('case-')}{suffix}"
    parts = [meta.patient_id.strip() or pseudonym(meta), meta.study_date.strip()]
    stem = "_".join(p for p in parts if p)
    return f"report_{re.sub(r'[^A-Za-z0-9.-]+', '_', stem)}{suffix}"


def _parse_dicom_date(text: str) -> _dt.date | None:
    """DICOM DA ``YYYYMMDD`` (also tolerating ``YYYY-MM-DD``) to a date, ``None`` if absent or invalid."""
    digits = re.sub(r"[^0-9]", "", str(text or ""))
    if len(digits) != 8:
        return None
    try:
        return _dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
