"""Issue 13: with --anonymise no file written (PDF, JSON, CSV, DICOM, file names) carries the patient's
name, ID, birth date, the scan's UIDs or source file names; every output byte is searched,
PDFs (also the one inside the DICOM) after decompressing their streams."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pydicom
import pytest
from pypdf import PdfReader
from pypdf.generic import StreamObject

from cbct_osteo.cli import main

PATIENT = ("Zanetti", "Mariana", "PHANTOM-0001", "19550612", "1955-06-12")
DUPLICATE = "Zanetti_Mariana_dup.dcm"


def pdf_text(data: bytes) -> bytes:
    """The PDF's bytes plus its extracted text, metadata and every decompressed stream."""
    reader = PdfReader(io.BytesIO(data))
    parts = [data, repr(reader.metadata).encode("utf-8")]
    parts += [(page.extract_text() or "").encode("utf-8") for page in reader.pages]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - free object numbers
            continue
        if isinstance(obj, StreamObject):
            parts.append(obj.get_data())
    return b"\n".join(parts)


def dicom_text(path: Path) -> bytes:
    ds = pydicom.dcmread(path)
    parts = [path.read_bytes()]
    for element in ds.iterall():
        if element.VR not in ("OB", "OW", "UN"):
            parts.append(str(element.value).encode("utf-8", "replace"))
    if "EncapsulatedDocument" in ds:
        parts.append(pdf_text(bytes(ds.EncapsulatedDocument[: int(ds.EncapsulatedDocumentLength)])))
    return b"\n".join(parts)


def everything_written(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data.startswith(b"%PDF"):
            data = pdf_text(data)
        elif path.suffix == ".dcm":
            data = dicom_text(path)
        out[str(path.relative_to(folder))] = data
    return out


@pytest.fixture(scope="module")
def scan_with_a_named_duplicate(phantom_cohort, tmp_path_factory) -> dict:
    """The phantom series plus a duplicate slice whose file name is the patient's (a load warning names it)."""
    scan = tmp_path_factory.mktemp("named") / "scan"
    shutil.copytree(phantom_cohort["root"] / "case2", scan)
    slices = sorted((scan / "DICOM").glob("*.dcm"))
    shutil.copy(slices[10], scan / "DICOM" / DUPLICATE)
    header = pydicom.dcmread(slices[0], stop_before_pixels=True)
    assert str(header.PatientName) == "Zanetti^Mariana" and header.PatientBirthDate == "19550612"
    secrets = [
        *PATIENT,
        DUPLICATE,
        "Zanetti_Mariana",
        slices[0].name,
        slices[-1].name,
        str(scan),
        str(header.StudyInstanceUID),
        str(header.SeriesInstanceUID),
        str(header.SOPInstanceUID),
    ]
    return {"scan": scan, "landmarks": scan / "landmarks.json", "secrets": secrets}


def write_all(case: dict, out: Path, *flags: str) -> None:
    code = main(
        [
            "report",
            str(case["scan"]),
            "--landmarks",
            str(case["landmarks"]),
            "-o",
            f"{out}/",
            "--no-3d",
            "--csv",
            str(out / "results.csv"),
            "--json",
            str(out / "results.json"),
            "--dicom",
            str(out / "dicom"),
            *flags,
        ]
    )
    assert code == 0


def leaks(files: dict[str, bytes], secrets: list[str]) -> list[tuple[str, str]]:
    found = []
    for name, data in files.items():
        lowered = (name.encode("utf-8") + b"\n" + data).lower()
        found += [(name, secret) for secret in secrets if secret.lower().encode("utf-8") in lowered]
    return found


def test_anonymised_outputs_carry_no_identifier(scan_with_a_named_duplicate, tmp_path):
    case = scan_with_a_named_duplicate
    out = tmp_path / "anonymised"
    write_all(case, out, "--anonymise")
    files = everything_written(out)
    assert {Path(n).suffix for n in files} == {".pdf", ".csv", ".json", ".dcm"} and len(files) >= 5
    assert leaks(files, case["secrets"]) == []
    sr = pydicom.dcmread(out / "dicom" / "SR.dcm")
    assert sr.PatientIdentityRemoved == "YES" and sr.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert str(sr.PatientID).startswith("case-") and sr.PatientBirthDate == ""
    pdf = pydicom.dcmread(out / "dicom" / "PDF.dcm")
    assert pdf.StudyInstanceUID == sr.StudyInstanceUID, "the derived objects still share one (new) study"


def test_identified_outputs_do_carry_the_identifiers(scan_with_a_named_duplicate, tmp_path):
    """The same search finds them without --anonymise: the test above can fail."""
    case = scan_with_a_named_duplicate
    out = tmp_path / "identified"
    write_all(case, out)
    found = {secret for _, secret in leaks(everything_written(out), case["secrets"])}
    assert {"Zanetti", "PHANTOM-0001", DUPLICATE} <= found
