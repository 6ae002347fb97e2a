"""The header and its anonymisation: identifiers are left out everywhere the header feeds."""

from __future__ import annotations

import datetime as dt

from cbct_osteo.report.header import build_header, default_report_name, format_person_name, pseudonym
from cbct_osteo.volume import VolumeMeta

#: What the made-up patient's header (``patient_meta``) identifies them by.
IDENTIFIERS = ("Zanetti", "Mariana", "PHANTOM-0001", "1955", "19550612", "2025-03-01", "1.2.826")


def _all_text(header) -> str:
    return " ".join(str(v) for v in vars(header).values())


def test_identified_header_shows_patient_and_age_at_study(patient_meta):
    header = build_header(patient_meta, (0.3, 0.3, 0.3), practice_name="Dr. Rossi", today=dt.date(2026, 11, 26))
    rows = dict(header.rows())
    assert rows["Patient"] == "Zanetti, Mariana"
    assert rows["Patient ID"] == "PHANTOM-0001"
    assert rows["Birth date"] == "1955-06-12"
    assert rows["Age at study"] == "69 years"  # 2025-03-01 is before the 70th birthday
    assert rows["Study date"] == "2025-03-01"
    assert rows["Device"] == "Acme CB-1"
    assert rows["Voxel size"] == "0.3 mm (isotropic)"
    assert rows["Report date"] == "2026-11-26"
    assert header.case_label == "PHANTOM-0001"


def test_anonymised_header_has_no_identifier(patient_meta):
    header = build_header(patient_meta, (0.3, 0.3, 0.3), anonymise=True, today=dt.date(2026, 11, 26))
    text = _all_text(header) + " ".join(f"{a} {b}" for a, b in header.rows())
    for identifier in IDENTIFIERS:
        assert identifier not in text, identifier
    assert header.case_label == pseudonym(patient_meta)
    assert dict(header.rows())["Age at study"] == "69 years"
    assert dict(header.rows())["Sex"] == "female"


def test_pseudonym_is_stable_and_differs_between_cases(patient_meta):
    other = VolumeMeta(patient_id="PHANTOM-0002", study_uid=patient_meta.study_uid, series_uid=patient_meta.series_uid)
    assert pseudonym(patient_meta) == pseudonym(patient_meta)
    assert pseudonym(patient_meta) != pseudonym(other)
    assert pseudonym(patient_meta).startswith("case-") and len(pseudonym(patient_meta)) == 15


def test_default_report_names(patient_meta):
    assert default_report_name(patient_meta, anonymise=False) == "report_PHANTOM-0001_20250301.pdf"
    anonymous = default_report_name(patient_meta, anonymise=True)
    assert anonymous == f"report_{pseudonym(patient_meta).removeprefix('case-')}.pdf"
    assert not any(i in anonymous for i in IDENTIFIERS)
    assert default_report_name(VolumeMeta(patient_id="a/b c"), anonymise=False) == "report_a_b_c.pdf"


def test_missing_header_attributes_are_said_not_invented():
    header = build_header(VolumeMeta(), (0.5, 0.4, 0.4), today=dt.date(2026, 1, 2))
    rows = dict(header.rows())
    assert rows["Patient"] == "not recorded"
    assert rows["Birth date"] == "not recorded"
    assert "Age at study" not in rows
    assert rows["Voxel size"] == "0.4 × 0.4 × 0.5 mm (x × y × z)"


def test_person_name_formatting():
    assert format_person_name("Zanetti^Mariana^Luisa") == "Zanetti, Mariana Luisa"
    assert format_person_name("Zanetti") == "Zanetti"
    assert format_person_name("") == ""
