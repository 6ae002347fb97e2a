"""Decode the frames of one DICOM file straight into slices of a preallocated volume array.

Two ways in:

* **native** (Implicit/Explicit VR Little Endian, uncompressed): seek to the pixel data
  element recorded by :func:`~cbct_osteo.io.dicom_header.read_header` and ``readinto`` the
  output slice. No header parsing, no intermediate copy; the read releases the GIL, so
  threads overlap.
* **pydicom** (every other transfer syntax: JPEG baseline/extended/lossless, JPEG-LS,
  JPEG 2000, RLE, deflate, big endian): read the file and decode each frame with
  :func:`pydicom.pixels.pixel_array`, one plugin at a time: the trusted ones in-process
  (:data:`IN_PROCESS_PLUGINS`), then GDCM in a guarded child process, since it can abort the
  process. A syntax no plugin handles, or corrupt data, becomes a :class:`LoadError` naming
  the file, the transfer syntax and each decoder's reason.

Both return *stored* values (0028,0101 BitsStored honoured: sign-extended or masked);
the modality rescale is applied by :mod:`cbct_osteo.io.values`.
"""

from __future__ import annotations

import struct
import warnings
from typing import BinaryIO

import numpy as np

from cbct_osteo.io.dicom_header import NATIVE_LITTLE_ENDIAN, ExplicitVRLittleEndian, FileHeader
from cbct_osteo.io.errors import LoadError, describe, is_native_panic
from cbct_osteo.io.guarded import run_guarded

#: Explicit VRs whose element header has a 4-byte length after 2 reserved bytes.
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN", b"UT", b"SQ"}
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"


def stored_dtype(header: FileHeader) -> np.dtype:
    """numpy dtype of the stored values: BitsAllocated (0028,0100) and PixelRepresentation (0028,0103)."""
    if header.bits_allocated not in (8, 16, 32):
        raise LoadError(header.path, f"BitsAllocated {header.bits_allocated} is not supported (expected 8, 16 or 32)")
    kind = "i" if header.signed else "u"
    return np.dtype(f"{kind}{header.bits_allocated // 8}")


def syntax_name(uid: str) -> str:
    """Transfer syntax as 'Name (UID)', for messages."""
    from pydicom.uid import UID

    name = UID(uid).name if uid else "unknown"
    return f"{name} ({uid})" if name != uid else uid


def decode_frames(header: FileHeader, frames: list[int], out: list[np.ndarray]) -> None:
    """Write the stored values of ``frames`` (0-based) of ``header``'s file into the 2D arrays ``out``.

    Each ``out[i]`` must be a C-contiguous (Rows, Columns) array of :func:`stored_dtype`.

    Raises
    ------
    LoadError
        Truncated pixel data, a frame of the wrong size, or a transfer syntax no installed
        decoder handles (the message names the file and the syntax).
    """
    native = header.transfer_syntax in NATIVE_LITTLE_ENDIAN and header.samples_per_pixel == 1
    if not (native and _read_native(header, frames, out)):
        _decode_with_pydicom(header, frames, out)
        native = False
    # High Bit places the stored bits inside each word; only uncompressed data can have them
    # anywhere but at the bottom (a compressed stream codes the value itself).
    high_bit = header.high_bit if native else None
    for array in out:
        fix_bits_stored(array, header.bits_stored, high_bit)


def fix_bits_stored(array: np.ndarray, bits_stored: int, high_bit: int | None = None) -> None:
    """In place: keep the Bits Stored (0028,0101) bits that end at High Bit (0028,0102), as a value.

    Bits outside them may hold overlays or garbage; DICOM says to ignore them. The value is
    sign-extended (signed) or zero-extended (unsigned). ``high_bit`` None, or not a valid position,
    means the usual Bits Stored - 1. Idempotent for the usual layout, so it is safe after a decoder
    that already did it.
    """
    bits = array.dtype.itemsize * 8
    if high_bit is None or not bits_stored - 1 <= high_bit < bits:
        high_bit = bits_stored - 1
    if not 0 < bits_stored < bits:
        return
    top = array.dtype.type(bits - 1 - high_bit)
    shift = array.dtype.type(bits - bits_stored)
    if array.dtype.kind == "i":  # High Bit to the sign position, then an arithmetic shift down
        if top:
            np.left_shift(array, top, out=array)
        np.right_shift(array, shift, out=array)
    elif high_bit == bits_stored - 1:
        np.bitwise_and(array, array.dtype.type((1 << bits_stored) - 1), out=array)
    else:
        np.right_shift(array, array.dtype.type(high_bit + 1 - bits_stored), out=array)
        np.bitwise_and(array, array.dtype.type((1 << bits_stored) - 1), out=array)


def _read_native(header: FileHeader, frames: list[int], out: list[np.ndarray]) -> bool:
    """Read uncompressed frames directly; False when the pixel data is not plain native data.

    The pixel data element starts at ``header.pixel_offset`` when pydicom found it; for a
    scanned header it is looked for where a classic file has it, as the file's last element,
    and accepted only if its tag and length say so; otherwise pydicom locates it.
    """
    frame_bytes = header.rows * header.columns * (header.bits_allocated // 8)
    needed = frame_bytes * header.n_frames
    try:
        with open(header.path, "rb") as handle:
            start = _tail_start(handle, header, needed) if header.pixel_offset is None else None
            if start is None:
                offset = header.pixel_offset if header.pixel_offset is not None else _offset_by_pydicom(header)
                if offset is None:
                    return False
                start = _element_start(handle, header, offset, needed)
                if start is None:
                    return False
            for frame, array in zip(frames, out, strict=True):
                handle.seek(start + frame * frame_bytes)
                got = handle.readinto(array.data.cast("B"))
                if got != frame_bytes:
                    raise LoadError(
                        header.path, f"the file is truncated: frame {frame + 1} has {got or 0} of {frame_bytes} bytes"
                    )
    except OSError as exc:
        raise LoadError(header.path, f"cannot read the pixel data: {exc.strerror or exc}") from exc
    return True


def _tail_start(handle: BinaryIO, header: FileHeader, needed: int) -> int | None:
    """Start of the pixel values if the file ends with a (7FE0,0010) element of exactly ``needed`` bytes."""
    size = handle.seek(0, 2)
    explicit = header.transfer_syntax == ExplicitVRLittleEndian
    element = size - needed - (12 if explicit else 8)
    if element < 0:
        return None
    handle.seek(element)
    head = handle.read(12 if explicit else 8)
    if head[:4] != _PIXEL_DATA_TAG:
        return None
    if explicit and (head[4:6] not in (b"OW", b"OB") or struct.unpack("<I", head[8:12])[0] != needed):
        return None
    if not explicit and struct.unpack("<I", head[4:8])[0] != needed:
        return None
    return size - needed


def _offset_by_pydicom(header: FileHeader) -> int | None:
    from cbct_osteo.io.dicom_header import read_header

    found = read_header(header.path)
    if found.pixel_tag is None:
        raise LoadError(header.path, "the file has no pixel data")
    return found.pixel_offset


def _element_start(handle: BinaryIO, header: FileHeader, offset: int, needed: int) -> int | None:
    """Start of the pixel values of the element whose tag is at ``offset``; checks its length."""
    handle.seek(offset)
    element = handle.read(12)
    if len(element) < 8:
        raise LoadError(header.path, "the file ends where the pixel data should start (truncated)")
    if header.transfer_syntax == ExplicitVRLittleEndian and element[4:6] in _LONG_VRS:
        (length,), start = struct.unpack("<I", element[8:12]), offset + 12
    elif header.transfer_syntax == ExplicitVRLittleEndian:
        (length,), start = struct.unpack("<H", element[6:8]), offset + 8
    else:
        (length,), start = struct.unpack("<I", element[4:8]), offset + 8
    if length == 0xFFFFFFFF:
        return None  # encapsulated despite a native syntax: let pydicom try
    if length < needed:
        raise LoadError(
            header.path,
            f"pixel data holds {length} bytes but {header.n_frames} frame(s) of "
            f"{header.rows}x{header.columns}x{header.bits_allocated} bits need {needed}",
        )
    return start


#: pydicom decoding plugins trusted in-process, in the order tried: they raise Python exceptions
#: (or, for pylibjpeg-rle, a pyo3 panic, caught precisely) on bad data. GDCM is not among them:
#: it aborts the process on some inputs, so it runs only in a guarded child (:mod:`~cbct_osteo.io.guarded`).
IN_PROCESS_PLUGINS = ("pylibjpeg", "pydicom", "pyjpegls", "pillow")
GUARDED_PLUGINS = ("gdcm",)


def _decode_with_pydicom(header: FileHeader, frames: list[int], out: list[np.ndarray]) -> None:
    """Decode with the first plugin that succeeds: trusted ones in-process, then GDCM in a guarded child."""
    from pydicom.pixels.decoders.base import get_decoder

    syntax = syntax_name(header.transfer_syntax)
    try:
        available = get_decoder(header.transfer_syntax).available_plugins
    except NotImplementedError:
        available = ()
    except Exception as exc:
        raise LoadError(
            header.path, f"cannot decode the pixel data, transfer syntax {syntax}: {describe(exc)}"
        ) from exc
    trusted = [p for p in IN_PROCESS_PLUGINS if p in available] or ([""] if not available else [])
    guarded = [p for p in GUARDED_PLUGINS if p in available]
    reasons: list[str] = []
    for plugin in trusted:
        try:
            decoded = decode_file_frames(header.path, header.transfer_syntax, header.has_file_meta, frames, plugin)
        except LoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - decoders raise NotImplementedError, RuntimeError, ValueError, ...
            reasons.append(f"{plugin or 'pydicom'}: {_decoder_detail(exc)}")
            continue
        except BaseException as exc:
            if not is_native_panic(exc):
                raise
            reasons.append(f"{plugin}: the decoder panicked ({describe(exc)})")
            continue
        _copy_frames(header, frames, decoded, out, syntax)
        return
    for plugin in guarded:
        try:
            decoded = run_guarded(
                decode_file_frames,
                (header.path, header.transfer_syntax, header.has_file_meta, frames, plugin),
                header.path,
                f"the {plugin.upper()} decoder ({syntax})",
            )
        except LoadError as exc:
            reasons.append(f"{plugin}: {exc.problem}")
            continue
        _copy_frames(header, frames, decoded, out, syntax)
        return
    detail = "; ".join(reasons) if reasons else "no installed decoder supports it"
    raise LoadError(header.path, f"cannot decode the pixel data, transfer syntax {syntax}: {detail}")


def decode_file_frames(
    path: str, transfer_syntax: str, has_file_meta: bool, frames: list[int], plugin: str
) -> list[np.ndarray]:
    """Decode ``frames`` of one file with one pydicom plugin ("" = pydicom's choice).

    Module level so a guarded child can run it.
    """
    from pydicom import dcmread
    from pydicom.dataset import FileMetaDataset
    from pydicom.pixels.utils import pixel_array
    from pydicom.uid import UID

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = dcmread(path, force=True, defer_size="4 MB")
        if not has_file_meta:
            if getattr(dataset, "file_meta", None) is None:
                dataset.file_meta = FileMetaDataset()
            dataset.file_meta.TransferSyntaxUID = UID(transfer_syntax)
        return [pixel_array(dataset, index=frame, decoding_plugin=plugin) for frame in frames]


def _copy_frames(
    header: FileHeader, frames: list[int], decoded: list[np.ndarray], out: list[np.ndarray], syntax: str
) -> None:
    for frame, array, values in zip(frames, out, decoded, strict=True):
        if values.shape != array.shape:
            raise LoadError(
                header.path, f"frame {frame + 1} decoded to {values.shape}, expected {array.shape} ({syntax})"
            )
        np.copyto(array, values, casting="unsafe")


def _decoder_detail(exc: BaseException) -> str:
    """The informative part of a decoder failure, on one line.

    pydicom wraps every plugin's failure under a header line ("Unable to decode as exceptions were
    raised by all available plugins:"); the user needs the plugins' own reasons that follow it.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0].rstrip(':')}: " + "; ".join(lines[1:4])
    return lines[0]
