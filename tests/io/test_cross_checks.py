"""Our hand-written fast paths against the libraries they stand in for, on every shared DICOM file.

The benchmarks justify three fast paths (benchmarks/load.py): GDCM's Scanner instead of a
pydicom parse per header, a plain seek + read instead of pydicom's pixel handlers for native
pixel data, and our own slice sorting and spacing. Each must give the answer of the reference
library on real files, or it is a bug, however fast it is:

* headers from the GDCM scanner == pydicom ``dcmread`` (through our pydicom reader, and the
  geometry values straight from the dataset);
* native pixel reads == pydicom ``pixel_array``;
* slice order and spacing == ``highdicom.spatial.sort_datasets`` / ``get_series_volume_positions``;
* the DICOMDIR read by pydicom's ``FileSet`` == our tolerant record walk.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from highdicom.spatial import get_series_volume_positions, sort_datasets

from cbct_osteo.io.dicom_header import NATIVE_LITTLE_ENDIAN, FileHeader, quiet_pydicom, read_header
from cbct_osteo.io.discovery import _records_with_series, discover_series
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.fileset import fileset_references
from cbct_osteo.io.pixels import decode_frames, stored_dtype
from cbct_osteo.io.scanner import scan_headers

#: FileHeader fields that legitimately differ between the two readers: the lazily parsed dataset,
#: and where the pixel data starts (pydicom knows the offset; the scanner's path finds it later).
_NOT_COMPARED = {"_dataset", "pixel_offset"}


@pytest.fixture(scope="module")
def all_headers(shared_data: Path) -> dict[str, FileHeader | LoadError]:
    """Every file under ../shared/data through the production header scan (GDCM first)."""
    files = sorted(str(p) for p in shared_data.rglob("*") if p.is_file() and p.suffix != ".md")
    with quiet_pydicom():
        return dict(scan_headers(files))


def _scanner_made(headers: dict[str, FileHeader | LoadError]) -> list[FileHeader]:
    # the scanner's headers are the ones without a pydicom dataset attached (see FileHeader)
    return [h for h in headers.values() if isinstance(h, FileHeader) and h._dataset is None]


def _floats(value: Any) -> tuple[float, ...] | None:
    return tuple(float(v) for v in value) if value not in (None, "") else None


def test_gdcm_scanner_headers_equal_pydicom(all_headers: dict[str, FileHeader | LoadError]) -> None:
    scanned = _scanner_made(all_headers)
    assert len(scanned) > 500, "the GDCM scanner read almost none of the shared files: the fast path is off"
    mismatches = []
    with quiet_pydicom():
        for ours in scanned:
            try:
                reference = read_header(ours.path)  # pydicom's parse, mapped by the same rules
            except LoadError as refused:
                mismatches.append(f"{ours.path}: the GDCM path reads it, the pydicom path refuses: {refused}")
                continue
            for field in dataclasses.fields(FileHeader):
                if field.name in _NOT_COMPARED:
                    continue
                a, b = getattr(ours, field.name), getattr(reference, field.name)
                if a != b:
                    mismatches.append(f"{ours.path}: {field.name}: GDCM {a!r} != pydicom {b!r}")
            ds = pydicom.dcmread(ours.path, stop_before_pixels=True)  # and the raw values, unmapped
            frame = ours.frames[0]
            raw = {
                "position": _floats(ds.get("ImagePositionPatient")),
                "orientation": _floats(ds.get("ImageOrientationPatient")),
                "pixel_spacing": _floats(ds.get("PixelSpacing")),
                "sop_instance_uid": str(ds.get("SOPInstanceUID", "")),
            }
            for name, value in raw.items():
                if getattr(frame, name) != value:
                    mismatches.append(f"{ours.path}: {name}: GDCM {getattr(frame, name)!r} != dcmread {value!r}")
            as_read = (ds.Rows, ds.Columns, str(ds.get("SeriesInstanceUID", "")))
            if (ours.rows, ours.columns, ours.series_uid) != as_read:
                mismatches.append(f"{ours.path}: size or series {as_read} differs from dcmread")
    assert not mismatches, "\n".join(mismatches[:20])


def test_native_pixel_reader_equals_pydicom_pixel_array(all_headers: dict[str, FileHeader | LoadError]) -> None:
    native = [
        h
        for h in all_headers.values()
        if isinstance(h, FileHeader)
        and h.transfer_syntax in NATIVE_LITTLE_ENDIAN
        and h.samples_per_pixel == 1
        and h.rows > 0
        and h.pixel_tag == "PixelData"
    ]
    assert len(native) > 300
    compared, mismatches = 0, []
    with quiet_pydicom():
        for header in native:
            dataset = pydicom.dcmread(header.path, force=True)
            if not header.has_file_meta:  # a bare dataset: tell pydicom the syntax we inferred
                dataset.file_meta = pydicom.dataset.FileMetaDataset()
                dataset.file_meta.TransferSyntaxUID = header.transfer_syntax
            try:
                out = [np.empty((header.rows, header.columns), stored_dtype(header)) for _ in range(header.n_frames)]
                decode_frames(header, list(range(header.n_frames)), out)
            except LoadError as ours_refused:
                with pytest.raises(Exception):  # noqa: B017 - pydicom must refuse too, whatever its error type
                    dataset.pixel_array  # the property decodes (B018 is off in tests for this)
                assert "truncated" in str(ours_refused) or "size" in str(ours_refused), ours_refused
                continue
            reference = dataset.pixel_array.reshape(header.n_frames, header.rows, header.columns)
            compared += 1
            if not np.array_equal(np.stack(out), reference):
                mismatches.append(f"{header.path}: {np.count_nonzero(np.stack(out) != reference)} values differ")
    assert compared > 300
    assert not mismatches, "\n".join(mismatches[:20])


def _stacks(shared_data: Path) -> list[tuple[str, list[str], list[str], tuple[float, float, float], bool, list[str]]]:
    """(series, frame files in our slice order, files we dropped, our spacing, resampled?, problems) per real stack."""
    stacks = []
    for folder in sorted((shared_data / "real_volumes").iterdir()):
        with quiet_pydicom():
            found = discover_series(folder)
        for series in found:
            plan = series.plan
            if plan is None or len(plan.frames) + len(plan.dropped) < 2 or any(f.frame for f in plan.frames):
                continue  # single images and multi-frame files: nothing to sort
            stacks.append(
                (
                    f"{folder.name} {series.uid}",
                    [f.path for f in plan.frames],
                    [f.path for f in plan.dropped],
                    plan.spacing,
                    plan.needs_resampling,
                    plan.problems,
                )
            )
    return stacks


def test_slice_order_and_spacing_equal_highdicom(shared_data: Path) -> None:
    stacks = _stacks(shared_data)
    assert len(stacks) >= 6
    for name, paths, dropped, spacing, needs_resampling, problems in stacks:
        with quiet_pydicom():
            datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths + dropped]
        # "RD": DICOM's pixel convention (columns right, rows down); right-handed, so the slice
        # axis is row x column, the normal our sort ascends along
        in_order = [ds.filename for ds in sort_datasets(list(reversed(datasets)), index_convention="RD")]
        assert [p for p in in_order if p not in dropped] == paths, f"{name}: slice order differs from highdicom"
        hd_spacing, hd_index = get_series_volume_positions(datasets, index_convention="RD", sort=True)
        if hd_spacing is not None:  # highdicom found no duplicated position: neither may we
            assert not dropped, f"{name}: we dropped {len(dropped)} slices as duplicates, highdicom finds none"
            datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
            hd_spacing, hd_index = get_series_volume_positions(datasets, index_convention="RD", sort=False)
        if hd_spacing is None:  # highdicom: not a regular stack perpendicular to its slices
            assert needs_resampling or any("gantry tilt" in p or "sheared" in p for p in problems), (
                f"{name}: highdicom finds no regular volume, we report nothing"
            )
        else:
            assert not needs_resampling, f"{name}: highdicom finds a regular stack, we resample"
            ascending = list(range(len(paths)))  # its index direction for sort=False follows its own convention
            assert hd_index in (ascending, ascending[::-1]), f"{name}: highdicom places our slices elsewhere"
            assert abs(spacing[0] - hd_spacing) < 1e-3, f"{name}: slice step {spacing[0]} mm, highdicom {hd_spacing} mm"


def _dicomdirs(shared_data: Path) -> list[Path]:
    return sorted(p for p in shared_data.rglob("*") if p.name.upper() == "DICOMDIR")


def test_fileset_reader_agrees_with_the_tolerant_walk(shared_data: Path) -> None:
    dicomdirs = _dicomdirs(shared_data)
    assert len(dicomdirs) >= 3
    for path in dicomdirs:
        dicomdir = pydicom.dcmread(path, force=True)
        by_fileset = fileset_references(dicomdir)
        assert by_fileset is not None, f"{path}: pydicom's FileSet did not read it"
        records = list(dicomdir.get("DirectoryRecordSequence") or [])
        by_walk = [(r.get("ReferencedFileID"), uid) for r, uid in _records_with_series(dicomdir, records)]
        assert _reference_keys(by_fileset) == _reference_keys(by_walk), f"{path}: FileSet and the record walk disagree"


def _reference_keys(refs) -> list:
    """(file id path parts, series UID) of each record with a file, sorted: the two readers' answers compared."""
    return sorted((tuple(map(str, np.atleast_1d(f))), u) for f, u in refs if f)


def test_dicomdir_with_a_missing_file_still_names_its_series(shared_data: Path) -> None:
    """The medimodel DICOMDIR references DICOM/I303 (series 999), which is not on disk (SOURCES.md)."""
    dicomdir = shared_data / "real_volumes" / "skull_ct_medimodel_dicomdir" / "DICOMDIR"
    references = fileset_references(pydicom.dcmread(dicomdir))
    assert references is not None
    missing = [(f, uid) for f, uid in references if not os.path.exists(dicomdir.parent.joinpath(*f))]
    assert len(missing) == 1 and list(missing[0][0]) == ["DICOM", "I303"] and missing[0][1], missing


def test_fragment_counts_match_pydicom_on_every_encapsulated_file(shared_data: Path) -> None:
    """count_fragments (item headers walked on a memory map) == pydicom's own fragment parse."""
    from pydicom.encaps import generate_fragments

    from cbct_osteo.io.header_walk import count_fragments

    checked = 0
    for path in sorted(p for p in shared_data.rglob("*") if p.is_file() and p.suffix != ".md"):
        try:
            with quiet_pydicom():
                ds = pydicom.dcmread(path)
            encapsulated = ds.file_meta.TransferSyntaxUID.is_encapsulated and "PixelData" in ds
        except Exception:  # noqa: BLE001 - files pydicom cannot read have no reference answer
            continue
        if not encapsulated:
            continue
        with open(path, "rb") as handle:
            pydicom.dcmread(handle, stop_before_pixels=True)
            offset = handle.tell()
        items = list(generate_fragments(ds.PixelData))  # the Basic Offset Table item first
        assert count_fragments(str(path), offset) == len(items) - 1, path
        checked += 1
    assert checked >= 20
