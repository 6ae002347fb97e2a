"""From stored pixel values to the values the program measures: the DICOM modality transform.

In order, per slice (DICOM PS3.3 C.7.6.3.1.4, C.11.1, C.7.5.1.1.2):

1. PixelPaddingValue (0028,0120) [.. PixelPaddingRangeLimit (0028,0121)] marks voxels that
   are outside the scanned field (the round CT field of view). They get the volume's minimum
   real value, so they look like background rather than a -2000 ring.
2. MONOCHROME1 images (minimum shown white) are inverted within the stored range, so bone is
   bright in every volume the program shows.
3. RescaleSlope/RescaleIntercept (0028,1053/1052), which may differ per frame, or a Modality
   LUT Sequence (0028,3000).

Memory policy: when every slope and intercept is an integer, values stay integers in an
array of the stored item size (int16 for the usual CT), transformed in place. Integer
arithmetic modulo 2**bits is exact whenever the true result fits the target type, which is
checked on the actual value range before anything is transformed; only when it does not fit
is the volume promoted to int32. Non-integer rescales and LUTs give float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from cbct_osteo.io.dicom_header import FileHeader, FrameRef
from cbct_osteo.io.errors import LoadError

if TYPE_CHECKING:
    from cbct_osteo.io.discovery import SeriesInfo


def is_integral(value: float) -> bool:
    return abs(value - round(value)) < 1e-6


@dataclass
class ValueMapper:
    """The modality transform shared by every slice of a series (rescale may vary per slice).

    Attributes
    ----------
    raw_dtype
        dtype of the stored values (see :func:`cbct_osteo.io.pixels.stored_dtype`).
    padding
        Inclusive range of stored values that are padding, or None.
    monochrome1
        Invert within the stored range before rescaling.
    invert_sum
        raw -> invert_sum - raw maps the stored range onto itself.
    header
        The first file's header (its dataset holds a Modality LUT Sequence, if any).
    """

    raw_dtype: np.dtype
    padding: tuple[int, int] | None
    monochrome1: bool
    invert_sum: int
    header: FileHeader

    @classmethod
    def for_header(cls, header: FileHeader, raw_dtype: np.dtype) -> ValueMapper:
        bits = header.bits_stored
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if header.signed else (0, (1 << bits) - 1)
        padding = None
        if header.padding_value is not None:
            first = _as_stored(header.padding_value, header)
            last = _as_stored(header.padding_limit, header) if header.padding_limit is not None else first
            padding = (min(first, last), max(first, last))
        return cls(raw_dtype, padding, header.photometric == "MONOCHROME1", lo + hi, header)

    @property
    def uses_lut(self) -> bool:
        return self.header.has_modality_lut

    def padding_mask(self, raw: np.ndarray) -> np.ndarray | None:
        """Boolean mask of padding voxels in a stored-value slice, or None when there is no padding."""
        if self.padding is None:
            return None
        lo, hi = self.padding
        mask = raw == lo if lo == hi else (raw >= lo) & (raw <= hi)
        return mask if mask.any() else None

    def raw_stats(self, raw: np.ndarray) -> tuple[int, int] | None:
        """(min, max) of the non-padding stored values of a slice; None when all of it is padding."""
        mask = self.padding_mask(raw)
        values = raw if mask is None else raw[~mask]
        if values.size == 0:
            return None
        return int(values.min()), int(values.max())

    def rescaled_range(self, stats: tuple[int, int], slope: float, intercept: float) -> tuple[float, float]:
        """Range of output values of a slice whose stored (non-padding) values span ``stats``."""
        lo, hi = stats
        if self.monochrome1:
            lo, hi = self.invert_sum - hi, self.invert_sum - lo
        ends = (lo * slope + intercept, hi * slope + intercept)
        return min(ends), max(ends)

    # -- integer path (in place, same item size) -----------------------------------------

    def apply_in_place(self, raw: np.ndarray, out_dtype: np.dtype, slope: float, intercept: float, fill: int) -> None:
        """Transform a stored-value slice in place, reinterpreting its bytes as ``out_dtype``.

        ``out_dtype`` has the item size of ``raw``; the caller has checked the results fit it,
        so wrap-around arithmetic gives exact values.
        """
        mask = self.padding_mask(raw)
        values = raw.view(out_dtype)
        if self.monochrome1:
            np.subtract(_wrap(self.invert_sum, out_dtype), values, out=values)
        if slope != 1:
            np.multiply(values, _wrap(round(slope), out_dtype), out=values)
        if intercept != 0:
            np.add(values, _wrap(round(intercept), out_dtype), out=values)
        if mask is not None:
            values[mask] = fill

    def apply_promoted(self, raw: np.ndarray, out: np.ndarray, slope: float, intercept: float, fill: int) -> None:
        """Transform a stored-value slice into a wider integer slice ``out``."""
        mask = self.padding_mask(raw)
        values = raw.astype(np.int64)
        if self.monochrome1:
            values = self.invert_sum - values
        values = values * round(slope) + round(intercept)
        if mask is not None:
            values[mask] = fill
        out[...] = values

    # -- float path (non-integer rescale, Modality LUT) ----------------------------------

    def apply_float(
        self, raw: np.ndarray, out: np.ndarray, slope: float, intercept: float
    ) -> tuple[float, float] | None:
        """Write float32 values of a stored-value slice into ``out``; padding becomes NaN.

        Returns the (min, max) of the non-padding output values (None if all padding).
        """
        mask = self.padding_mask(raw)
        values = raw
        if self.monochrome1:
            values = self.invert_sum - raw.astype(np.int64)
        if self.uses_lut:
            from pydicom.pixels.processing import apply_modality_lut

            out[...] = apply_modality_lut(values, self.header.dataset)
        else:
            np.multiply(values, np.float32(slope), out=out, casting="unsafe")
            out += np.float32(intercept)
        if mask is not None:
            out[mask] = np.nan
            if mask.all():
                return None
            return float(np.nanmin(out)), float(np.nanmax(out))
        return float(out.min()), float(out.max())


def choose_integer_dtype(raw_dtype: np.dtype, lo: float, hi: float) -> np.dtype:
    """Smallest integer dtype holding [lo, hi], preferring the stored dtype and its item size."""
    same_size: list[np.dtype[Any]] = [
        raw_dtype,
        np.dtype(f"{'u' if raw_dtype.kind == 'i' else 'i'}{raw_dtype.itemsize}"),
    ]
    wider: list[np.dtype[Any]] = [np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)]
    for dtype in same_size + [d for d in wider if d.itemsize > raw_dtype.itemsize]:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return dtype
    return np.dtype(np.int64)


def _wrap(value: int, dtype: np.dtype[Any]) -> np.generic:
    """``value`` modulo 2**bits as a scalar of ``dtype`` (exact for ring arithmetic)."""
    wrapped = np.array(int(value) % (1 << (8 * dtype.itemsize)), dtype=np.uint64).astype(dtype)
    return cast("np.generic", wrapped[()])  # () indexes a 0-d array to its scalar; the stubs say ndarray


def _as_stored(value: int, header: FileHeader) -> int:
    """PixelPaddingValue as a stored value: US/SS ambiguity may leave a negative value unsigned."""
    value = int(value)
    if header.signed and value >= 1 << (header.bits_allocated - 1):
        value -= 1 << header.bits_allocated
    return value


class Mappers:
    """The modality transform of each file: files may differ in Bits Stored and padding."""

    def __init__(self, info: SeriesInfo) -> None:
        self._by_key: dict[tuple[int, bool, int | None, int | None], ValueMapper] = {}
        self._by_path: dict[str, ValueMapper] = {}
        for path, header in info.headers.items():
            key = (header.bits_stored, header.signed, header.padding_value, header.padding_limit)
            if key not in self._by_key:
                self._by_key[key] = ValueMapper.for_header(header, _stored_dtype(header))
            self._by_path[path] = self._by_key[key]
        if info.plan is None or not info.plan.frames:
            raise LoadError(info.uid, "the series has no image to load")
        self.first = self._by_path[info.plan.frames[0].path]

    def __getitem__(self, frame: FrameRef) -> ValueMapper:
        return self._by_path[frame.path]

    @property
    def any_padding(self) -> bool:
        return any(m.padding is not None for m in self._by_key.values())


def _stored_dtype(header: FileHeader) -> np.dtype:
    from cbct_osteo.io.pixels import stored_dtype

    return stored_dtype(header)
