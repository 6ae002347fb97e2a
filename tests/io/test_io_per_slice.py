"""Per-slice variations real exports have, built from real slices of the Visible Human head CT.

Each test copies a few consecutive slices of ../shared/data/real_volumes/vhp_male_head_mandible
(12-bit unsigned stored, RescaleIntercept -1200, HU), rewrites some of them with pydicom the way
real exports differ, and compares with the load of the unmodified copy: the independent truth
is that the HU of every voxel must not change.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from cbct_osteo import load
from cbct_osteo.io.errors import LoadError

VHP = "real_volumes/vhp_male_head_mandible"
SLICES = [f"J.{k:03d}" for k in range(60, 66)]  # mandibular body level: bone, teeth, soft tissue, air


@pytest.fixture(scope="module")
def vhp_slices(shared_data: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("vhp6")
    for name in SLICES:
        shutil.copy(shared_data / VHP / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def reference(vhp_slices: Path):
    return load(vhp_slices)


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def _rewrite(path: Path, change) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path)
        change(ds)
        ds.save_as(path)


def _lowest_slice(folder: Path) -> Path:
    """The file of the first slice along the normal (the one a loader would take as 'first')."""

    def z(path: Path) -> float:
        return float(dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])

    return min((p for p in folder.iterdir()), key=z)


def test_slices_differing_in_bits_stored_give_identical_hu(vhp_slices: Path, reference, tmp_path: Path) -> None:
    folder = _copy(vhp_slices, tmp_path / "mixed")
    lowest = _lowest_slice(folder)
    others = sorted(p for p in folder.iterdir() if p != lowest)

    def widen(bits: int):
        def change(ds) -> None:
            ds.BitsStored, ds.HighBit = bits, bits - 1

        return change

    _rewrite(lowest, widen(16))  # the first slice: a loader using its Bits Stored for all would not mask
    _rewrite(others[0], widen(13))

    def overlay_bits(ds) -> None:  # 12 bits stored, the upper 4 bits hold an overlay DICOM says to ignore
        values = ds.pixel_array.astype(np.uint16) | np.uint16(0xA000)
        ds.PixelData = values.tobytes()

    _rewrite(others[2], overlay_bits)
    volume = load(folder)
    assert volume.shape == reference.shape == (6, 512, 512)
    assert volume.voxels.dtype == reference.voxels.dtype
    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    assert volume.meta.units == "HU"
    assert any("Bits Stored (12, 13, 16)" in w for w in volume.meta.warnings)


def test_a_slice_whose_bits_sit_high_in_the_word_gives_identical_hu(
    vhp_slices: Path, reference, tmp_path: Path
) -> None:
    """Bits Stored 12 with High Bit 15 (values in bits 4-15, the low bits free for overlays)."""
    folder = _copy(vhp_slices, tmp_path / "high")

    def high(ds) -> None:
        ds.PixelData = ((ds.pixel_array.astype(np.uint16) << 4) | np.uint16(0x5)).tobytes()
        ds.HighBit = 15

    _rewrite(sorted(folder.iterdir())[4], high)
    volume = load(folder)
    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    assert any("High Bit 15 with Bits Stored 12" in w for w in volume.meta.warnings)


def test_slices_differing_in_pixel_representation_give_identical_hu(
    vhp_slices: Path, reference, tmp_path: Path
) -> None:
    folder = _copy(vhp_slices, tmp_path / "signed")

    def to_signed(ds) -> None:  # same stored numbers (all < 4096), now as signed 16-bit
        ds.PixelRepresentation, ds.BitsStored, ds.HighBit = 1, 16, 15

    _rewrite(sorted(folder.iterdir())[1], to_signed)
    volume = load(folder)
    np.testing.assert_array_equal(volume.voxels, reference.voxels.astype(np.float32))
    assert any("Pixel Representation" in w for w in volume.meta.warnings)


def test_rescale_and_window_per_slice(vhp_slices: Path, reference, tmp_path: Path) -> None:
    folder = _copy(vhp_slices, tmp_path / "rescale")
    target = sorted(folder.iterdir())[2]

    def halve_slope(ds) -> None:  # stored values doubled, slope 0.5: the same HU
        ds.PixelData = (ds.pixel_array.astype(np.uint16) * 2).tobytes()
        ds.BitsStored, ds.HighBit, ds.RescaleSlope = 16, 15, 0.5

    _rewrite(target, halve_slope)
    for k, path in enumerate(sorted(folder.iterdir())):
        _rewrite(path, lambda ds, k=k: setattr(ds, "WindowCenter", 40 + 100 * k))
    volume = load(folder)
    np.testing.assert_array_equal(volume.voxels, reference.voxels.astype(np.float32))


@pytest.mark.parametrize(
    "keyword, value, expected",
    [
        ("BitsAllocated", 32, "Bits Allocated"),
        ("PhotometricInterpretation", "MONOCHROME1", "Photometric Interpretation"),
    ],
)
def test_what_cannot_be_stacked_is_refused_by_name(vhp_slices: Path, tmp_path: Path, keyword, value, expected) -> None:
    folder = _copy(vhp_slices, tmp_path / "bad")
    target = sorted(folder.iterdir())[3]

    def change(ds) -> None:
        if keyword == "BitsAllocated":
            ds.PixelData = ds.pixel_array.astype(np.uint32).tobytes()
        setattr(ds, keyword, value)

    _rewrite(target, change)
    with pytest.raises(LoadError, match=expected) as caught:
        load(folder)
    assert target.name in str(caught.value)


def _sr_dose_report(like: Path, path: Path) -> None:
    """A Radiation Dose SR (no pixels) in the same series, as scanners export it."""
    ref = dcmread(like, stop_before_pixels=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.67"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "SR", ref.SeriesInstanceUID, ref.StudyInstanceUID
    ds.save_as(path, enforce_file_format=True)


def test_scout_dose_screen_and_dose_report_in_the_series_are_set_apart(
    vhp_slices: Path, reference, tmp_path: Path
) -> None:
    folder = _copy(vhp_slices, tmp_path / "extras")
    source = sorted(folder.iterdir())[0]
    scout, screen = folder / "SCOUT", folder / "DOSE_SCREEN"
    shutil.copy(source, scout)
    shutil.copy(source, screen)

    def as_scout(ds) -> None:  # same size and orientation: only ImageType tells it apart
        ds.SOPInstanceUID = generate_uid()
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        ds.ImagePositionPatient = [-125.2, -53.5, -150.0]

    def as_screen(ds) -> None:  # a dose screen capture: Secondary Capture, no position
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.SOPInstanceUID = generate_uid()
        del ds.ImagePositionPatient

    _rewrite(scout, as_scout)
    _rewrite(screen, as_screen)
    _sr_dose_report(source, folder / "DOSE_SR")
    volume = load(folder)
    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    np.testing.assert_allclose(volume.affine, reference.affine)
    notes = " ".join(volume.meta.warnings)
    assert "localizer/scout" in notes and "Secondary Capture" in notes
