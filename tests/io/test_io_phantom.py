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
