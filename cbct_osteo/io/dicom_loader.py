"""Load one DICOM series into a :class:`~cbct_osteo.volume.Volume`.

The steps, each in its own module: :mod:`~cbct_osteo.io.discovery` finds the series and
reads every header once, :mod:`~cbct_osteo.io.geometry` orders the slices and checks the
grid, :mod:`~cbct_osteo.io.pixels` decodes frames straight into one preallocated array (in
threads: the native reads and the pylibjpeg/GDCM decoders release the GIL),
:mod:`~cbct_osteo.io.values` applies the modality transform in place.

Policy (``policy=``, as pydicom's tolerance settings): ``"lenient"`` (default) repairs what
can be repaired - duplicates dropped, uneven spacing resampled by linear interpolation -
and lists every repair in ``Volume.meta.warnings`` and on the ``cbct_osteo.io`` logger;
``"strict"`` refuses any such defect. Both refuse absurd gaps, unknown pixel formats and
volumes larger than ``max_bytes`` (checked before anything is allocated).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from cbct_osteo.io import limits
from cbct_osteo.io.dicom_header import FileHeader, quiet_pydicom
from cbct_osteo.io.discovery import Cancel, PathInput, Progress, SeriesInfo, discover_series
from cbct_osteo.io.errors import LoadCancelled, LoadError, describe
from cbct_osteo.io.geometry import StackPlan
from cbct_osteo.io.load_checks import check_pixel_format, check_rescale, check_size, check_values, format_notes
from cbct_osteo.io.pixels import decode_frames, stored_dtype
from cbct_osteo.io.scanner import read_meta
from cbct_osteo.io.values import Mappers, ValueMapper, choose_integer_dtype, is_integral
from cbct_osteo.volume import SLICE_THICKNESS_KEY, Volume, VolumeMeta

_T = TypeVar("_T")

logger = logging.getLogger("cbct_osteo.io")

#: Refuse volumes larger than this (bytes) unless ``max_bytes`` says otherwise (see :mod:`~cbct_osteo.io.limits`).
DEFAULT_MAX_BYTES = limits.MAX_VOLUME_BYTES
POLICIES = ("lenient", "strict")
#: Start of the message of a LoadError made from an exception no check foresaw (a bug to report;
#: the fuzz harness counts these as foreign exceptions).
UNEXPECTED = "unexpected error while reading the scan"
#: Frames of an uncompressed multi-frame file read per task (keeps progress and cancel responsive).
NATIVE_CHUNK = 32


@dataclass(frozen=True)
class _Control:
    """How one load runs (the keyword arguments of :func:`load_series`), handed down as one value."""

    progress: Progress | None
    cancel: Cancel | None
    policy: str
    max_bytes: int | None
    workers: int | None


def load_series(
    path: PathInput,
    series: str | SeriesInfo | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    policy: str = "lenient",
    max_bytes: int | None = None,
    workers: int | None = None,
) -> Volume:
    """Load a CT/CBCT series as a Volume (voxels (z, y, x), spacing mm, index -> LPS affine).

    Parameters
    ----------
    path
        A folder (searched recursively), a DICOMDIR, one (multi-frame) DICOM file, or a list of files.
    series
        SeriesInstanceUID to load, or a :class:`SeriesInfo` from :func:`discover_series`
        (then ``path`` is not searched again). None picks the series with the most slices.
    progress
        ``progress(done, total)``, called from the calling thread in two phases: while headers
        are read (total = files), then while frames are decoded (total = frames). Each phase
        starts with a ``(0, total)`` call and ends with ``(total, total)``; within a phase
        ``done`` never decreases.
    cancel
        Polled often; returning True stops the load and raises :class:`LoadCancelled`.
    policy
        ``"lenient"`` repairs and warns, ``"strict"`` refuses (see the module notes).
    max_bytes
        Largest volume accepted, in bytes (default 4 GiB, and never more than the memory
        currently available).
    workers
        Decoding threads (default: number of CPUs, at most 4).

    Returns
    -------
    Volume
        Values after the modality transform: ``meta.units`` is "HU" for a CT with a rescale,
        else "gray value". Integer dtype (as stored, usually int16) when the rescale is integral,
        float32 otherwise.

    Raises
    ------
    LoadError
        Naming the file and the problem; :class:`LoadCancelled` when cancelled.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, not {policy!r}")
    control = _Control(progress, cancel, policy, max_bytes, workers)
    where = str(path) if isinstance(path, (str, os.PathLike)) else None
    try:
        info = series if isinstance(series, SeriesInfo) else choose_series(path, series, progress, cancel)
        return _load_info(info, control)
    except LoadError:
        raise
    except MemoryError as exc:  # an allocation within the checked limits failed: the machine is short of memory
        raise LoadError(
            where,
            f"not enough memory to load the scan ({describe(exc)})",
            "close other programs, or load a smaller series",
        ) from exc
    except Exception as exc:  # last resort: a file no check foresaw must not give the user a traceback
        logger.exception("unexpected error while loading %s", path)
        raise LoadError(
            where, f"{UNEXPECTED}: {type(exc).__name__}: {describe(exc)}", "please report this file to the developers"
        ) from exc


def choose_series(
    path: PathInput, uid: str | None, progress: Progress | None = None, cancel: Cancel | None = None
) -> SeriesInfo:
    """Discover the series under ``path`` and pick ``uid`` (or the largest stack)."""
    found = discover_series(path, progress=progress, cancel=cancel)
    loadable = [s for s in found if s.n_slices > 0]
    if not loadable:
        if 0 < len(found.skipped) <= 3:
            detail = "; ".join(f"{Path(name).name}: {reason}" for name, reason in found.skipped)
        else:
            detail = "; ".join(found.notes) if found.notes else "the path holds no files"
        raise LoadError(found.root, f"no DICOM image series found ({detail})")
    if uid is None:
        return loadable[0]
    for info in found:
        if info.uid == uid:
            if info.n_slices == 0:
                raise LoadError(found.root, f"series {uid} has no readable image: {'; '.join(info.problems)}")
            return info
    listed = ", ".join(s.uid for s in loadable[:5])
    raise LoadError(found.root, f"no series with SeriesInstanceUID {uid}", f"found: {listed}")


def _load_info(info: SeriesInfo, control: _Control) -> Volume:
    """Load the stack described by ``info`` (see :func:`load_series` for what ``control`` holds)."""
    plan = info.plan
    if plan is None or not plan.frames:
        raise LoadError(info.uid, "the series has no image to load")
    first = info.headers[plan.frames[0].path]
    check_pixel_format(info, first)
    if plan.refusal:
        raise LoadError(first.path, f"series {info.uid}: {plan.refusal}", "the series is incomplete; export it again")
    if control.policy == "strict" and plan.defects:
        raise LoadError(
            first.path, f"series {info.uid}: {'; '.join(plan.defects)}", "policy 'lenient' repairs this and warns"
        )
    check_rescale(info, plan)
    raw_dtype = stored_dtype(first)
    mappers = Mappers(info)
    mixed_signs = len({h.signed for h in info.headers.values()}) > 1
    integral = (
        not mappers.first.uses_lut
        and not mixed_signs
        and all(is_integral(f.slope) and is_integral(f.intercept) for f in plan.frames)
    )
    check_size(info, plan, raw_dtype, integral, control.max_bytes)

    n_in, shape = len(plan.frames), (first.rows, first.columns)
    notes: list[str] = format_notes(info, mixed_signs)
    with quiet_pydicom():
        if integral:
            voxels = _load_integral(info, plan, mappers, raw_dtype, shape, control, notes)
        else:
            voxels = _load_float(info, plan, mappers, shape, control)
    if plan.needs_resampling:
        voxels = _resample(voxels, plan.positions_mm, plan.target_mm)
    with quiet_pydicom():
        meta = _meta(info, plan, first, mappers.first, voxels, notes)
    for text in meta.warnings:
        logger.warning("%s: %s", info.uid, text)
    logger.info("loaded %s: %s %s from %d frame(s)", info.uid, voxels.shape, voxels.dtype, n_in)
    return Volume(voxels=voxels, spacing=plan.spacing, affine=plan.affine, meta=meta)


# -- decoding ------------------------------------------------------------------------------


#: One decoding task: (header, slice indices in the volume, frame indices in the file).
Task = tuple[FileHeader, list[int], list[int]]


def _tasks(info: SeriesInfo, plan: StackPlan) -> list[Task]:
    """(header, slice indices, frame indices) per task: one file, or a chunk of a native multi-frame file."""
    by_file: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for k, frame in enumerate(plan.frames):
        by_file[frame.path].append((k, frame.frame))
    tasks: list[Task] = []
    for name, pairs in by_file.items():
        header = info.headers[name]
        size = NATIVE_CHUNK if header.pixel_offset is not None else len(pairs)
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            tasks.append((header, [k for k, _ in chunk], [f for _, f in chunk]))
    return tasks


def _run(
    tasks: Sequence[_T],
    work: Callable[[_T], int],
    total: int,
    control: _Control,
    where: str,
) -> None:
    """Run ``work(task) -> frames done`` over ``tasks`` in a few threads pulling from one queue.

    The calling thread polls ``control.cancel`` and reports ``control.progress`` every 50 ms (in
    ``control.workers`` threads); the first error in any worker stops the others and is raised here.
    """
    progress, cancel = control.progress, control.cancel
    queue = iter(tasks)
    lock = threading.Lock()
    stop = threading.Event()
    done = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        while not stop.is_set():
            with lock:
                task = next(queue, None)
            if task is None:
                return
            try:
                count = work(task)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, which re-raises it
                errors.append(exc)
                stop.set()
                return
            with lock:
                done[0] += count

    if progress is not None:
        progress(0, total)  # a new phase (frames) starts at 0, whatever the header phase reached
    n_threads = max(1, min(control.workers or min(4, os.cpu_count() or 1), len(tasks)))
    threads = [threading.Thread(target=worker, name=f"cbct-osteo-decode-{i}", daemon=True) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.05)
                if cancel is not None and not stop.is_set() and cancel():
                    stop.set()
                    raise LoadCancelled(where)
                if progress is not None:
                    progress(done[0], total)
    finally:
        stop.set()  # on cancel or error: workers finish their current task and exit
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    if progress is not None:
        progress(done[0], total)


def _load_integral(
    info: SeriesInfo,
    plan: StackPlan,
    mappers: Mappers,
    raw_dtype: np.dtype[Any],
    shape: tuple[int, int],
    control: _Control,
    notes: list[str],
) -> npt.NDArray[Any]:
    """Decode into one stored-dtype array, then rescale in place (promote only if values overflow)."""
    volume = np.empty((len(plan.frames), *shape), dtype=raw_dtype)
    stats: list[tuple[int, int] | None] = [None] * len(plan.frames)

    def work(task: Task) -> int:
        header, slices, frames = task
        views = [volume[k] for k in slices]
        decode_frames(header, frames, views)
        for k, view in zip(slices, views, strict=True):
            stats[k] = mappers[plan.frames[k]].raw_stats(view)
        return len(slices)

    _run(_tasks(info, plan), work, len(plan.frames), control, plan.frames[0].path)

    ranges = []
    for s, frame in zip(stats, plan.frames, strict=True):
        if s is not None:
            ranges.append(mappers[frame].rescaled_range(s, frame.slope, frame.intercept))
            check_values(frame, *ranges[-1])
    lo = min((r[0] for r in ranges), default=0.0)
    hi = max((r[1] for r in ranges), default=0.0)
    fill = int(lo)
    out_dtype = choose_integer_dtype(raw_dtype, lo, hi)
    identity = all(f.slope == 1 and f.intercept == 0 and not mappers[f].monochrome1 for f in plan.frames)
    if out_dtype == raw_dtype and identity and not mappers.any_padding:
        return volume
    if out_dtype.itemsize == raw_dtype.itemsize:

        def transform(task: list[int]) -> int:
            for k in task:
                frame = plan.frames[k]
                mappers[frame].apply_in_place(volume[k], out_dtype, frame.slope, frame.intercept, fill)
            return len(task)

        chunks = [list(range(i, min(i + 16, len(plan.frames)))) for i in range(0, len(plan.frames), 16)]
        # the rescale pass reports no progress of its own: the frame phase already ended at its total
        _run(chunks, transform, len(plan.frames), replace(control, progress=None), plan.frames[0].path)
        return volume.view(out_dtype)
    notes.append(f"values {lo:g}..{hi:g} do not fit {raw_dtype}: stored as {out_dtype} (more memory)")
    promoted = np.empty(volume.shape, dtype=out_dtype)
    for k, frame in enumerate(plan.frames):
        mappers[frame].apply_promoted(volume[k], promoted[k], frame.slope, frame.intercept, fill)
    return promoted


def _load_float(
    info: SeriesInfo,
    plan: StackPlan,
    mappers: Mappers,
    shape: tuple[int, int],
    control: _Control,
) -> npt.NDArray[np.float32]:
    """Decode each frame into a small scratch slice (its file's stored dtype); write float32 values into the volume."""
    volume = np.empty((len(plan.frames), *shape), dtype=np.float32)
    ranges: list[tuple[float, float] | None] = [None] * len(plan.frames)

    def work(task: Task) -> int:
        header, slices, frames = task
        scratch = [np.empty(shape, dtype=stored_dtype(header)) for _ in slices]
        decode_frames(header, frames, scratch)
        for k, raw in zip(slices, scratch, strict=True):
            frame = plan.frames[k]
            found = ranges[k] = mappers[frame].apply_float(raw, volume[k], frame.slope, frame.intercept)
            if found is not None:
                check_values(frame, *found)
        return len(slices)

    _run(_tasks(info, plan), work, len(plan.frames), control, plan.frames[0].path)
    if mappers.any_padding:
        fill = min((r[0] for r in ranges if r is not None), default=0.0)
        for k in range(len(plan.frames)):
            np.nan_to_num(volume[k], copy=False, nan=fill)
    return volume


def _resample(voxels: np.ndarray, positions: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Linear interpolation along z from slices at ``positions`` onto ``target`` (both mm, ascending)."""
    out = np.empty((len(target), *voxels.shape[1:]), dtype=voxels.dtype)
    below = np.clip(np.searchsorted(positions, target, side="right") - 1, 0, len(positions) - 2)
    weight = (target - positions[below]) / (positions[below + 1] - positions[below])
    for j, (i, w) in enumerate(zip(below, weight, strict=True)):
        if w < 1e-6:
            out[j] = voxels[i]
        elif w > 1 - 1e-6:
            out[j] = voxels[i + 1]
        else:
            mixed = voxels[i].astype(np.float32) * np.float32(1 - w) + voxels[i + 1].astype(np.float32) * np.float32(w)
            out[j] = np.rint(mixed) if voxels.dtype.kind in "iu" else mixed
    return out


# -- metadata ------------------------------------------------------------------------------


def _slice_thickness(plan: StackPlan) -> dict[str, float]:
    """``{SLICE_THICKNESS_KEY: mm}`` from the slices' SliceThickness (classic: each file's; Enhanced: the
    Pixel Measures functional group, per frame or shared), or ``{}`` when no slice gives a usable one.

    When slices differ, the thickest counts: the scan resolves no finer than its thickest slice.
    """
    values = [t for t in (f.slice_thickness for f in plan.frames) if t is not None and 0 < t <= limits.MAX_VOXEL_MM]
    return {SLICE_THICKNESS_KEY: max(values)} if values else {}


def _meta(
    info: SeriesInfo, plan: StackPlan, first: FileHeader, mapper: ValueMapper, voxels: np.ndarray, notes: list[str]
) -> VolumeMeta:
    text = read_meta(first)
    calibrated = (
        first.modality == "CT"
        and any(h.has_rescale for h in info.headers.values())
        and not mapper.monochrome1
        and not mapper.uses_lut
        # CT rescale means HU unless Rescale Type (0028,1054) says otherwise, as CBCT exports
        # with uncalibrated gray values do ("US" = unspecified).
        and text.get("RescaleType", "").strip().upper() in ("", "HU")
    )
    return VolumeMeta(
        series_uid=info.uid,
        study_uid=text["StudyInstanceUID"],
        frame_of_reference_uid=text["FrameOfReferenceUID"],
        sop_class_uid=first.sop_class_uid,
        modality=first.modality,
        series_description=info.description,
        series_number=info.series_number,
        patient_name=text["PatientName"],
        patient_id=text["PatientID"],
        patient_sex=text["PatientSex"],
        patient_birth_date=text["PatientBirthDate"],
        study_date=text["StudyDate"],
        study_id=text["StudyID"],
        accession_number=text["AccessionNumber"],
        institution=text["InstitutionName"],
        manufacturer=text["Manufacturer"],
        model=text["ManufacturerModelName"],
        kvp=_number(text["KVP"]),
        tube_current_ma=_number(text["XRayTubeCurrent"]),
        transfer_syntax=first.transfer_syntax,
        units="HU" if calibrated else "gray value",
        source_files=tuple(info.files),
        warnings=tuple(info.problems) + tuple(notes),
        extra={
            "dtype": str(voxels.dtype),
            "resampled": bool(plan.needs_resampling),
            "dropped_duplicates": len(plan.dropped),
            "photometric": first.photometric,
            "pixel_padding": list(mapper.padding) if mapper.padding else None,
            # Classified, file-name-free facts for io.scan_warnings (GUI banner, report limits).
            "scan_facts": [{"code": code, "message": message} for code, message in plan.facts],
            **_slice_thickness(plan),
        },
    )


def _number(text: str) -> float | None:
    try:
        value = float(text.split("\\")[0])
    except ValueError:
        return None
    return value if np.isfinite(value) else None
