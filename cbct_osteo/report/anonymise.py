"""Anonymised outputs: identifiers scrubbed from free text, and DICOM de-identified per PS3.15.

:func:`cbct_osteo.report.header.build_header` decides *whether* a report is anonymised; this
module does the parts that go beyond leaving header lines out:

- :func:`redact` / :func:`redact_document`: free text (the results JSON's load warnings, e.g.
  "1 slice(s) duplicate ... (Zanetti_Mariana_dup.dcm)") with the patient's name, ID and birth
  date, the scan's UIDs, source file names and folders, and anything shaped like a path, a file
  name or a DICOM UID replaced by :data:`REMOVED`.
- :func:`anonymised_source`: the source DICOM header the derived objects (SR, Encapsulated PDF,
  Secondary Captures) copy their patient and study from, de-identified with dicom-anonymizer's
  tables of the DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (new UIDs,
  names, IDs and dates removed or replaced, private tags dropped), then named by the case pseudonym
  and marked ``PatientIdentityRemoved`` with the profile's code (113100).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import Any

from pydicom.dataset import Dataset

from cbct_osteo.volume import VolumeMeta

REMOVED = "[removed]"
#: The Annex E table version of dicom-anonymizer used (the newest it ships).
PROFILE_TABLES = "dicomfields_2026c"
#: DICOM CID 7050 "De-identification Method": Basic Application Confidentiality Profile.
BASIC_PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
#: Shorter identifier fragments are left alone (they would mangle ordinary words).
_MIN_FRAGMENT = 3
_PATTERNS = (
    re.compile(r"[^\s()\[\],;'\"]*[/\\][^\s()\[\],;'\"]*"),  # anything with a path separator
    re.compile(r"\b[\w.+-]*[A-Za-z_][\w+-]*\.[A-Za-z][A-Za-z0-9]{1,4}\b"),  # file.ext (not 0.35 or 1e-5)
    re.compile(r"\b\d+(?:\.\d+){3,}\b"),  # DICOM UIDs
)


def identifiers(meta: VolumeMeta) -> tuple[str, ...]:
    """Every string of ``meta`` that identifies the patient or the scan, longest first.

    The patient's name (as stored and each component), ID, birth date (as stored and ISO), the
    study, series and frame-of-reference UIDs, accession number, and every source file's name,
    stem and folder path.
    """
    found: set[str] = set()
    name = str(meta.patient_name or "")
    found.add(name)
    found.update(re.split(r"[\^=\s,]+", name))
    found.update({str(meta.patient_id or ""), str(meta.accession_number or ""), str(meta.study_id or "")})
    birth = re.sub(r"[^0-9]", "", str(meta.patient_birth_date or ""))
    found.update({str(meta.patient_birth_date or ""), birth})
    if len(birth) == 8:
        found.add(f"{birth[:4]}-{birth[4:6]}-{birth[6:]}")
    found.update({str(meta.study_uid or ""), str(meta.series_uid or ""), str(meta.frame_of_reference_uid or "")})
    for source in meta.source_files or ():
        path = PurePath(str(source))
        found.update({str(path), path.name, path.stem, str(path.parent)})
    return tuple(
        sorted(
            (s.strip() for s in found if len(s.strip()) >= _MIN_FRAGMENT and s.strip() != os.sep), key=len, reverse=True
        )
    )


def redact(text: str, known: Iterable[str]) -> str:
    """``text`` with each of ``known`` and anything shaped like a path, file name or UID replaced by :data:`REMOVED`."""
    for pattern in _PATTERNS:
        text = pattern.sub(REMOVED, text)
    for item in known:
        if item:
            text = re.sub(re.escape(item), REMOVED, text, flags=re.IGNORECASE)
    return text


def redactor(meta: VolumeMeta) -> Callable[[str], str]:
    """``redact`` bound to the identifiers of ``meta``; the header keeps this, not the identifiers."""
    known = identifiers(meta)
    return lambda text: redact(text, known)


def redact_document(document: Any, scrub: Callable[[str], str]) -> Any:
    """A copy of a JSON document with every string value passed through ``scrub`` (keys kept)."""
    if isinstance(document, str):
        return scrub(document)
    if isinstance(document, dict):
        return {key: redact_document(value, scrub) for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [redact_document(value, scrub) for value in document]
    return document


def anonymised_source(source: Dataset, case_label: str) -> Dataset:
    """A de-identified copy of a source DICOM header (PS3.15 Basic Profile), named ``case_label``.

    UIDs are replaced consistently within this process (the same source UID gets the same new
    UID), so the derived objects still reference one another and the (renamed) source.
    """
    # dicomanonymizer ships no type information (no py.typed, no stubs): its two functions are Any here
    # (pyproject.toml lists it with the other untyped libraries).
    from dicomanonymizer import anonymize_dataset, initialize_actions

    anonymised = copy.deepcopy(source)
    anonymize_dataset(anonymised, base_rules_gen=lambda: initialize_actions(PROFILE_TABLES), delete_private_tags=True)
    anonymised.PatientName = f"{case_label}^"  # family name only (the caret says so, PS3.5 6.2.1.2)
    anonymised.PatientID = case_label
    for keyword in ("PatientBirthDate", "PatientBirthTime"):  # profile action Z: present but empty
        if keyword in anonymised:
            setattr(anonymised, keyword, "")
    anonymised.PatientIdentityRemoved = "YES"
    anonymised.DeidentificationMethod = "DICOM PS3.15 Basic Profile (cbct-osteo)"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = BASIC_PROFILE_CODE
    anonymised.DeidentificationMethodCodeSequence = [code]
    return anonymised
