"""scan_warnings on real scans: the loader's classified facts reach it, without any file name."""

from __future__ import annotations

import shutil
from pathlib import Path

from cbct_osteo import load
from cbct_osteo.io.scan_warnings import scan_warnings
from cbct_osteo.volume import Volume, VolumeMeta

VHP = "real_volumes/vhp_male_head_mandible"


def test_missing_slice_of_a_real_series_is_a_warning_without_file_names(shared_data: Path, tmp_path: Path) -> None:
    for k in (60, 61, 62, 64, 65):  # J.063 left out: one slice missing
        shutil.copy(shared_data / VHP / f"J.{k:03d}", tmp_path / f"J.{k:03d}")
    volume = load(tmp_path)
    assert any("J.06" in w for w in volume.meta.warnings)  # the loader's own texts name the files (for info)
    warnings = {w.code: w.message for w in scan_warnings(volume)}
    assert set(warnings) >= {"missing_slices", "interpolated_slices"}
    assert "1 slice(s) missing in 1 gap(s)" in warnings["missing_slices"]
    assert not any("J.0" in message for message in warnings.values())
    assert "uncalibrated" not in warnings  # a CT in HU


def test_tilted_real_ct_gives_tilt_and_coarse_slices(shared_data: Path) -> None:
    codes = [w.code for w in scan_warnings(load(shared_data / "real_volumes/head_ct_gantry_tilt_ge"))]
    assert codes[:1] == ["coarse_slices"]
    assert {"gantry_tilt", "interpolated_slices", "oblique"} <= set(codes)


def test_volumes_without_loader_facts_fall_back_on_the_texts_minus_file_names(small_phantom) -> None:
    meta = VolumeMeta(units="HU", warnings=("missing slices: 1 between 1.50 and 4.50 mm (Smith_John.dcm, J.052)",))
    volume = Volume(small_phantom.volume.voxels, small_phantom.volume.spacing, small_phantom.volume.affine, meta)
    (warning,) = scan_warnings(volume)
    assert warning.code == "missing_slices" and "Smith" not in warning.message and "J.052" not in warning.message
