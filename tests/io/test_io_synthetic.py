"""The loader on small synthetic series whose values and geometry are known exactly."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from cbct_osteo.cli import main as cli_main
from cbct_osteo.io.dicom_loader import load_series
from cbct_osteo.io.discovery import discover_series
from cbct_osteo.io.errors import LoadCancelled, LoadError

from io_synthetic import slice_values, write_series

ROWS, COLS = 8, 10


def test_sorts_by_position_not_name_and_builds_the_affine(tmp_path: Path) -> None:
    # names are shuffled, extensionless and nested; InstanceNumber runs backwards
    names = [f"a/b{k % 2}/x{(k * 7) % 6}" for k in range(6)]
    write_series(tmp_path, names=names)
    volume = load_series(tmp_path)
    assert volume.shape == (6, ROWS, COLS)
    assert volume.voxels.dtype == np.int16
    for k in range(6):
        np.testing.assert_array_equal(volume.voxels[k], slice_values(k, ROWS, COLS) - 1024)
    assert volume.spacing == pytest.approx((1.5, 0.5, 0.25))
    np.testing.assert_allclose(volume.index_to_patient([5, 2, 3]), [3 * 0.25, 2 * 0.5, 5 * 1.5])
    assert volume.meta.units == "HU"
    assert volume.meta.patient_name == "Test^Patient"
    # the only remark: PixelSpacing 0.5 x 0.25 mm is not square (kept as is, the affine carries it)
    assert volume.meta.warnings == (
        "non-square pixels: 0.5 mm between rows x 0.25 mm between columns (kept, not resampled)",
    )


def test_skips_non_dicom_files_and_counts_them(tmp_path: Path) -> None:
    write_series(tmp_path / "ct")
    (tmp_path / "README.txt").write_text("not an image")
    (tmp_path / "thumb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "empty").write_bytes(b"")
    found = discover_series(tmp_path)
    assert len(found) == 1 and found[0].n_slices == 6
    assert "skipped 3 file(s): not DICOM" in found.notes
    assert load_series(tmp_path).shape == (6, ROWS, COLS)


def test_missing_slice_is_interpolated_in_lenient_and_refused_in_strict(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 1.5, 3.0, 6.0, 7.5)]  # 4.5 mm missing
    write_series(tmp_path, positions=positions)
    volume = load_series(tmp_path)
    assert volume.shape == (6, ROWS, COLS)
    assert any("missing slices" in w for w in volume.meta.warnings)
    assert any("resampled" in w for w in volume.meta.warnings)
    expected = (slice_values(2, ROWS, COLS) + slice_values(3, ROWS, COLS)) / 2 - 1024
    np.testing.assert_array_equal(volume.voxels[3], np.rint(expected))
    np.testing.assert_array_equal(volume.voxels[4], slice_values(3, ROWS, COLS) - 1024)
    with pytest.raises(LoadError, match="missing slices"):
        load_series(tmp_path, policy="strict")


def test_absurd_gap_is_refused(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 1.0, 2.0, 3.0, 40.0)]
    write_series(tmp_path, positions=positions)
    with pytest.raises(LoadError, match="too large to interpolate"):
        load_series(tmp_path)


def test_duplicated_positions_are_dropped_with_a_warning(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 1.5, 1.5, 3.0)]
    write_series(tmp_path, positions=positions)
    volume = load_series(tmp_path)
    assert volume.shape == (3, ROWS, COLS)
    assert any("duplicate" in w for w in volume.meta.warnings)
    with pytest.raises(LoadError, match="duplicate"):
        load_series(tmp_path, policy="strict")


def test_stray_orthogonal_image_is_excluded(tmp_path: Path) -> None:
    uid = generate_uid()
    write_series(tmp_path / "axial", series_uid=uid)
    write_series(tmp_path / "scout", n=1, series_uid=uid, orientation=(0, 1, 0, 0, 0, -1), names=["scout"])
    found = discover_series(tmp_path)
    assert len(found) == 1 and found[0].n_slices == 6
    assert any("excluded 1 image" in p and "scout" in p for p in found[0].problems)
    assert load_series(tmp_path).shape == (6, ROWS, COLS)


def test_gantry_tilt_keeps_the_true_affine(tmp_path: Path) -> None:
    # slices move 1.5 mm up and 0.5 mm back each: a sheared stack
    positions = [(0.0, 0.5 * k, 1.5 * k) for k in range(5)]
    write_series(tmp_path, positions=positions)
    volume = load_series(tmp_path)
    np.testing.assert_allclose(volume.affine[:3, 0], [0.0, 0.5, 1.5])
    np.testing.assert_allclose(volume.index_to_patient([4, 0, 0]), positions[4])
    assert any("sheared by 18.4 degrees" in w for w in volume.meta.warnings)


def test_monochrome1_is_inverted_within_the_stored_range(tmp_path: Path) -> None:
    write_series(
        tmp_path,
        dtype="uint16",
        bits_stored=12,
        PhotometricInterpretation="MONOCHROME1",
        RescaleSlope=1,
        RescaleIntercept=0,
    )
    volume = load_series(tmp_path)
    np.testing.assert_array_equal(volume.voxels[2], 4095 - slice_values(2, ROWS, COLS))
    assert volume.meta.units == "gray value"


def test_padding_value_becomes_the_minimum(tmp_path: Path) -> None:
    def values(k: int) -> np.ndarray:
        v = slice_values(k, ROWS, COLS)
        v[0, :] = -2000
        return v

    write_series(tmp_path, values=values, PixelPaddingValue=-2000)
    volume = load_series(tmp_path)
    real_min = min(slice_values(k, ROWS, COLS)[1:].min() for k in range(6)) - 1024
    assert (volume.voxels[:, 0, :] == real_min).all()
    assert volume.voxels.min() == real_min
    np.testing.assert_array_equal(volume.voxels[3, 1:], slice_values(3, ROWS, COLS)[1:] - 1024)


def test_non_integer_slope_gives_float32(tmp_path: Path) -> None:
    write_series(tmp_path, RescaleSlope="0.75", RescaleIntercept="-10.5")
    volume = load_series(tmp_path)
    assert volume.voxels.dtype == np.float32
    np.testing.assert_allclose(volume.voxels[4], slice_values(4, ROWS, COLS) * 0.75 - 10.5, rtol=1e-6)


def test_unsigned_with_negative_intercept_stays_16_bit(tmp_path: Path) -> None:
    # stored uint16 0 .. 33000, intercept -1024: results -1024 .. 31976 fit int16 (2 bytes, in place)
    def values(k: int) -> np.ndarray:
        v = slice_values(k, ROWS, COLS)
        v[0, 0], v[0, 1] = 0, 33000
        return v

    write_series(tmp_path, dtype="uint16", values=values)
    volume = load_series(tmp_path)
    assert volume.voxels.dtype == np.int16
    np.testing.assert_array_equal(volume.voxels[5], values(5) - 1024)


def test_values_that_do_not_fit_16_bit_are_promoted(tmp_path: Path) -> None:
    write_series(tmp_path, dtype="uint16", values=lambda k: slice_values(k, ROWS, COLS) + 60000, RescaleIntercept=10000)
    volume = load_series(tmp_path)
    assert volume.voxels.dtype == np.int32
    np.testing.assert_array_equal(volume.voxels[1], slice_values(1, ROWS, COLS) + 70000)
    assert any("int32" in w for w in volume.meta.warnings)


def test_bits_stored_below_bits_allocated(tmp_path: Path) -> None:
    # 12-bit signed values stored with garbage in the 4 high bits must be sign-extended
    raw = np.array([[-5, 7], [2047, -2048]], dtype=np.int16)
    dirty = (raw.view(np.uint16) & 0x0FFF) | 0xA000
    write_series(
        tmp_path, n=2, rows=2, cols=2, bits_stored=12, RescaleIntercept=0, values=lambda k: dirty.view(np.int16)
    )
    np.testing.assert_array_equal(load_series(tmp_path).voxels[0], raw)


def test_absurd_header_size_is_refused_before_allocating(tmp_path: Path) -> None:
    for path in write_series(tmp_path / "huge", n=3):
        ds = dcmread(path)
        ds.Rows, ds.Columns = 60000, 60000  # 21 GB claimed by a few small files
        ds.save_as(path)
    with pytest.raises(LoadError, match="Rows .* is 60000"):
        load_series(tmp_path / "huge")
    for path in write_series(tmp_path / "large", n=3):
        ds = dcmread(path)
        ds.Rows, ds.Columns = 12000, 12000  # plausible sides, 288 MB a slice, in files of a few bytes
        ds.save_as(path)
    with pytest.raises(LoadError, match="truncated or its header is corrupt"):
        load_series(tmp_path / "large")
    write_series(tmp_path / "small")
    with pytest.raises(LoadError, match="limit of"):
        load_series(tmp_path / "small", max_bytes=100)


def test_truncated_file_gives_load_error(tmp_path: Path) -> None:
    paths = write_series(tmp_path)
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) - 40])
    with pytest.raises(LoadError, match=paths[2].name):
        load_series(tmp_path)


def progress_phases(seen: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Split progress reports into phases: a phase starts where ``done`` returns to 0."""
    phases: list[list[tuple[int, int]]] = []
    for i, report in enumerate(seen):
        if i == 0 or (report[0] == 0 and seen[i - 1][0] != 0):
            phases.append([])
        phases[-1].append(report)
    return phases


def test_progress_and_cancel(tmp_path: Path) -> None:
    write_series(tmp_path, n=12)
    seen: list[tuple[int, int]] = []
    load_series(tmp_path, progress=lambda done, total: seen.append((done, total)), workers=2)
    # load_series's contract: headers (total = 12 files), then frames (total = 12 frames); each
    # phase starts at (0, total), ends at (total, total) and never goes backwards.
    phases = progress_phases(seen)
    assert len(phases) == 2, seen
    for phase in phases:
        assert phase[0][0] == 0 and phase[-1] == (12, 12), seen
        assert all(a[0] <= b[0] and a[1] == b[1] for a, b in zip(phase, phase[1:], strict=False)), seen
    with pytest.raises(LoadCancelled):
        load_series(tmp_path, cancel=lambda: True)
    calls = []

    def cancel_during_decoding() -> bool:
        calls.append(1)
        return len(calls) > 1  # let discovery through, then stop

    with pytest.raises(LoadCancelled):
        load_series(tmp_path, cancel=cancel_during_decoding)


def test_each_progress_phase_starts_at_zero_even_when_decoding_outruns_the_reports(tmp_path: Path) -> None:
    """Decoding finishes before the first 50 ms report: the frame phase must still start at 0."""
    write_series(tmp_path, n=12)
    seen: list[tuple[int, int]] = []

    def slow_cancel() -> bool:
        time.sleep(0.06)  # polled before each report, so every frame is decoded by the first one
        return False

    load_series(tmp_path, progress=lambda done, total: seen.append((done, total)), cancel=slow_cancel, workers=2)
    assert [phase[0] for phase in progress_phases(seen)] == [(0, 12), (0, 12)], seen


def test_threads_give_the_same_volume(tmp_path: Path) -> None:
    write_series(tmp_path, n=20)
    serial = load_series(tmp_path, workers=1)
    parallel = load_series(tmp_path, workers=4)
    np.testing.assert_array_equal(serial.voxels, parallel.voxels)


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_dicomdir_reference_escaping_its_folder_is_ignored(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "disc" / "IMG", names=[f"I{k}" for k in range(6)])
    outside = write_series(tmp_path / "secret", n=1, names=["S0"])[0]
    records = []
    for file_id in [["IMG", p.name] for p in paths] + [["..", "secret", outside.name], ["IMG", "GONE"]]:
        record = Dataset()
        record.DirectoryRecordType = "IMAGE"
        record.ReferencedFileID = file_id
        records.append(record)
    dicomdir = Dataset()
    dicomdir.file_meta = FileMetaDataset()
    dicomdir.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    dicomdir.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    dicomdir.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dicomdir.DirectoryRecordSequence = records
    dicomdir.save_as(tmp_path / "disc" / "DICOMDIR", enforce_file_format=True)

    found = discover_series(tmp_path / "disc" / "DICOMDIR")
    assert [s.n_slices for s in found] == [6]
    assert any("outside its folder" in n for n in found.notes)
    assert any("IMG/GONE but the file is missing" in n for n in found.notes)
    assert str(outside) not in {f for s in found for f in s.files}


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_series(tmp_path / "nope")
    with pytest.raises(LoadError, match="no DICOM image series"):
        load_series(tmp_path)


def test_warnings_go_to_the_io_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_series(tmp_path, positions=[(0.0, 0.0, z) for z in (0.0, 1.5, 1.5, 3.0)])
    with caplog.at_level(logging.WARNING, logger="cbct_osteo.io"):
        load_series(tmp_path)
    assert any("duplicate" in r.getMessage() for r in caplog.records)


def test_info_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_series(tmp_path / "ct")
    assert cli_main(["info", str(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["series"][0]["n_slices"] == 6
    assert document["series"][0]["spacing_mm"] == pytest.approx([1.5, 0.5, 0.25])
    assert cli_main(["info", str(tmp_path / "ct")]) == 0
    assert "6 x 8 x 10" in capsys.readouterr().out
    assert cli_main(["info", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
