"""Read the headers of many files fast: GDCM's Scanner first, pydicom where it is needed.

A CBCT export is several hundred classic single-frame files. Parsing each header with
pydicom costs about a millisecond (it builds a Python object per element), which alone
would exceed the whole load-time budget. ``gdcm.Scanner`` (python-gdcm, C++) reads only the
listed tags of every file in one call, ~50 microseconds a file. Anything the scanner cannot
read or that needs more than top-level tags (multi-frame and Enhanced files with functional
groups, files without a file meta header, odd values) goes to pydicom
(:func:`~cbct_osteo.io.dicom_header.read_header`), which also produces the error message.

GDCM never sees a file whose element lengths do not fit it: every file is walked first
(:func:`~cbct_osteo.io.header_walk.walk_header`, ~0.1 ms), and an inconsistent or unusual one
goes to pydicom, whose ``defer_size`` keeps large values on disk.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from collections.abc import Sequence as AbcSequence
from typing import TYPE_CHECKING, Any, Literal, overload

import gdcm

from cbct_osteo.io import limits
from cbct_osteo.io.dicom_header import FileHeader, FrameRef, read_header
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.header_walk import walk_header

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: Tags the scanner collects, by the name used below.
_TAGS: dict[str, tuple[int, int]] = {
    "TransferSyntaxUID": (0x0002, 0x0010),
    "MediaStorageSOPClassUID": (0x0002, 0x0002),
    "ImageType": (0x0008, 0x0008),
    "SOPClassUID": (0x0008, 0x0016),
    "SOPInstanceUID": (0x0008, 0x0018),
    "Modality": (0x0008, 0x0060),
    "SeriesDescription": (0x0008, 0x103E),
    "SliceThickness": (0x0018, 0x0050),
    "SeriesInstanceUID": (0x0020, 0x000E),
    "SeriesNumber": (0x0020, 0x0011),
    "InstanceNumber": (0x0020, 0x0013),
    "ImagePositionPatient": (0x0020, 0x0032),
    "ImageOrientationPatient": (0x0020, 0x0037),
    "SamplesPerPixel": (0x0028, 0x0002),
    "PhotometricInterpretation": (0x0028, 0x0004),
    "NumberOfFrames": (0x0028, 0x0008),
    "Rows": (0x0028, 0x0010),
    "Columns": (0x0028, 0x0011),
    "PixelSpacing": (0x0028, 0x0030),
    "BitsAllocated": (0x0028, 0x0100),
    "BitsStored": (0x0028, 0x0101),
    "HighBit": (0x0028, 0x0102),
    "PixelRepresentation": (0x0028, 0x0103),
    "PixelPaddingValue": (0x0028, 0x0120),
    "PixelPaddingRangeLimit": (0x0028, 0x0121),
    "RescaleIntercept": (0x0028, 0x1052),
    "RescaleSlope": (0x0028, 0x1053),
    "ModalityLUTSequence": (0x0028, 0x3000),
    "SharedFunctionalGroupsSequence": (0x5200, 0x9229),
    "PerFrameFunctionalGroupsSequence": (0x5200, 0x9230),
}
_GDCM_TAGS: dict[str, gdcm.Tag] = {key: gdcm.Tag(*tag) for key, tag in _TAGS.items()}
#: Files scanned per GDCM call: small enough for progress and cancel to stay responsive.
BATCH = 128


def scan_headers(
    files: list[str], progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None
) -> Iterator[tuple[str, FileHeader | LoadError]]:
    """Yield ``(file, header or the LoadError saying why it is not a usable DICOM file)``.

    ``cancel()`` is polled between batches; when it returns True the generator stops
    (the caller raises). ``progress(done, total)`` follows the files, starting with ``(0, total)``.
    """
    total = len(files)
    if progress is not None:
        progress(0, total)  # a phase starts at 0 (see load_series: headers, then frames)
    for start in range(0, total, BATCH):
        if cancel is not None and cancel():
            return
        batch = files[start : start + BATCH]
        walks = {name: walk_header(name) for name in batch}
        consistent = [name for name in batch if walks[name].status == "ok"]
        scanner = gdcm.Scanner()
        for tag in _GDCM_TAGS.values():
            scanner.AddTag(tag)
        if consistent:
            scanner.Scan(consistent)
        for name in batch:
            header: FileHeader | LoadError | None
            try:
                header = _from_scanner(scanner, name) if scanner.IsKey(name) else None
            except (UnicodeDecodeError, ValueError, TypeError):
                header = None  # undecodable text or odd values: pydicom reads it properly
            if header is None:
                try:
                    header = read_header(name)
                except LoadError as exc:
                    header = exc
                if walks[name].status == "corrupt" and (isinstance(header, LoadError) or header.pixel_tag is None):
                    header = LoadError(name, f"corrupt DICOM header: {walks[name].reason}")
            yield name, header
        if progress is not None:
            progress(min(start + BATCH, total), total)


def _from_scanner(scanner: gdcm.Scanner, name: str) -> FileHeader | None:
    """A header from scanned values, or None when the file needs pydicom (multi-frame, odd values)."""
    tags = {key: scanner.GetValue(name, tag) for key, tag in _GDCM_TAGS.items()}
    syntax = _str(tags["TransferSyntaxUID"])
    if (
        not syntax
        or tags["SharedFunctionalGroupsSequence"] is not None
        or tags["PerFrameFunctionalGroupsSequence"] is not None
    ):
        return None
    try:
        frames = _int(tags["NumberOfFrames"], 1)
        rows, columns = _int(tags["Rows"], 0), _int(tags["Columns"], 0)
        bits_allocated = _int(tags["BitsAllocated"], 0)
        padding = _int(tags["PixelPaddingValue"], None)
        padding_limit = _int(tags["PixelPaddingRangeLimit"], None)
        samples = _int(tags["SamplesPerPixel"], 1)
        signed = _int(tags["PixelRepresentation"], 0) == 1
        bits_stored = _int(tags["BitsStored"], 0) or bits_allocated
        high_bit = _int(tags["HighBit"], None)
        instance = _int(tags["InstanceNumber"], None)
    except ValueError:
        return None  # let pydicom report the invalid value
    if frames != 1 or rows <= 0 or columns <= 0:
        return None  # multi-frame geometry, or not an image: pydicom decides
    if rows * columns * max(1, bits_allocated // 8) * max(1, samples) > limits.MAX_COMPRESSION_RATIO * os.path.getsize(
        name
    ):
        return None  # more pixels than the file can hold, compressed or not: pydicom's header check says so
    slope = _float(tags["RescaleSlope"], finite_only=False)  # NaN/inf kept: the loader refuses them by name
    intercept = _float(tags["RescaleIntercept"], finite_only=False)
    sop_class = _str(tags["SOPClassUID"]) or _str(tags["MediaStorageSOPClassUID"])
    frame = FrameRef(
        path=name,
        frame=0,
        position=_floats(tags["ImagePositionPatient"], 3),
        orientation=_floats(tags["ImageOrientationPatient"], 6),
        pixel_spacing=_floats(tags["PixelSpacing"], 2),
        slice_thickness=_float(tags["SliceThickness"]),
        slope=slope or 1.0,
        intercept=intercept or 0.0,
        instance_number=instance,
        sop_instance_uid=_str(tags["SOPInstanceUID"]),
    )
    return FileHeader(
        path=name,
        _dataset=None,
        transfer_syntax=syntax,
        has_file_meta=True,
        sop_class_uid=sop_class,
        series_uid=_str(tags["SeriesInstanceUID"]),
        modality=_str(tags["Modality"]),
        rows=rows,
        columns=columns,
        n_frames=1,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        high_bit=high_bit,
        signed=signed,
        samples_per_pixel=samples,
        photometric=_str(tags["PhotometricInterpretation"]).upper(),
        pixel_tag="PixelData",
        pixel_offset=None,
        has_rescale=tags["RescaleSlope"] is not None or tags["RescaleIntercept"] is not None,
        has_modality_lut=tags["ModalityLUTSequence"] is not None,
        padding_value=padding,
        padding_limit=padding_limit,
        frames=(frame,),
        series_description=_str(tags["SeriesDescription"]),
        series_number=_str(tags["SeriesNumber"]),
        image_type=tuple(v.strip() for v in _str(tags["ImageType"]).split("\\") if v.strip()),
    )


def _str(value: str | None) -> str:
    return value.strip(" \x00") if value else ""


@overload
def _int(value: str | None, default: int) -> int: ...
@overload
def _int(value: str | None, default: None) -> int | None: ...
def _int(value: str | None, default: int | None) -> int | None:
    text = _str(value)
    return default if not text else int(text.split("\\")[0])


def _float(value: str | None, finite_only: bool = True) -> float | None:
    text = _str(value)
    if not text:
        return None
    try:
        result = float(text.split("\\")[0])
    except ValueError:
        return None
    return result if math.isfinite(result) or not finite_only else None


@overload
def _floats(value: str | None, count: Literal[2]) -> tuple[float, float] | None: ...
@overload
def _floats(value: str | None, count: Literal[3]) -> tuple[float, float, float] | None: ...
@overload
def _floats(value: str | None, count: int) -> tuple[float, ...] | None: ...
def _floats(value: str | None, count: int) -> tuple[float, ...] | None:
    text = _str(value)
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split("\\"))
    except ValueError:
        return None
    return values if len(values) == count else None  # non-finite kept: geometry refuses them by name


#: Attributes the report and the session need, read from the first file of a series.
META_TAGS: dict[str, tuple[int, int]] = {
    "SpecificCharacterSet": (0x0008, 0x0005),
    "StudyDate": (0x0008, 0x0020),
    "AccessionNumber": (0x0008, 0x0050),
    "Manufacturer": (0x0008, 0x0070),
    "InstitutionName": (0x0008, 0x0080),
    "ManufacturerModelName": (0x0008, 0x1090),
    "PatientName": (0x0010, 0x0010),
    "PatientID": (0x0010, 0x0020),
    "PatientBirthDate": (0x0010, 0x0030),
    "PatientSex": (0x0010, 0x0040),
    "KVP": (0x0018, 0x0060),
    "XRayTubeCurrent": (0x0018, 0x1151),
    "StudyInstanceUID": (0x0020, 0x000D),
    "StudyID": (0x0020, 0x0010),
    "FrameOfReferenceUID": (0x0020, 0x0052),
    "RescaleType": (0x0028, 0x1054),
}
#: Where an Enhanced CT keeps kVp and tube current (Shared Functional Groups).
_ENHANCED_META = {
    "KVP": ("CTXRayDetailsSequence", "KVP"),
    "XRayTubeCurrent": ("CTExposureSequence", "XRayTubeCurrentInmA"),
    "RescaleType": ("PixelValueTransformationSequence", "RescaleType"),
}


def read_meta(header: FileHeader) -> dict[str, str]:
    """The :data:`META_TAGS` of ``header``'s file as text ("" when absent).

    GDCM's values are taken when they are plain ASCII (the same bytes in every single-byte
    character set); names in other character sets (accents, ISO 2022 Japanese) are decoded
    by pydicom, which honours SpecificCharacterSet (0008,0005).
    """
    if header._dataset is None:
        scanner = gdcm.Scanner()
        tags = {key: gdcm.Tag(*tag) for key, tag in META_TAGS.items()}
        for tag in tags.values():
            scanner.AddTag(tag)
        scanner.Scan([header.path])
        try:
            values = {key: _str(scanner.GetValue(header.path, tag)) for key, tag in tags.items()}
        except (UnicodeDecodeError, TypeError):
            values = None
        if values is not None and all(v.isascii() and "\x1b" not in v for v in values.values()):
            return values
    return _meta_from_dataset(header.dataset)


def _meta_from_dataset(ds: Dataset) -> dict[str, str]:
    values = {key: _text(_get(ds, key)) for key in META_TAGS}
    shared = _get(ds, "SharedFunctionalGroupsSequence")
    for key, (sequence, keyword) in _ENHANCED_META.items():
        if not values[key] and shared:
            items = _get(shared[0], sequence)
            if items:
                values[key] = _text(_get(items[0], keyword))
    return values


def _get(ds: Dataset, key: str) -> Any:
    """``ds.get(key)``, or None when pydicom cannot convert the stored value (unknown VR, bad text):
    a descriptive attribute that cannot be read is treated as absent."""
    try:
        return ds.get(key)
    except Exception:  # noqa: BLE001 - pydicom raises many types for an unconvertible value: treated as absent
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, AbcSequence) and not isinstance(value, (str, bytes)):  # MultiValue, not PersonName
        return "\\".join(str(v).strip() for v in value)
    return str(value).strip()
