"""DICOM exports that a PACS can keep next to the CBCT: Encapsulated PDF, TID 1500 SR, Secondary Captures.

Every object joins the source study (StudyInstanceUID and patient module copied from the first
source file's header) in a new series of its own, and references the source series and instance:
the SR through its evidence sequence, the PDF through ``SourceInstanceSequence``, the
Secondary Captures through highdicom's reference-dataset copy. These exports are for the
patient's record. With an anonymised header (research sharing) the source header is first
de-identified per DICOM PS3.15's Basic Profile (:func:`cbct_osteo.report.anonymise.anonymised_source`):
new study, series and instance UIDs, no name, ID or birth date, the case pseudonym as patient.

The SR is a Comprehensive 3D SR with the Measurement Report template (TID 1500): one measurement
group per side (finding site mandible with laterality) and one for the mean of both sides, each
measurement a (coded name, value, UCUM unit) triple. Our indices have no standard codes, so
they are coded in the private scheme :data:`CODING_SCHEME` ("99" = local by DICOM convention),
with the results JSON ids as code values.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from cbct_osteo import __version__
from cbct_osteo.errors import ExportError
from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.report.anonymise import anonymised_source
from cbct_osteo.report.exports import anonymised_results
from cbct_osteo.report.figures import Figure
from cbct_osteo.report.header import ReportHeader

if TYPE_CHECKING:  # highdicom is imported where it is used (it is slow to import and only exports need it)
    from highdicom.sr import (
        AlgorithmIdentification,
        CodedConcept,
        Comprehensive3DSR,
        Measurement,
        QualitativeEvaluation,
    )
from cbct_osteo.volume import Volume

CODING_SCHEME = "99CBCTOST"
MANUFACTURER = "cbct-osteo project"
ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
#: Series numbers of the derived series (high, so they sort after the scanner's own series).
SERIES_NUMBERS = {"pdf": 9001, "sr": 9002, "sc": 9003}

_UNITS = {
    "mm": ("mm", "millimeter"),
    "ratio": ("{ratio}", "ratio"),
    "1": ("1", "no units"),
    "gray value": ("{gray value}", "gray value (uncalibrated)"),
}
_MANDIBLE = ("91609006", "SCT", "Mandible")
_LATERALITY = {"left": ("7771000", "SCT", "Left"), "right": ("24028007", "SCT", "Right")}
_CT_PROCEDURE = ("77477000", "SCT", "Computerized axial tomography")
#: Type 2 attributes of the Patient and General Study modules every derived object carries.
_PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def source_header(volume: Volume) -> Dataset:
    """The header (no pixels) of the first source file of the volume, for patient/study/series references.

    Raises
    ------
    ExportError
        When the volume was not loaded from DICOM files (e.g. an in-memory phantom), or its
        header lacks the UIDs an export must reference.
    LoadError
        When the source file can no longer be read.
    """
    files = volume.meta.source_files
    if not files:
        raise ExportError(
            None,
            "DICOM export needs the source DICOM series, but this volume has no source files",
            "load the scan from its DICOM files",
        )
    try:
        header = pydicom.dcmread(files[0], stop_before_pixels=True)
    except Exception as exc:  # pydicom raises several types for unreadable files
        raise LoadError(files[0], f"cannot re-read the source DICOM header: {exc}") from exc
    for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        if not header.get(keyword):
            raise ExportError(files[0], f"the source DICOM header has no {keyword}, so exports cannot reference it")
    # Type 2 patient/study attributes may be absent from real files; the derived objects need them (empty).
    for keyword in _PATIENT_STUDY:
        if keyword not in header:
            setattr(header, keyword, "")
    return header


def _code(value: str, scheme: str, meaning: str) -> CodedConcept:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=scheme, meaning=meaning)


def _now() -> _dt.datetime:
    return _dt.datetime.now()


def encapsulated_pdf(pdf_bytes: bytes, source: Dataset, *, title: str = "Mandibular bone screening report") -> Dataset:
    """An Encapsulated PDF Storage object in the source study (PS3.3 A.45.1).

    ``EncapsulatedDocument`` is padded to even length; ``EncapsulatedDocumentLength`` keeps the
    true PDF length.
    """
    now = _now()
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S")
    _copy_patient_study(source, ds)
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = SERIES_NUMBERS["pdf"]
    ds.SeriesDescription = "cbct-osteo report (PDF)"
    ds.Manufacturer = MANUFACTURER
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title
    concept = Dataset()
    concept.CodeValue = "REPORT"
    concept.CodingSchemeDesignator = CODING_SCHEME
    concept.CodeMeaning = title
    ds.ConceptNameCodeSequence = [concept]
    ds.CodingSchemeIdentificationSequence = [_coding_scheme_identification()]
    reference = Dataset()
    reference.ReferencedSOPClassUID = source.SOPClassUID
    reference.ReferencedSOPInstanceUID = source.SOPInstanceUID
    ds.SourceInstanceSequence = [reference]
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(pdf_bytes)
    ds.EncapsulatedDocument = pdf_bytes + (b"\0" if len(pdf_bytes) % 2 else b"")
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def measurement_sr(results: Mapping[str, Any], source: Dataset) -> Comprehensive3DSR:
    """A Comprehensive 3D SR (TID 1500 Measurement Report) of the case's measurements and indices.

    Values without a number (not computable, pending definition, grades) are left out of the
    numeric measurements; grades and categories become qualitative evaluations.
    """
    from highdicom.sr import (
        AlgorithmIdentification,
        Comprehensive3DSR,
        DeviceObserverIdentifyingAttributes,
        FindingSite,
        MeasurementReport,
        MeasurementsAndQualitativeEvaluations,
        ObservationContext,
        ObserverContext,
        TrackingIdentifier,
    )

    algorithm = AlgorithmIdentification(name="cbct-osteo", version=__version__)
    groups = []
    sides = results.get("sides") or {}
    for side in ("right", "left"):
        block = sides.get(side) or {}
        items = dict(block.get("measurements") or {})
        items.update(block.get("indices") or {})
        site = FindingSite(_code(*_MANDIBLE), laterality=_code(*_LATERALITY[side]))
        groups.append(
            MeasurementsAndQualitativeEvaluations(
                tracking_identifier=TrackingIdentifier(uid=generate_uid(), identifier=f"{side} mental foramen region"),
                algorithm_id=algorithm,
                finding_sites=[site],
                measurements=_measurements(items, algorithm) or None,
                qualitative_evaluations=_evaluations(block.get("indices") or {}) or None,
            )
        )
    mean = (results.get("mean") or {}).get("indices") or {}
    screening = results.get("screening") or {}
    evaluations = _evaluations(mean)
    if screening.get("code"):
        evaluations.append(_qualitative("SCREENING", "Osteoporosis screening result", str(screening["code"])))
    groups.append(
        MeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=generate_uid(), identifier="mean of both sides"),
            algorithm_id=algorithm,
            finding_sites=[FindingSite(_code(*_MANDIBLE))],
            measurements=_measurements(mean, algorithm) or None,
            qualitative_evaluations=evaluations or None,
        )
    )
    observer = ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=DeviceObserverIdentifyingAttributes(
            uid=generate_uid(),
            name="cbct-osteo",
            manufacturer_name=MANUFACTURER,
            model_name=f"cbct-osteo {__version__}",
        ),
    )
    report = MeasurementReport(
        observation_context=ObservationContext(observer_device_context=observer),
        procedure_reported=_code(*_CT_PROCEDURE),
        imaging_measurements=groups,
    )
    sr = Comprehensive3DSR(
        evidence=[source],
        content=report,
        series_instance_uid=generate_uid(),
        series_number=SERIES_NUMBERS["sr"],
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        is_final=False,
        is_verified=False,
    )
    sr.SeriesDescription = "cbct-osteo measurements (SR)"
    sr.CodingSchemeIdentificationSequence = [_coding_scheme_identification()]
    _copy_deidentification(source, sr)
    return sr


def secondary_captures(figures: Sequence[Figure], source: Dataset) -> list[Dataset]:
    """Secondary Capture images (RGB) of the annotated views, one series, in the source study."""
    from highdicom.sc import SCImage

    series_uid = generate_uid()
    images: list[Dataset] = []
    for number, figure in enumerate(figures, 1):
        pixels = np.asarray(figure.image.convert("RGB"), dtype=np.uint8)
        spacing = figure.pixel_mm
        sc = SCImage.from_ref_dataset(
            ref_dataset=source,
            pixel_array=pixels,
            photometric_interpretation="RGB",
            bits_allocated=8,
            coordinate_system="PATIENT",
            series_instance_uid=series_uid,
            series_number=SERIES_NUMBERS["sc"],
            sop_instance_uid=generate_uid(),
            instance_number=number,
            manufacturer=MANUFACTURER,
            # highdicom 0.28 annotates this argument tuple[int, int]; it is the pixel size in mm (floats), as
            # SCImage.__init__ (which it is passed on to) annotates it.
            pixel_spacing=tuple(float(v) for v in spacing) if spacing else None,  # type: ignore[arg-type]
            patient_orientation=figure.patient_orientation or ("L", "F"),
        )
        sc.SeriesDescription = "cbct-osteo annotated views"
        # DICOM defined term for the jaw, an unpaired body part: General Series Laterality is then absent.
        sc.BodyPartExamined = "JAW"
        sc.BurnedInAnnotation = "YES"
        sc.ImageComments = figure.caption[:10240]
        _copy_deidentification(source, sc)
        images.append(sc)
    return images


def write_dataset(dataset: Dataset, path: str | Path) -> Path:
    """Write a DICOM Part 10 file atomically."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return write_bytes_atomic(path, buffer.getvalue())


def write_dicom_exports(
    out_dir: str | Path,
    results: Mapping[str, Any],
    volume: Volume,
    *,
    pdf_bytes: bytes | None = None,
    figures: Sequence[Figure] = (),
    header: ReportHeader | None = None,
) -> list[Path]:
    """Write the SR, the Encapsulated PDF (when ``pdf_bytes``) and the Secondary Captures into ``out_dir``.

    File names are ``SR.dcm``, ``PDF.dcm`` and ``SC_<n>.dcm``. Returns the paths written. With
    an anonymised ``header`` every object is de-identified (see the module docstring); pass the
    anonymised PDF's bytes then.
    """
    folder = Path(out_dir)
    source = source_header(volume)
    anonymising = header if header is not None and header.anonymised else None
    if anonymising is not None:
        source = anonymised_source(source, anonymising.case_label)
        results = anonymised_results(results, anonymising.case_label, anonymising.scrub)
    written = [write_dataset(measurement_sr(results, source), folder / "SR.dcm")]
    if pdf_bytes is not None:
        written.append(write_dataset(encapsulated_pdf(pdf_bytes, source), folder / "PDF.dcm"))
    for number, sc in enumerate(secondary_captures(figures, source), 1):
        if anonymising is not None and "ImageComments" in sc:
            sc.ImageComments = anonymising.scrub(str(sc.ImageComments))
        written.append(write_dataset(sc, folder / f"SC_{number}.dcm"))
    return written


def _copy_patient_study(source: Dataset, target: Dataset) -> None:
    """Patient and General Study modules from the source (type 2 attributes kept even when empty)."""
    target.StudyInstanceUID = source.StudyInstanceUID
    for keyword in _PATIENT_STUDY:
        setattr(target, keyword, source.get(keyword, ""))
    _copy_deidentification(source, target)


def _coding_scheme_identification() -> Dataset:
    """SOP Common declaration of the private coding scheme our concept names use."""
    item = Dataset()
    item.CodingSchemeDesignator = CODING_SCHEME
    item.CodingSchemeName = "cbct-osteo measurement and index ids"
    item.CodingSchemeResponsibleOrganization = MANUFACTURER
    return item


def _copy_deidentification(source: Dataset, target: Dataset) -> None:
    """Carry the source's de-identification record (Patient module) over to a derived object."""
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in source:
            setattr(target, keyword, source[keyword].value)


def _measurements(items: Mapping[str, Any], algorithm: AlgorithmIdentification) -> list[Measurement]:
    from highdicom.sr import Measurement

    from cbct_osteo.indices import MEASUREMENTS, all_entries

    names = {e.id: e.name for e in all_entries()}
    names.update({m.id: m.name for m in MEASUREMENTS})
    out: list[Measurement] = []
    for item_id, item in items.items():
        value = item.get("value")
        unit = _UNITS.get(str(item.get("unit")))
        if isinstance(value, (str, bool)) or value is None or unit is None or not math.isfinite(float(value)):
            continue
        out.append(
            Measurement(
                name=_code(item_id, CODING_SCHEME, names.get(item_id, item_id)),
                value=float(value),
                unit=_code(unit[0], "UCUM", unit[1]),
                algorithm_id=algorithm,
            )
        )
    return out


def _qualitative(code: str, meaning: str, value: str) -> QualitativeEvaluation:
    from highdicom.sr import QualitativeEvaluation

    return QualitativeEvaluation(
        name=_code(code, CODING_SCHEME, meaning),
        value=_code(value.upper().replace(" ", "_")[:16], CODING_SCHEME, value),
    )


def _evaluations(indices: Mapping[str, Any]) -> list[QualitativeEvaluation]:
    evaluations: list[QualitativeEvaluation] = []
    for item_id, item in indices.items():
        category = str(item.get("category") or "")
        if isinstance(item.get("value"), str):  # a grade (CTCI)
            evaluations.append(_qualitative(item_id, f"{item_id} grade", str(item["value"])))
        if category in ("low", "normal"):
            evaluations.append(_qualitative(f"{item_id}_CAT"[:16], f"{item_id} category", category))
    return evaluations
