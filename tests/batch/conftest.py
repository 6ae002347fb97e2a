"""A cohort of good phantoms with cases that abort, panic, crash or hang their process."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

FAULT_INJECTION_DIR = Path(__file__).parent / "fault_injection"
#: Fault kinds staged by fault_injection/sitecustomize.py (landmarks named fault-<kind>.json).
INJECTED_FAULTS = ("abort", "segv", "exit", "panic", "hang")
CORNERSTONE = "robustness/cornerstone_ct_transfer_syntaxes"


def _series_from(source: Path, folder: Path, mutate, slices: int = 4) -> Path:
    """``slices`` copies of the real file ``source`` as one series 1 mm apart, each passed through ``mutate``."""
    import pydicom
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True)
    series_uid = generate_uid()
    for i in range(slices):
        ds = pydicom.dcmread(source)
        mutate(ds)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        position = [float(v) for v in ds.ImagePositionPatient]
        ds.ImagePositionPatient = [position[0], position[1], position[2] + i]
        ds.save_as(folder / f"slice{i}.dcm")
    return folder


def jpeg_seven_of_eight_bits(shared_data: Path, folder: Path) -> Path:
    """A real JPEG Baseline CT with Bits Stored 7 of 8: GDCM throws in C++ and the process aborts (exit 134)."""

    def seven_bits(ds) -> None:
        ds.BitsStored, ds.HighBit = 7, 6

    source = shared_data / CORNERSTONE / "CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm"
    return _series_from(source, folder, seven_bits)


def rle_segment_offset_moved(shared_data: Path, folder: Path) -> Path:
    """A real RLE CT whose second segment offset is moved back (byte 8 = 65): pylibjpeg-rle panics."""
    from pydicom.encaps import encapsulate, generate_frames

    def move_offset(ds) -> None:
        frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
        assert struct.unpack("<I", frame[:4])[0] >= 2, "the source must have two RLE segments"
        frame[8] = 65
        ds.PixelData = encapsulate([bytes(frame)])

    source = shared_data / CORNERSTONE / "CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm"
    return _series_from(source, folder, move_offset)


@pytest.fixture(scope="session")
def hostile_cohort(phantom_cohort, shared_data, tmp_path_factory, manifest_writer) -> dict:
    """8 good phantom cases plus cases that abort, panic, hang or crash (see INJECTED_FAULTS).

    ``{"manifest": Path, "good": [ids], "real": {id: kind}, "injected": {id: kind}}``. The real
    faults come from files of ../shared/data (an aborting JPEG, a panicking RLE) and a landmarks
    path that is a FIFO nobody writes (opening it blocks forever); the injected ones need
    FAULT_INJECTION_DIR on the case processes' PYTHONPATH.
    """
    from cbct_osteo import phantom

    root = tmp_path_factory.mktemp("hostile")
    cohort_root = phantom_cohort["root"]
    rows = []
    good = []
    for i in range(8):
        case = f"good{i}"
        if i < 4:
            folder = cohort_root / f"case{i}"
        else:
            folder = phantom.write_phantom(
                root / case, shape=phantom_cohort["shape"], voxel_mm=phantom_cohort["voxel_mm"], seed=i
            )
        rows.append(
            {
                "case_id": case,
                "volume": str(folder),
                "landmarks": str(Path(folder) / "landmarks.json"),
                "age": "70",
                "sex": "F",
            }
        )
        good.append(case)
    good_landmarks = str(cohort_root / "case0" / "landmarks.json")
    fifo = root / "landmarks_fifo.json"
    os.mkfifo(fifo)
    real = {
        "real_abort_jpeg": ("abort", str(jpeg_seven_of_eight_bits(shared_data, root / "abort_jpeg")), good_landmarks),
        "real_panic_rle": ("panic", str(rle_segment_offset_moved(shared_data, root / "panic_rle")), good_landmarks),
        "real_hang_fifo": ("hang", str(cohort_root / "case0"), str(fifo)),
    }
    injected = {f"injected_{kind}": kind for kind in INJECTED_FAULTS}
    # Hanging cases first, so their time limit runs while the others are measured.
    for case_id, (kind, volume, landmarks) in sorted(real.items(), key=lambda item: item[1][0] != "hang"):
        rows.insert(
            0 if kind == "hang" else len(rows) // 2,
            {"case_id": case_id, "volume": volume, "landmarks": landmarks, "age": "", "sex": ""},
        )
    for case_id, kind in injected.items():
        landmarks = root / f"fault-{kind}.json"
        landmarks.write_text("{}", encoding="utf-8")
        rows.insert(
            0 if kind == "hang" else len(rows) // 2,
            {
                "case_id": case_id,
                "volume": str(cohort_root / "case1"),
                "landmarks": str(landmarks),
                "age": "",
                "sex": "",
            },
        )
    manifest = manifest_writer(root / "manifest.csv", rows)
    return {"manifest": manifest, "good": good, "real": {k: v[0] for k, v in real.items()}, "injected": injected}
