"""Round trip through DICOM: the phantom written as a series, and as one Enhanced file, loads back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cbct_osteo import phantom
from cbct_osteo.io.dicom_loader import load_series

TINY = {"shape": (24, 96, 96), "voxel_mm": 0.6, "seed": 3}


@pytest.fixture(scope="module")
def truth():
    return phantom.make_phantom(**TINY).volume


@pytest.mark.parametrize("multiframe", [False, True], ids=["classic", "enhanced"])
def test_phantom_loads_back_with_its_voxels_and_geometry(truth, multiframe: bool, tmp_path: Path) -> None:
    phantom.write_phantom(tmp_path, multiframe=multiframe, **TINY)
    volume = load_series(tmp_path)  # the folder also holds truth.json and landmarks.json: skipped
    assert volume.shape == truth.shape
    assert volume.voxels.dtype.kind == "i" and volume.voxels.dtype.itemsize <= 2
    np.testing.assert_allclose(volume.voxels, truth.voxels, atol=0.5)
    np.testing.assert_allclose(volume.affine, truth.affine, atol=1e-4)
    assert volume.meta.patient_name == "Zanetti^Mariana" and volume.meta.patient_id == "PHANTOM-0001"
    assert volume.meta.warnings == ()


def test_uncalibrated_cbct_gray_values_are_not_called_hu(phantom_dir) -> None:
    """The degraded phantom says RescaleType US, as CBCT exports with uncalibrated gray values do."""
    import cbct_osteo

    assert cbct_osteo.load(phantom_dir).meta.units == "gray value"


@pytest.mark.parametrize("multiframe", [False, True], ids=["classic", "enhanced"])
def test_slice_thickness_is_recorded_from_the_header_or_not_at_all(multiframe: bool, tmp_path: Path) -> None:
    """SliceThickness of each classic file / the Enhanced file's Pixel Measures group -> meta; absent -> absent."""
    from pydicom import dcmread

    from cbct_osteo.measure.resolution import slice_thickness
    from cbct_osteo.volume import SLICE_THICKNESS_KEY

    phantom.write_phantom(tmp_path, multiframe=multiframe, **TINY)
    files = sorted((tmp_path / "DICOM").iterdir())
    for thickness in (2.4, None):  # thicker than the 0.6 mm spacing (overlapping reconstruction), then absent
        for path in files:
            ds = dcmread(path)
            holder = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0] if multiframe else ds
            if thickness is None:
                del holder.SliceThickness
            else:
                holder.SliceThickness = thickness
            ds.save_as(path)
        volume = load_series(tmp_path)
        assert volume.spacing[0] == pytest.approx(TINY["voxel_mm"])
        if thickness is None:
            assert SLICE_THICKNESS_KEY not in volume.meta.extra
            assert slice_thickness(volume) == pytest.approx(TINY["voxel_mm"])  # the spacing stands in
        else:
            assert volume.meta.extra[SLICE_THICKNESS_KEY] == pytest.approx(thickness)
            assert slice_thickness(volume) == pytest.approx(thickness)
