"""Read one DICOM file's header into the few facts that discovery and loading need.

Series discovery opens every file of a folder, so this is the hot path of a load: it reads
the header only (``stop_before_pixels``), records where the pixel data element starts (so
uncompressed slices can later be read straight into the volume array without parsing the
header again), and turns the classic and the Enhanced (multi-frame, functional groups)
layouts into the same per-frame records (:class:`FrameRef`).

Units: positions and spacings in mm, patient LPS as DICOM defines them.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from collections.abc import Sequence as AbcSequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # pydicom is imported on first use: the native fast path never needs it
    from pydicom.dataset import Dataset

from cbct_osteo.io import limits
from cbct_osteo.io.errors import LoadError, describe
from cbct_osteo.io.header_walk import count_fragments

ImplicitVRLittleEndian = "1.2.840.10008.1.2"
ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
ExplicitVRBigEndian = "1.2.840.10008.1.2.2"
#: Transfer syntaxes whose pixel data we read with a plain seek + read (little endian, native).
NATIVE_LITTLE_ENDIAN: frozenset[str] = frozenset({ImplicitVRLittleEndian, ExplicitVRLittleEndian})

#: Tags with the pixel data itself; ``stop_before_pixels`` stops at the first of them.
_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData"}

#: Media Storage Directory (DICOMDIR): an index of other files, never an image.
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class FrameRef:
    """One 2D image (a single-frame file, or one frame of a multi-frame file).

    Attributes
    ----------
    path
        The file holding the frame.
    frame
        0-based frame index inside the file (0 for single-frame files).
    position
        ImagePositionPatient (0020,0032): LPS mm of the centre of the first pixel, or None.
    orientation
        ImageOrientationPatient (0020,0037): row direction then column direction (6 floats), or None.
    pixel_spacing
        PixelSpacing (0028,0030): (between rows, between columns) = (y, x) in mm, or None.
    slice_thickness
        SliceThickness (0018,0050) in mm, or None.
    slope, intercept
        RescaleSlope (0028,1053) / RescaleIntercept (0028,1052); 1 and 0 when absent.
    instance_number
        InstanceNumber (0020,0013), only a fallback order when positions are missing.
    """

    path: str
    frame: int
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    slope: float
    intercept: float
    instance_number: int | None
    sop_instance_uid: str = ""


@dataclass
class FileHeader:
    """The header of one DICOM file (no pixel values), with the facts decoding needs.

    ``pixel_offset`` is the byte offset of the pixel data element's tag when known (native
    little-endian syntaxes read by pydicom). Headers from the GDCM scanner leave it None: the
    pixel data of a classic uncompressed file is then found, and verified, at the end of the
    file (:mod:`cbct_osteo.io.pixels`). ``dataset`` (the whole header as a pydicom Dataset)
    is read lazily, since only the first file of a series is ever asked for it.
    """

    path: str
    _dataset: Dataset | None = field(repr=False)
    transfer_syntax: str
    has_file_meta: bool
    sop_class_uid: str
    series_uid: str
    modality: str
    rows: int
    columns: int
    n_frames: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    samples_per_pixel: int
    photometric: str
    pixel_tag: str | None
    pixel_offset: int | None
    has_rescale: bool
    has_modality_lut: bool
    padding_value: int | None
    padding_limit: int | None
    frames: tuple[FrameRef, ...] = ()
    high_bit: int | None = None
    series_description: str = ""
    series_number: str = ""
    image_type: tuple[str, ...] = ()

    @property
    def dataset(self) -> Dataset:
        """The header as a pydicom Dataset (pixels not read), parsed on first use."""
        dataset = self._dataset
        if dataset is None:
            dataset = self._dataset = read_header(self.path).dataset  # read_header always holds its Dataset
        return dataset


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's per-value warnings (invalid VR lengths, odd UIDs) in a block.

    Exported files are full of harmless oddities; what matters is reported as problems or a
    LoadError. Used on the calling thread around whole discovery/load runs (warning filters
    are process-wide, so worker threads are covered too).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def read_header(path: str | os.PathLike[str]) -> FileHeader:
    """Read the header of ``path`` (never its pixel values).

    Raises
    ------
    LoadError
        When the file is not DICOM, is truncated inside the header, or holds values that
        cannot be parsed (e.g. NumberOfFrames '1A'). The message names the file.
    """
    from pydicom import dcmread

    name = str(path)
    try:
        with open(name, "rb") as handle:
            head = handle.read(132)
            has_preamble = len(head) == 132 and head[128:132] == b"DICM"
            if not has_preamble and not _looks_like_bare_dataset(head):
                raise LoadError(name, "not a DICOM file (no 'DICM' marker and no DICOM tags at the start)")
            handle.seek(0)
            size = os.fstat(handle.fileno()).st_size
            dataset = dcmread(handle, stop_before_pixels=True, force=not has_preamble, defer_size="4 MB")
            offset = handle.tell()
            element_start = handle.read(4)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(name, f"cannot read the file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pydicom raises many types on broken headers
        raise LoadError(name, f"unreadable DICOM header: {describe(exc)}") from exc
    try:
        return _header_from_dataset(name, dataset, offset, element_start, size)
    except LoadError:
        raise
    except Exception as exc:  # invalid values surface only when accessed
        raise LoadError(name, f"invalid DICOM header value: {describe(exc)}") from exc


def _looks_like_bare_dataset(head: bytes) -> bool:
    """True when a file without preamble starts with a group 0002/0008 tag, as bare datasets do."""
    if len(head) < 8:
        return False
    group_le = int.from_bytes(head[0:2], "little")
    group_be = int.from_bytes(head[0:2], "big")
    return group_le in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


def _transfer_syntax(dataset: Dataset) -> tuple[str, bool]:
    """(TransferSyntaxUID, had a file meta with it); guessed from the encoding when absent."""
    meta = getattr(dataset, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid:
        return str(uid), True
    implicit, little = dataset.original_encoding
    if little:
        return (ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian), False
    return ExplicitVRBigEndian, False


def _header_from_dataset(name: str, ds: Dataset, offset: int, element_start: bytes, size: int) -> FileHeader:
    syntax, has_meta = _transfer_syntax(ds)
    pixel_tag = None
    if len(element_start) == 4:
        little = syntax != ExplicitVRBigEndian
        group = int.from_bytes(element_start[0:2], "little" if little else "big")
        elem = int.from_bytes(element_start[2:4], "little" if little else "big")
        pixel_tag = _PIXEL_TAGS.get((group << 16) | elem)
    if pixel_tag is None and syntax == DeflatedExplicitVRLittleEndian and "Rows" in ds:
        pixel_tag = "PixelData"  # the inflated stream's offsets are not file offsets; decoding will tell
    n_frames = _int(ds.get("NumberOfFrames"), 1)
    if n_frames < 1:
        raise LoadError(name, f"NumberOfFrames (0028,0008) is {n_frames}")
    header = FileHeader(
        path=name,
        _dataset=ds,
        transfer_syntax=syntax,
        has_file_meta=has_meta,
        sop_class_uid=str(
            ds.get("SOPClassUID", "") or (ds.file_meta.get("MediaStorageSOPClassUID", "") if has_meta else "")
        ),
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        modality=str(ds.get("Modality", "") or ""),
        rows=_int(ds.get("Rows"), 0),
        columns=_int(ds.get("Columns"), 0),
        n_frames=n_frames,
        bits_allocated=_int(ds.get("BitsAllocated"), 0),
        bits_stored=_int(ds.get("BitsStored"), 0) or _int(ds.get("BitsAllocated"), 0),
        high_bit=_int(ds.get("HighBit"), None),
        signed=_int(ds.get("PixelRepresentation"), 0) == 1,
        samples_per_pixel=_int(ds.get("SamplesPerPixel"), 1),
        photometric=str(ds.get("PhotometricInterpretation", "") or "").strip().upper(),
        pixel_tag=pixel_tag,
        pixel_offset=offset if (pixel_tag and syntax in NATIVE_LITTLE_ENDIAN) else None,
        has_rescale=_has_rescale(ds),
        has_modality_lut="ModalityLUTSequence" in ds,
        padding_value=_int(ds.get("PixelPaddingValue"), None),
        padding_limit=_int(ds.get("PixelPaddingRangeLimit"), None),
        series_description=_text(ds.get("SeriesDescription")),
        series_number=_text(ds.get("SeriesNumber")),
        image_type=tuple(str(v).strip() for v in _as_list(ds.get("ImageType"))),  # CS: padding is not part of the value
    )
    if header.pixel_tag is not None:
        deflated = syntax == DeflatedExplicitVRLittleEndian
        encapsulated = not deflated and syntax not in NATIVE_LITTLE_ENDIAN and syntax != ExplicitVRBigEndian
        fragments = count_fragments(name, offset) if encapsulated else None
        check_counts(header, None if deflated else size - offset, size, fragments)
    header.frames = tuple(_frames(name, ds, n_frames))
    return header


def check_counts(header: FileHeader, pixel_bytes: int | None, file_bytes: int, fragments: int | None = None) -> None:
    """Refuse counts the file cannot hold, before any per-frame record is built or memory reserved.

    ``pixel_bytes`` is what the file holds from the pixel data element to its end (None when
    unknown, as in a deflated file, whose whole ``file_bytes`` may then inflate at most
    :data:`~cbct_osteo.io.limits.MAX_COMPRESSION_RATIO` times). Uncompressed frames must fit it
    (a single frame may be truncated: decoding reports that precisely); each compressed frame
    needs at least one fragment item (8-byte header plus data), and when ``fragments`` (the
    fragment items counted in the file, :func:`~cbct_osteo.io.header_walk.count_fragments`) is
    known, there are at least as many as frames; encapsulated data has no ratio bound.
    """
    if header.n_frames > limits.MAX_FRAMES_PER_FILE:
        raise LoadError(
            header.path,
            f"NumberOfFrames (0028,0008) is {header.n_frames}, more than the "
            f"{limits.MAX_FRAMES_PER_FILE} any CT or CBCT file holds",
        )
    for label, value in (("Rows (0028,0010)", header.rows), ("Columns (0028,0011)", header.columns)):
        if value > limits.MAX_IMAGE_SIDE:
            raise LoadError(
                header.path,
                f"{label} is {value}, more than the {limits.MAX_IMAGE_SIDE} pixels any CT or CBCT image has",
            )
    if header.rows <= 0 or header.columns <= 0:
        return
    frame_bytes = header.rows * header.columns * max(1, header.samples_per_pixel) * max(1, header.bits_allocated // 8)
    what = f"{header.n_frames} frame(s) of {header.rows}x{header.columns}x{header.bits_allocated} bits"
    if pixel_bytes is None:
        if frame_bytes * header.n_frames > limits.MAX_COMPRESSION_RATIO * file_bytes:
            raise LoadError(
                header.path,
                f"{what} ({frame_bytes * header.n_frames} bytes) from a deflated file of "
                f"{file_bytes} bytes is more than {limits.MAX_COMPRESSION_RATIO} x compression: "
                "the header is corrupt",
            )
        return
    if header.transfer_syntax in NATIVE_LITTLE_ENDIAN or header.transfer_syntax == ExplicitVRBigEndian:
        # A slightly short single frame is a truncated file: decoding names it precisely. More
        # than twice what the file holds is a corrupt header: refused before anything is allocated.
        allowed = pixel_bytes if header.n_frames > 1 else 2 * pixel_bytes + 65536
        if frame_bytes * header.n_frames > allowed:
            count = f"NumberOfFrames (0028,0008) is {header.n_frames}: " if header.n_frames > 1 else ""
            raise LoadError(
                header.path,
                f"{count}{what} need {frame_bytes * header.n_frames} bytes, the pixel "
                f"data holds at most {pixel_bytes}: the file is truncated or its header is corrupt",
            )
        return
    if header.n_frames > pixel_bytes // 10:
        raise LoadError(
            header.path,
            f"NumberOfFrames (0028,0008) is {header.n_frames} but the compressed pixel "
            f"data ({pixel_bytes} bytes) cannot hold that many frames (at least one fragment each): "
            "the file is truncated or its header is corrupt",
        )
    if fragments is not None and header.n_frames > max(1, fragments):
        raise LoadError(
            header.path,
            f"NumberOfFrames (0028,0008) is {header.n_frames} but the compressed pixel data holds "
            f"{fragments} fragment(s) (each frame needs at least one): the header is corrupt",
        )
    # No ratio bound on encapsulated data: a near-uniform frame (a blank slice outside the field of
    # view) compresses by thousands in JPEG 2000 (pydicom's JPEG2000.dcm: 524,288 bytes from 266).
    # What it may allocate is bounded by MAX_VOLUME_BYTES when the stack is sized.


def _has_rescale(ds: Dataset) -> bool:
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return True
    shared = _first(ds.get("SharedFunctionalGroupsSequence"))
    per = _first(ds.get("PerFrameFunctionalGroupsSequence"))
    return any(g is not None and "PixelValueTransformationSequence" in g for g in (shared, per))


def _frames(name: str, ds: Dataset, n_frames: int) -> list[FrameRef]:
    """One :class:`FrameRef` per frame, looking per-frame, then shared functional groups, then top level."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared = _first(ds.get("SharedFunctionalGroupsSequence"))
    top_position = _floats(ds.get("ImagePositionPatient"), 3)
    top_orientation = _floats(ds.get("ImageOrientationPatient"), 6)
    offsets = _frame_offsets(ds, n_frames)
    sop_uid = str(ds.get("SOPInstanceUID", "") or "")
    instance = _int(ds.get("InstanceNumber"), None)
    frames = []
    for index in range(n_frames):
        groups = per_frame[index] if per_frame is not None and index < len(per_frame) else None
        plane_pos = _group_item(groups, shared, "PlanePositionSequence")
        plane_ori = _group_item(groups, shared, "PlaneOrientationSequence")
        measures = _group_item(groups, shared, "PixelMeasuresSequence")
        transform = _group_item(groups, shared, "PixelValueTransformationSequence")
        position = _floats(plane_pos.get("ImagePositionPatient"), 3) if plane_pos is not None else None
        orientation = _floats(plane_ori.get("ImageOrientationPatient"), 6) if plane_ori is not None else None
        orientation = orientation or top_orientation
        if position is None and top_position is not None:
            position = top_position
            if offsets is not None and orientation is not None:
                normal = _cross(orientation[:3], orientation[3:])
                step = offsets[index]
                position = (
                    top_position[0] + step * normal[0],
                    top_position[1] + step * normal[1],
                    top_position[2] + step * normal[2],
                )
        source = measures if measures is not None and "PixelSpacing" in measures else ds
        spacing = _floats(source.get("PixelSpacing"), 2)
        thickness_src = measures if measures is not None and "SliceThickness" in measures else ds
        rescale = transform if transform is not None else ds
        frames.append(
            FrameRef(
                path=name,
                frame=index,
                position=position,
                orientation=orientation,
                pixel_spacing=spacing,
                slice_thickness=_float(thickness_src.get("SliceThickness")),
                # absent or an invalid 0 -> identity; NaN/inf kept for the loader to refuse by name
                slope=_float(rescale.get("RescaleSlope"), finite_only=False) or 1.0,
                intercept=_float(rescale.get("RescaleIntercept"), finite_only=False) or 0.0,
                instance_number=instance,
                sop_instance_uid=sop_uid,
            )
        )
    return frames


def _frame_offsets(ds: Dataset, n_frames: int) -> list[float] | None:
    """Per-frame offsets along the normal for multi-frame files without functional groups.

    RT Dose gives GridFrameOffsetVector (3004,000C); NM and old multi-frame CT give a constant
    SpacingBetweenSlices (0018,0088).
    """
    if n_frames < 2 or "PerFrameFunctionalGroupsSequence" in ds:
        return None
    grid = _floats(ds.get("GridFrameOffsetVector"), n_frames)
    if grid is not None:
        return list(grid)
    step = _float(ds.get("SpacingBetweenSlices"))
    if step:
        return [k * step for k in range(n_frames)]
    return None


def _group_item(per: Dataset | None, shared: Dataset | None, keyword: str) -> Dataset | None:
    for groups in (per, shared):
        if groups is not None and keyword in groups:
            item = _first(groups[keyword].value)
            if item is not None:
                return item
    return None


def _first(sequence: Any) -> Dataset | None:
    try:
        return sequence[0] if sequence is not None and len(sequence) > 0 else None
    except (TypeError, IndexError):
        return None


def _cross(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


@overload
def _floats(value: Any, count: Literal[2]) -> tuple[float, float] | None: ...
@overload
def _floats(value: Any, count: Literal[3]) -> tuple[float, float, float] | None: ...
@overload
def _floats(value: Any, count: int) -> tuple[float, ...] | None: ...
def _floats(value: Any, count: int) -> tuple[float, ...] | None:
    """A multi-valued DS as floats, or None when absent, short or unparsable.

    Non-finite values (NaN, inf) are kept: geometry refuses them by name rather than treating
    the attribute as absent.
    """
    if value is None or value == "":
        return None
    try:
        values = tuple(float(v) for v in value) if not isinstance(value, (str, bytes, float, int)) else (float(value),)
    except (TypeError, ValueError):
        return None
    if len(values) != count:
        return None
    return values


def _float(value: Any, finite_only: bool = True) -> float | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, (str, bytes, float, int)) and hasattr(value, "__len__"):
            value = value[0]
        result = float(value)
    except (TypeError, ValueError, IndexError):
        return None
    return result if math.isfinite(result) or not finite_only else None


@overload
def _int(value: Any, default: int) -> int: ...
@overload
def _int(value: Any, default: None) -> int | None: ...
def _int(value: Any, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    try:
        if not isinstance(value, (str, bytes, float, int)) and hasattr(value, "__len__"):
            value = value[0]
        return int(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"expected an integer, found {value!r}") from exc


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, AbcSequence):  # MultiValue only, not PersonName
        return [value]
    return list(value)


def _text(value: Any) -> str:
    """A (possibly multi-valued) attribute as one string, backslash-separated as in DICOM."""
    return "\\".join(str(v).strip() for v in _as_list(value))
