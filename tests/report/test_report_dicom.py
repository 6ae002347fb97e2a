"""DICOM exports of the phantom case re-read with pydicom: right study/series, right values, valid objects."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest
from highdicom.sr import MeasurementReport

from cbct_osteo.report import report_figures, write_dicom_exports

from .conftest import PRACTICE


@pytest.fixture(scope="module")
def exports(phantom_case, identified_pdf, tmp_path_factory):
    document = phantom_case.result.to_json()
    folder = tmp_path_factory.mktemp("dicom")
    paths = write_dicom_exports(
        folder,
        document,
        phantom_case.volume,
        pdf_bytes=identified_pdf[0].read_bytes(),
        figures=report_figures(document, phantom_case.volume, phantom_case.landmarks),
    )
    return {p.name: p for p in paths}


def _source(phantom_case):
    return pydicom.dcmread(phantom_case.volume.meta.source_files[0], stop_before_pixels=True)


def test_every_object_joins_the_source_study(exports, phantom_case):
    meta = phantom_case.volume.meta
    assert set(exports) == {"SR.dcm", "PDF.dcm", "SC_1.dcm", "SC_2.dcm", "SC_3.dcm"}
    for path in exports.values():
        ds = pydicom.dcmread(path)
        assert ds.StudyInstanceUID == meta.study_uid
        assert ds.SeriesInstanceUID != meta.series_uid  # a derived series of its own
        assert ds.PatientID == "PHANTOM-0001" and str(ds.PatientName) == "Zanetti^Mariana"


def test_sr_references_the_source_series_and_holds_the_results(exports, phantom_case):
    sr = pydicom.dcmread(exports["SR.dcm"])
    source = _source(phantom_case)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    series = evidence.ReferencedSeriesSequence[0]
    assert evidence.StudyInstanceUID == phantom_case.volume.meta.study_uid
    assert series.SeriesInstanceUID == phantom_case.volume.meta.series_uid
    assert series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    # Parse it back as a TID 1500 Measurement Report with highdicom: (name, value, unit) per group.
    report = MeasurementReport.from_sequence([sr])
    groups = {
        str(g.tracking_identifier): {m.name.value: (m.value, m.unit.value) for m in g.get_measurements()}
        for g in report.get_image_measurement_groups()
    }
    document = phantom_case.result.to_json()
    for side in ("right", "left"):
        measured = groups[f"{side} mental foramen region"]
        assert measured["W"] == (pytest.approx(document["sides"][side]["measurements"]["W"]["value"], rel=1e-9), "mm")
        assert measured["CTI_S"][1] == "{ratio}"
    mean = groups["mean of both sides"]
    assert mean["CTMI"] == (pytest.approx(document["mean"]["indices"]["CTMI"]["value"], rel=1e-9), "mm")
    assert "CASTRO" not in mean  # no value while its definition is pending: never a made-up number


def test_encapsulated_pdf_is_the_report(exports, identified_pdf, phantom_case):
    ds = pydicom.dcmread(exports["PDF.dcm"])
    pdf = identified_pdf[0].read_bytes()
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.EncapsulatedDocument[: ds.EncapsulatedDocumentLength] == pdf
    assert ds.SourceInstanceSequence[0].ReferencedSOPInstanceUID == _source(phantom_case).SOPInstanceUID


def test_secondary_captures_are_the_annotated_views(exports):
    images = [pydicom.dcmread(exports[f"SC_{n}.dcm"]) for n in (1, 2, 3)]
    assert len({ds.SeriesInstanceUID for ds in images}) == 1
    for ds in images:
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        pixels = ds.pixel_array
        assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.std() > 10
        assert ds.BurnedInAnnotation == "YES"


def test_dciodvfy_finds_no_errors(exports):
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (Debian package dicom3tools) is not installed; run scripts/setup")
    for name, path in exports.items():
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
        errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], (name, errors)


def test_command_line_report_with_every_export(phantom_case, tmp_path):
    from cbct_osteo.cli import main
    from cbct_osteo.report import default_report_name

    status = main(
        [
            "report",
            str(phantom_case.folder),
            "--landmarks",
            str(phantom_case.folder / "landmarks.json"),
            "-o",
            str(tmp_path),
            "--anonymise",
            "--practice",
            PRACTICE,
            "--page-size",
            "letter",
            "--no-3d",
            "--no-refine",
            "--csv",
            str(tmp_path / "case.csv"),
            "--json",
            str(tmp_path / "case.json"),
        ]
    )
    assert status == 0
    pdf = tmp_path / default_report_name(phantom_case.volume.meta, anonymise=True)
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    assert "PHANTOM-0001" not in (tmp_path / "case.csv").read_text() + (tmp_path / "case.json").read_text()
