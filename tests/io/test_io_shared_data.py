"""The loader on the team's real DICOM corpus (../shared/data, facts from its SOURCES.md)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.pixels import apply_modality_lut, pixel_array

from cbct_osteo.io.dicom_loader import load_series
from cbct_osteo.io.discovery import discover_series
from cbct_osteo.io.errors import LoadError
from cbct_osteo.volume import SLICE_THICKNESS_KEY, Volume

#: The corpus path as tests/conftest.py defines it (needed at collection time, for parametrisation).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ROBUSTNESS = SHARED_DATA / "robustness"
ROBUSTNESS_FILES = sorted(p for p in ROBUSTNESS.rglob("*") if p.is_file()) if ROBUSTNESS.is_dir() else []
SKULL = "real_volumes/skull_ct_medimodel_dicomdir"
TILT = "real_volumes/head_ct_gantry_tilt_ge"
TOSHIBA = "real_volumes/spine_ct_oblique_coronal_mpr_toshiba"
CORNERSTONE = "robustness/cornerstone_ct_transfer_syntaxes"


def _header(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(path, stop_before_pixels=True)


@pytest.fixture(scope="module")
def skull(shared_data: Path) -> Volume:
    return load_series(shared_data / SKULL / "DICOMDIR")


def test_skull_dicomdir_opens_the_axial_series_3(skull: Volume, shared_data: Path) -> None:
    assert skull.shape == (67, 512, 512)
    assert skull.spacing == pytest.approx((2.5, 0.488281, 0.488281), abs=1e-4)
    assert skull.voxels.dtype == np.int16
    assert skull.meta.series_number == "3" and skull.meta.units == "HU"
    # axial, head first supine: x = left, y = posterior, z = superior; first slice at z = -19.25
    np.testing.assert_allclose(skull.axis_directions(), [[0, 0, 1], [0, 1, 0], [1, 0, 0]], atol=1e-6)
    assert skull.index_to_patient([0, 0, 0])[2] == pytest.approx(-19.25)
    assert skull.index_to_patient([66, 0, 0])[2] == pytest.approx(145.75)
    # padding (-2000 stored) became the minimum real value, rescale -1024 applied
    assert skull.voxels.min() >= -1024 and skull.voxels.max() > 1000


def test_skull_slices_match_pydicom_in_position_order(skull: Volume, shared_data: Path) -> None:
    files = [Path(f) for f in skull.meta.source_files]
    z = [float(_header(f).ImagePositionPatient[2]) for f in files]
    assert z == sorted(z)
    for k in (0, 33, 66):
        ds = dcmread(files[k])
        expected = apply_modality_lut(pixel_array(ds), ds)
        padded = pixel_array(ds) == -2000
        np.testing.assert_array_equal(skull.voxels[k][~padded], expected[~padded])


def test_skull_discovery_reports_the_missing_file_and_reference_images(shared_data: Path) -> None:
    found = discover_series(shared_data / SKULL / "DICOMDIR")
    by_number = {s.series_number: s for s in found}
    assert {k: by_number[k].n_slices for k in ("3", "2", "601", "602")} == {"3": 67, "2": 34, "601": 110, "602": 88}
    assert any("I103" in p and "excluded 1 image" in p for p in by_number["601"].problems)
    missing = [s for s in found if s.n_slices == 0]
    assert len(missing) == 1 and "DICOM/I303 but the file is missing" in missing[0].problems[0]
    assert any("I303" in note for note in found.notes)
    assert any("non-square pixels: 0.545455 mm" in p for p in by_number["1"].problems)
    # the folder, searched recursively, gives the same series
    assert {s.uid for s in discover_series(shared_data / SKULL) if s.n_slices} == {s.uid for s in found if s.n_slices}


def test_gantry_tilt_keeps_true_geometry_and_resamples_uneven_spacing(shared_data: Path) -> None:
    folder = shared_data / TILT
    volume = load_series(folder)
    positions = np.array(
        sorted((np.array(_header(p).ImagePositionPatient, float) for p in folder.glob("*.dcm")), key=lambda p: p[2])
    )
    assert volume.shape == (37, 512, 512)  # 28 slices at 4 then 7 mm, resampled onto a 4 mm grid
    np.testing.assert_allclose(volume.index_to_patient([0, 0, 0]), positions[0], atol=1e-4)
    np.testing.assert_allclose(volume.index_to_patient([36, 0, 0]), positions[-1], atol=1e-3)
    # the slice step follows the positions (straight up in z), not the tilted normal
    step = volume.affine[:3, 0]
    np.testing.assert_allclose(step / np.linalg.norm(step), [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(volume.affine[:3, 1] / 0.4882812, [0, 0.948, -0.317], atol=1e-3)
    assert any("18.5 degrees" in w for w in volume.meta.warnings)
    assert any("not uniform" in w for w in volume.meta.warnings)
    with pytest.raises(LoadError, match="not uniform"):
        load_series(folder, policy="strict")


def test_toshiba_oblique_mpr_excludes_the_reference_image(shared_data: Path) -> None:
    folder = shared_data / TOSHIBA
    volume = load_series(folder)
    assert volume.shape == (33, 512, 512)
    assert volume.spacing == pytest.approx((3.0, 0.633, 0.633), abs=1e-3)
    assert not any(f.endswith("CT000042") for f in volume.meta.source_files)
    assert any("CT000042" in w for w in volume.meta.warnings)
    iop = np.array(_header(folder / "CT000043").ImageOrientationPatient, float)
    np.testing.assert_allclose(volume.axis_directions()[2], iop[:3], atol=1e-4)
    np.testing.assert_allclose(volume.axis_directions()[1], iop[3:], atol=1e-4)
    assert "古橋" in volume.meta.patient_name


@pytest.mark.parametrize("path", ROBUSTNESS_FILES, ids=lambda p: str(p.relative_to(ROBUSTNESS)))
def test_every_robustness_file_loads_or_fails_cleanly(path: Path, shared_data: Path) -> None:
    try:
        volume = load_series(path)
    except LoadError as exc:
        assert str(exc)  # a message naming the file (or the DICOMDIR's series) and the problem
        return
    assert volume.voxels.ndim == 3 and volume.voxels.size > 0
    assert np.isfinite(volume.affine).all()


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.53", "1.2.840.10008.1.2.4.55"])
def test_undecodable_jpeg_processes_name_the_syntax(syntax: str, shared_data: Path) -> None:
    path = next((shared_data / CORNERSTONE).glob(f"*{syntax}.dcm"))
    with pytest.raises(LoadError) as caught:
        load_series(path)
    assert path.name in str(caught.value) and syntax in str(caught.value)


def test_every_lossless_syntax_gives_the_same_ct_values(shared_data: Path) -> None:
    folder = shared_data / CORNERSTONE
    reference = load_series(folder / "CTImage.dcm").voxels
    lossless = [
        "1.2.840.10008.1.2.dcm",
        "1.2.840.10008.1.2.1.dcm",
        "1.2.840.10008.1.2.2.dcm",
        "1.2.840.10008.1.2.1.99.dcm",
        "1.2.840.10008.1.2.5.dcm",
        "1.2.840.10008.1.2.4.57.dcm",
        "1.2.840.10008.1.2.4.70.dcm",
        "1.2.840.10008.1.2.4.80.dcm",
        "1.2.840.10008.1.2.4.90.dcm",
    ]
    for suffix in lossless:
        path = next(folder.glob(f"CTImage.dcm_*_{suffix}"))
        np.testing.assert_array_equal(load_series(path).voxels, reference, err_msg=path.name)


@pytest.mark.parametrize(
    "name",
    [
        "pydicom_data/693_UNCR.dcm",
        "pydicom_data/MR2_UNCR.dcm",
        "pydicom_data/mlut_18.dcm",
        "pydicom_data/eCT_Supplemental.dcm",
        "pydicom_test_files/CT_small.dcm",
        "pydicom_data/JLSL_16_15_1_1F.dcm",
        "pydicom_data/emri_small_big_endian.dcm",
    ],
)
def test_values_match_pydicom_modality_lut(name: str, shared_data: Path) -> None:
    """BitsStored 14, non-integer slope, Modality LUT Sequence, Enhanced CT, signed 15-bit, big endian."""
    path = ROBUSTNESS / name
    volume = load_series(path)
    ds = dcmread(path)
    frames = pixel_array(ds)
    frames = frames[None] if frames.ndim == 2 else frames
    if "SharedFunctionalGroupsSequence" in ds:  # pydicom's LUT ignores functional groups: apply them here
        transform = ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0]
        expected = frames * float(transform.RescaleSlope) + float(transform.RescaleIntercept)
        # frames are stacked along the slice normal (row x column), whatever their order in the file
        iop = np.array(ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient, float)
        normal = np.cross(iop[:3], iop[3:])
        along = [
            np.dot(f.PlanePositionSequence[0].ImagePositionPatient, normal) for f in ds.PerFrameFunctionalGroupsSequence
        ]
        frames, expected = frames[np.argsort(along)], expected[np.argsort(along)]
    else:
        expected = apply_modality_lut(frames, ds)
    real = np.ones(frames.shape, bool) if "PixelPaddingValue" not in ds else frames != ds.PixelPaddingValue
    np.testing.assert_allclose(volume.voxels[real], expected[real], rtol=1e-6)
    assert (volume.voxels[~real] == expected[real].min()).all()  # padding shown as the background


def test_enhanced_ct_takes_geometry_from_functional_groups(shared_data: Path) -> None:
    volume = load_series(ROBUSTNESS / "pydicom_data/eCT_Supplemental.dcm")
    assert volume.shape == (2, 512, 512)
    assert volume.spacing[1:] == pytest.approx((0.388672, 0.388672))
    # its Pixel Value Transformation says Rescale Type "US" (unspecified): not claimed as HU
    assert volume.meta.units == "gray value"
    # its slice thickness is only in the Shared Functional Groups' Pixel Measures (10 mm)
    ds = _header(ROBUSTNESS / "pydicom_data/eCT_Supplemental.dcm")
    measures = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert "SliceThickness" not in ds and float(measures.SliceThickness) == 10.0
    assert volume.meta.extra[SLICE_THICKNESS_KEY] == 10.0


@pytest.mark.parametrize("scan", [SKULL + "/DICOMDIR", TILT, TOSHIBA, "real_volumes/vhp_male_head_mandible"])
def test_the_slice_thickness_of_real_series_is_recorded(scan: str, shared_data: Path) -> None:
    """Classic series: the thickest SliceThickness of the loaded files (pydicom's reading), e.g. 1.5 mm
    slices every 0.5 mm on the head CT, 4 and 7 mm slices on the gantry-tilt scan."""
    volume = load_series(shared_data / scan)
    thicknesses = {float(_header(Path(p)).SliceThickness) for p in volume.meta.source_files}
    assert volume.meta.extra[SLICE_THICKNESS_KEY] == max(thicknesses)
    if scan == TILT:
        assert thicknesses == {4.0, 7.0}


def test_all_dicomdir_variants_list_the_same_series(shared_data: Path) -> None:
    folder = ROBUSTNESS / "pydicom_test_files/dicomdirtests"
    reference = {(s.uid, s.n_slices) for s in discover_series(folder / "DICOMDIR")}
    assert len(reference) >= 5
    for variant in ("DICOMDIR-implicit", "DICOMDIR-bigEnd", "DICOMDIR-reordered", "DICOMDIR-nooffset"):
        assert {(s.uid, s.n_slices) for s in discover_series(folder / variant)} == reference, variant


def test_corrupt_jpeg2000_message_keeps_the_decoders_reasons(shared_data: Path) -> None:
    """pydicom's generic 'all plugins failed' header alone tells the user nothing: keep the reasons."""
    with pytest.raises(LoadError) as info:
        load_series(ROBUSTNESS / "pydicom_test_files/JPEG2000-embedded-sequence-delimiter.dcm")
    message = str(info.value)
    assert "JPEG2000-embedded-sequence-delimiter.dcm" in message and "JPEG 2000" in message
    assert "pylibjpeg:" in message
