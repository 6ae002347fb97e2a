"""Volume geometry: index <-> patient mapping and fingerprints."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.volume import Volume, affine_from_axes


def _tilted_volume() -> Volume:
    tilt = np.deg2rad(18.5)
    column_dir = np.array([0.0, np.cos(tilt), -np.sin(tilt)])
    affine = affine_from_axes(
        origin_xyz=(-120.0, -100.0, 40.0),
        row_direction=(1.0, 0.0, 0.0),
        column_direction=column_dir,
        slice_direction=(0.0, 0.0, 1.0),
        spacing_zyx=(4.0, 0.5, 0.5),
    )
    voxels = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    return Volume(voxels=voxels, spacing=(4.0, 0.5, 0.5), affine=affine)


def test_index_to_patient_follows_dicom_axes() -> None:
    volume = _tilted_volume()
    origin = volume.index_to_patient([0, 0, 0])
    np.testing.assert_allclose(origin, [-120.0, -100.0, 40.0])
    # one column (x index) is 0.5 mm along the row direction (+x, patient left)
    np.testing.assert_allclose(volume.index_to_patient([0, 0, 1]) - origin, [0.5, 0.0, 0.0])
    # one row goes along the tilted column direction
    step = volume.index_to_patient([0, 1, 0]) - origin
    assert np.linalg.norm(step) == pytest.approx(0.5)
    assert step[2] < 0
    # one slice is 4 mm superior
    np.testing.assert_allclose(volume.index_to_patient([1, 0, 0]) - origin, [0.0, 0.0, 4.0])


def test_patient_to_index_round_trip() -> None:
    volume = _tilted_volume()
    rng = np.random.default_rng(1)
    zyx = rng.uniform(0, 4, size=(20, 3))
    np.testing.assert_allclose(volume.patient_to_index(volume.index_to_patient(zyx)), zyx, atol=1e-9)


def test_fingerprint_changes_with_voxels_and_geometry() -> None:
    volume = _tilted_volume()
    same = Volume(voxels=volume.voxels.copy(), spacing=volume.spacing, affine=volume.affine.copy())
    assert volume.fingerprint() == same.fingerprint()
    changed_voxels = volume.voxels.copy()
    changed_voxels[0, 0, 0] += 1
    assert Volume(changed_voxels, volume.spacing, volume.affine).fingerprint() != volume.fingerprint()
    moved = volume.affine.copy()
    moved[0, 3] += 1.0
    assert Volume(volume.voxels, volume.spacing, moved).fingerprint() != volume.fingerprint()


def test_volume_rejects_wrong_dimensions() -> None:
    with pytest.raises(ValueError, match="3D"):
        Volume(voxels=np.zeros((4, 4)), spacing=(1, 1, 1), affine=np.eye(4))
