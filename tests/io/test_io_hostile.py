"""Hostile inputs of issue 13, each class built from a real file of ../shared/data (mutated with
pydicom or bytes) or a phantom. Inputs that could take the process down, hang or exhaust memory
are loaded in a forked child with limits (tests/fuzz/harness.py ``run_case``), so a regression
fails the test instead of killing the test run.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from fuzz.harness import run_case
from pydicom import dcmread

from cbct_osteo import load
from cbct_osteo.io import limits, pixels
from cbct_osteo.io.discovery import discover_series
from cbct_osteo.io.errors import LoadError, is_native_panic
from cbct_osteo.io.header_walk import walk_header

CORNERSTONE = "robustness/cornerstone_ct_transfer_syntaxes"
JPEG_BASELINE = f"{CORNERSTONE}/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm"
MULTIFRAME = "robustness/pydicom_data/emri_small.dcm"  # 10 frames of 64 x 64 x 16 bits, 84 KB
RLE = "robustness/pydicom_test_files/MR_small_RLE.dcm"
TILT_SLICE = "real_volumes/head_ct_gantry_tilt_ge/01.dcm"
VHP = "real_volumes/vhp_male_head_mandible"


def _edit(source: Path, target: Path, change) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(source)
        change(ds)
        target.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(target)
    return target


@pytest.fixture()
def vhp_four(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "vhp"
    folder.mkdir()
    for k in range(60, 64):
        shutil.copy(shared_data / VHP / f"J.{k:03d}", folder / f"J.{k:03d}")
    return folder


# -- process abort -------------------------------------------------------------------------


@pytest.fixture()
def jpeg_7_of_8(shared_data: Path, tmp_path: Path) -> Path:
    """JPEG Baseline CT with Bits Stored 7 of Bits Allocated 8: GDCM aborts the process on it."""

    def change(ds) -> None:
        ds.BitsStored, ds.HighBit = 7, 6

    return _edit(shared_data / JPEG_BASELINE, tmp_path / "jpeg7.dcm", change)


def test_jpeg_bits_stored_below_bits_allocated_loads_without_gdcm(jpeg_7_of_8: Path) -> None:
    outcome = run_case(jpeg_7_of_8)
    assert outcome.category == "loaded", outcome.detail
    volume = load(jpeg_7_of_8)
    assert volume.shape == (1, 512, 512)


def test_a_decoder_that_aborts_costs_a_load_error_not_the_process(jpeg_7_of_8: Path, monkeypatch) -> None:
    """Only GDCM left: it aborts (SIGABRT) in its guarded child; this process gets a LoadError naming the file."""
    monkeypatch.setattr(pixels, "IN_PROCESS_PLUGINS", ())
    with pytest.raises(LoadError, match="GDCM decoder .* crashed .*SIGABRT") as caught:
        load(jpeg_7_of_8)
    assert str(jpeg_7_of_8) in str(caught.value)


# -- counts against the file's length ------------------------------------------------------


@pytest.mark.parametrize("frames", [11, 1_000_000, 10_000_000, 2**31 - 1])
def test_number_of_frames_is_checked_against_the_file(shared_data: Path, tmp_path: Path, frames: int) -> None:
    path = _edit(shared_data / MULTIFRAME, tmp_path / "frames.dcm", lambda ds: setattr(ds, "NumberOfFrames", frames))
    start = time.monotonic()
    outcome = run_case(path, timeout_s=20)
    assert outcome.category == "own", outcome.detail
    assert "NumberOfFrames (0028,0008)" in outcome.detail and "frames.dcm" in outcome.detail
    assert time.monotonic() - start < 10
    assert outcome.growth_bytes < 300 * 2**20


def test_a_deflated_file_may_not_declare_more_than_it_can_inflate_to(shared_data: Path, tmp_path: Path) -> None:
    """Deflated Explicit VR: its pixel data cannot be sized from the file, so 1000 x the file size is the bound."""
    source = (
        shared_data
        / CORNERSTONE
        / "CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm"
    )
    path = _edit(source, tmp_path / "deflated.dcm", lambda ds: setattr(ds, "NumberOfFrames", 4095))  # 2 GiB declared
    outcome = run_case(path)
    assert outcome.category == "own" and "compression" in outcome.detail, outcome.detail


@pytest.mark.parametrize(
    "name",
    [
        "CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm",
        "CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm",
        "CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
    ],
)
def test_a_compressed_file_declares_no_more_frames_than_fragments(shared_data: Path, tmp_path: Path, name: str) -> None:
    """Found by the long fuzz run (seed 1, mutant 93): NumberOfFrames 4095 on a 198 KB JPEG Lossless slice
    sized a 2 GiB volume before decoding failed (no ratio bound on encapsulated data). Every frame needs a
    fragment of its own (PS3.5 A.4): one fragment holds at most one frame, so it is refused from the header."""
    path = _edit(
        shared_data / CORNERSTONE / name, tmp_path / "frames.dcm", lambda ds: setattr(ds, "NumberOfFrames", 4095)
    )
    outcome = run_case(path)
    assert outcome.category == "own", outcome.detail
    assert "NumberOfFrames (0028,0008) is 4095" in outcome.detail and "1 fragment(s)" in outcome.detail
    assert outcome.growth_bytes < 300 * 2**20


def test_a_truncated_multiframe_file_is_refused_before_allocating(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / MULTIFRAME).read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: len(data) - 3 * 64 * 64 * 2])  # 3 of the 10 frames missing
    with pytest.raises(LoadError, match="truncated") as caught:
        load(path)
    assert "cut.dcm" in str(caught.value)


# -- header scanner memory ------------------------------------------------------------------


def _flip_length_byte(source: Path, target: Path, tag: tuple[int, int], xor: int) -> Path:
    """Flip bits in the (explicit VR, 2-byte) length of ``tag``, as one bad byte on a disk does."""
    data = bytearray(source.read_bytes())
    marker = struct.pack("<HH", *tag)
    at = data.index(marker, 132)
    data[at + 6] ^= xor
    target.write_bytes(bytes(data))
    return target


def test_a_flipped_length_byte_costs_no_memory(shared_data: Path, tmp_path: Path) -> None:
    """ImagePositionPatient's length 0x24 -> 0x20: unchecked, GDCM's header scan took 1.3 GB on this file."""
    path = _flip_length_byte(shared_data / TILT_SLICE, tmp_path / "flipped.dcm", (0x0020, 0x0032), 0x04)
    assert walk_header(str(path)).status != "ok"  # never handed to GDCM
    assert walk_header(str(shared_data / TILT_SLICE)).status == "ok"
    outcome = run_case(path)
    assert outcome.category in ("own", "loaded"), outcome.detail
    assert outcome.growth_bytes < 300 * 2**20


def test_a_damaged_offset_table_length_costs_no_memory(shared_data: Path, tmp_path: Path) -> None:
    """MR_small_RLE.dcm with its Basic Offset Table length 4 -> 0x3C000004: unchecked, GDCM's scanner took ~1 GB."""
    data = bytearray((shared_data / RLE).read_bytes())
    pixel = data.index(b"\xe0\x7f\x10\x00", 132)
    assert data[pixel + 12 : pixel + 16] == b"\xfe\xff\x00\xe0"  # the offset table item
    data[pixel + 19] = 0x3C
    path = tmp_path / "offset_table.dcm"
    path.write_bytes(bytes(data))
    walk = walk_header(str(path))
    assert walk.status == "corrupt" and "fragment" in walk.reason
    outcome = run_case(path)
    assert outcome.category in ("own", "loaded"), outcome.detail
    assert outcome.growth_bytes < 300 * 2**20


def test_a_damaged_dicomdir_does_not_stop_its_folder(vhp_four: Path, shared_data: Path) -> None:
    index = (shared_data / "robustness/pydicom_test_files/dicomdirtests/DICOMDIR").read_bytes()
    (vhp_four / "DICOMDIR").write_bytes(index[:400])  # cut inside its file meta: pydicom cannot read it
    volume = load(vhp_four)
    assert volume.shape == (4, 512, 512)
    found = discover_series(vhp_four)
    assert any("unreadable DICOMDIR" in note and "read without it" in note for note in found.notes), found.notes


def test_every_real_file_takes_the_fast_header_path(shared_data: Path) -> None:
    """The length walk must not send good files to the slow path: every real volume's file walks ok."""
    for folder in sorted((shared_data / "real_volumes").iterdir()):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "DICOMDIR"):
            assert walk_header(str(path)).status == "ok", (path, walk_header(str(path)))


@pytest.mark.parametrize(
    "name, status",
    [
        ("CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm", "ok"),
        ("CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm", "ok"),
        ("CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm", "ok"),
        ("CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm", "unusual"),
    ],
)
def test_the_length_walk_reads_every_encoding(shared_data: Path, name: str, status: str) -> None:
    assert walk_header(str(shared_data / CORNERSTONE / name)).status == status


def test_a_length_past_the_end_of_the_file_is_corrupt(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / TILT_SLICE).read_bytes())
    at = data.index(struct.pack("<HH", 0x0008, 0x0060), 132)  # Modality, CS: 2-byte length
    data[at + 6 : at + 8] = struct.pack("<H", 0xFFF0)
    path = tmp_path / "long.dcm"
    path.write_bytes(bytes(data[: at + 4000]))
    walk = walk_header(str(path))
    assert walk.status == "corrupt" and "(0008,0060)" in walk.reason and "remain" in walk.reason


# -- pyo3 panic ------------------------------------------------------------------------------


def _rle_panic_file(shared_data: Path, target: Path) -> Path:
    """MR_small_RLE.dcm with a few bytes of its RLE segments changed until pylibjpeg-rle panics (seeded)."""
    from pydicom.pixels import pixel_array

    data = (shared_data / RLE).read_bytes()
    rng = random.Random(1)
    for _ in range(300):
        mutant = bytearray(data)
        for _ in range(3):
            mutant[rng.randrange(len(data) - 3000, len(data))] = rng.randrange(256)
        target.write_bytes(bytes(mutant))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pixel_array(str(target), decoding_plugin="pylibjpeg")
        except Exception:  # noqa: BLE001 - an ordinary decoder error is fine here; only a panic is sought
            continue
        except BaseException as exc:
            if is_native_panic(exc):
                return target
            raise
    pytest.fail("no mutant made pylibjpeg-rle panic")


def test_a_decoder_panic_is_caught_precisely(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    path = _rle_panic_file(shared_data, tmp_path / "panic.dcm")
    volume = load(path)  # pydicom's own RLE decoder is tried next and reads it
    assert volume.shape == (1, 64, 64)
    monkeypatch.setattr(pixels, "IN_PROCESS_PLUGINS", ("pylibjpeg",))
    monkeypatch.setattr(pixels, "GUARDED_PLUGINS", ())
    with pytest.raises(LoadError, match="panicked") as caught:
        load(path)
    assert "panic.dcm" in str(caught.value)
    assert not is_native_panic(KeyboardInterrupt()) and not is_native_panic(SystemExit())


# -- geometry --------------------------------------------------------------------------------


def _move_last(folder: Path, change) -> None:
    last = max(folder.iterdir(), key=lambda p: float(dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    _edit(last, last, change)


@pytest.mark.parametrize("gap_mm", [1e6, 1e9])
def test_absurd_slice_gaps_are_refused_before_allocating(vhp_four: Path, gap_mm: float) -> None:
    def shift(ds) -> None:
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + gap_mm]

    _move_last(vhp_four, shift)
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match="gap|apart|position") as caught:
            load(vhp_four)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # nothing sized from the gap (1e9 mm / 0.5 mm would be 2e9 slices)
    assert "J.06" in str(caught.value)


@pytest.mark.parametrize(
    "keyword, value, expected",
    [
        ("ImagePositionPatient", ["-125.2", "-53.5", "1e300"], "not a position in a scanner"),
        ("ImagePositionPatient", ["-125.2", "nan", "-170"], "non-finite"),
        ("PixelSpacing", ["inf", "0.489"], "non-finite|not a CT pixel"),
        ("PixelSpacing", ["1e6", "1e6"], "not a CT pixel"),
    ],
)
def test_non_finite_or_astronomic_geometry_is_refused(vhp_four: Path, keyword, value, expected) -> None:
    def change(ds) -> None:
        setattr(ds, keyword, value)

    for path in sorted(vhp_four.iterdir())[:2]:
        _edit(path, path, change)
    with pytest.raises(LoadError, match=expected):
        load(vhp_four)


def test_slices_a_kilometre_apart_are_not_a_volume(vhp_four: Path) -> None:
    for k, path in enumerate(sorted(vhp_four.iterdir())):
        _edit(path, path, lambda ds, k=k: setattr(ds, "ImagePositionPatient", [0, 0, k * 1e5]))
    with pytest.raises(LoadError, match="not a tomographic volume"):
        load(vhp_four)


# -- special files ---------------------------------------------------------------------------


def test_fifo_socket_and_device_in_a_folder_are_skipped_unopened(vhp_four: Path) -> None:
    reference = load(vhp_four)
    os.mkfifo(vhp_four / "zz_fifo")  # opening it for reading would block forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(vhp_four / "zz_socket"))
    sock.close()
    os.symlink("/dev/zero", vhp_four / "zz_zero")  # reading it never ends
    outcome = run_case(vhp_four, timeout_s=30)
    assert outcome.category == "loaded", outcome.detail
    np.testing.assert_array_equal(load(vhp_four).voxels, reference.voxels)
    assert any("3 special file(s)" in note for note in discover_series(vhp_four).notes)
    outcome = run_case(vhp_four / "zz_fifo", timeout_s=30)
    assert outcome.category == "own" and "FIFO" in outcome.detail, outcome.detail


# -- rescale and DICOMDIR --------------------------------------------------------------------


@pytest.mark.parametrize(
    "slope, intercept, expected",
    [
        ("1e300", "0", "not plausible"),
        ("1", "-1e300", "not plausible"),
        ("1e8", "0", "give values up to"),
        ("nan", "0", "not plausible"),
    ],
)
def test_huge_rescale_is_a_clear_load_error(vhp_four: Path, slope, intercept, expected) -> None:
    target = sorted(vhp_four.iterdir())[1]

    def change(ds) -> None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept

    _edit(target, target, change)
    with pytest.raises(LoadError, match=expected) as caught:
        load(vhp_four)
    assert target.name in str(caught.value)


def test_nul_byte_in_a_dicomdir_path_is_reported(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dicomdirtests"
    shutil.copytree(shared_data / "robustness/pydicom_test_files/dicomdirtests", folder)

    def poison(ds) -> None:
        record = next(r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r)
        parts = list(record.ReferencedFileID)
        parts[-1] = parts[-1][:2] + "\x00" + parts[-1][2:]
        record.ReferencedFileID = parts

    _edit(folder / "DICOMDIR", folder / "DICOMDIR", poison)
    found = discover_series(folder / "DICOMDIR")
    assert any("control characters" in note for note in found.notes)
    with pytest.raises(LoadError, match="NUL"):
        load(str(folder / "DICOMDIR") + "\x00x")


def test_policy_limits_are_enforced_where_documented() -> None:
    """The documented numbers are the enforced ones (docs/developer-guide.md, 'Resource policy')."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "developer-guide.md").read_text()
    for name in (
        "MAX_VOLUME_BYTES",
        "MAX_FRAMES_PER_FILE",
        "MAX_IMAGE_SIDE",
        "MAX_COMPRESSION_RATIO",
        "DECODER_CHILD_TIMEOUT_S",
        "DECODER_CHILD_BYTES",
        "MAX_ABS_VALUE",
        "MAX_VOXEL_MM",
    ):
        assert name in guide, name
    assert limits.MAX_VOLUME_BYTES == 4 * 1024**3


def _load_in_daemon(path: str, monkey_plugins: bool, queue) -> None:
    if monkey_plugins:
        pixels.IN_PROCESS_PLUGINS = ()
    try:
        load(path)
        queue.put("loaded")
    except LoadError as exc:
        queue.put(f"own {exc}")
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails on it
        queue.put(f"foreign {type(exc).__name__}: {exc}")


def test_the_guarded_decoder_works_inside_a_daemonic_worker(jpeg_7_of_8: Path) -> None:
    """Batch runs cases in daemonic workers (Dask, multiprocessing.Pool), which may not normally have children."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_load_in_daemon, args=(str(jpeg_7_of_8), True, queue), daemon=True)
    worker.start()
    result = queue.get(timeout=120)
    worker.join(30)
    assert result.startswith("own") and "SIGABRT" in result, result
