"""Checks the loader makes before it allocates anything: can these slices be stacked, and at what cost.

Each refusal is a :class:`~cbct_osteo.io.errors.LoadError` naming the file and the fault; the
bounds are those of :mod:`~cbct_osteo.io.limits` (the documented resource policy).
"""

from __future__ import annotations

import numpy as np

from cbct_osteo.io import limits
from cbct_osteo.io.dicom_header import FileHeader, FrameRef
from cbct_osteo.io.discovery import SeriesInfo
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.geometry import StackPlan

GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")


def check_pixel_format(info: SeriesInfo, first: FileHeader) -> None:
    """Refuse only what cannot be stacked into one array.

    Slices may differ in Bits Stored / High Bit (each frame is masked or sign-extended with its
    own), in Pixel Representation (the loader then works in float32), in rescale slope and
    intercept and in window: real exports do all of these. They may not differ in size, Bits
    Allocated (the item size of the array) or photometric interpretation (MONOCHROME1 and 2 mean
    opposite gray scales).
    """
    for header in info.headers.values():
        if header.samples_per_pixel != 1 or header.photometric not in GRAYSCALE:
            raise LoadError(
                header.path,
                f"{header.photometric or 'unknown'} image with {header.samples_per_pixel} sample(s) per pixel "
                "is not a grayscale CT image",
            )
        for label, mine, theirs in (
            ("image size (Rows x Columns)", (header.rows, header.columns), (first.rows, first.columns)),
            ("Bits Allocated (0028,0100)", header.bits_allocated, first.bits_allocated),
            ("Photometric Interpretation (0028,0004)", header.photometric, first.photometric),
        ):
            if mine != theirs:
                raise LoadError(
                    header.path,
                    f"{label} is {mine}, but {theirs} in another file of the same series: the slices cannot be stacked",
                )
        if not 0 < header.bits_stored <= header.bits_allocated:
            raise LoadError(
                header.path,
                f"Bits Stored (0028,0101) {header.bits_stored} does not fit Bits Allocated "
                f"(0028,0100) {header.bits_allocated}",
            )


def format_notes(info: SeriesInfo, mixed_signs: bool) -> list[str]:
    """Facts about per-slice pixel formats that loaded fine but a user may want to know."""
    notes = []
    bits = sorted({h.bits_stored for h in info.headers.values()})
    if len(bits) > 1:
        notes.append(f"slices differ in Bits Stored ({', '.join(map(str, bits))}): each was read with its own")
    unusual = sorted(
        {
            (h.high_bit, h.bits_stored)
            for h in info.headers.values()
            if h.high_bit is not None and h.bits_stored - 1 < h.high_bit < h.bits_allocated
        }
    )
    for high_bit, bits_stored in unusual:
        notes.append(
            f"High Bit {high_bit} with Bits Stored {bits_stored}: values read from bits "
            f"{high_bit + 1 - bits_stored}-{high_bit} of each word, as DICOM defines (uncompressed files)"
        )
    if mixed_signs:
        notes.append("slices differ in Pixel Representation (signed and unsigned): values computed in float32")
    return notes


def check_rescale(info: SeriesInfo, plan: StackPlan) -> None:
    """Refuse rescale values no CT has, before they overflow anything (see limits.MAX_ABS_VALUE)."""
    for frame in plan.frames:
        if not (abs(frame.slope) <= limits.MAX_ABS_VALUE and abs(frame.intercept) <= limits.MAX_ABS_VALUE):
            raise LoadError(
                frame.path,
                f"Rescale Slope {frame.slope:g} / Intercept {frame.intercept:g} (0028,1053/1052) are not plausible "
                f"(limit {limits.MAX_ABS_VALUE:g})",
            )


def check_values(frame: FrameRef, lo: float, hi: float) -> None:
    if not (abs(lo) <= limits.MAX_ABS_VALUE and abs(hi) <= limits.MAX_ABS_VALUE):
        raise LoadError(
            frame.path,
            f"Rescale Slope {frame.slope:g} / Intercept {frame.intercept:g} give values up to "
            f"{max(abs(lo), abs(hi)):g}, "
            f"beyond any CT value (limit {limits.MAX_ABS_VALUE:g})",
        )


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_size(info: SeriesInfo, plan: StackPlan, raw_dtype: np.dtype, integral: bool, max_bytes: int | None) -> None:
    first = info.headers[plan.frames[0].path]
    pixels = first.rows * first.columns
    need = len(plan.frames) * pixels * (raw_dtype.itemsize if integral else 4)
    if plan.needs_resampling:
        need += plan.n_slices * pixels * (raw_dtype.itemsize if integral else 4)
    limit = limits.MAX_VOLUME_BYTES if max_bytes is None else int(max_bytes)
    available = available_memory()
    reason = f"the limit of {limit / 2**30:.2f} GiB"
    if available is not None and available < limit:
        limit, reason = available, f"the {available / 2**30:.2f} GiB of memory available"
    if need > limit:
        raise LoadError(
            first.path,
            f"the series would need {need / 2**30:.2f} GiB ({plan.n_slices} x {first.rows} x {first.columns} voxels), "
            f"more than {reason}",
            "check Rows/Columns/NumberOfFrames, or raise max_bytes",
        )
