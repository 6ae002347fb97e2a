"""The anatomical mandible's truth agrees with its geometry; the simulated CBCT looks and loads like one."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pydicom
import pytest

import cbct_osteo
from cbct_osteo.cli import main
from cbct_osteo.io.landmarks_file import read_landmarks
from cbct_osteo.phantom.anatomy import mandible_model
from cbct_osteo.phantom.anatomy_truth import ModelFields, side_truth

pytest.importorskip("itk", reason="itk-rtk (the [simulate] extra) is not installed")

#: A small, fast case: a 60 x 60 x 29 mm grid in the small field between the foramina, 0.4 mm voxels, 90 views.
SMALL_SIM = {"shape": (72, 150, 150), "voxel_mm": 0.4, "fov": "small", "projections": 90}  # ~15 s each


@pytest.fixture(scope="session")
def sim_implant():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(metal="implant", **SMALL_SIM)


@pytest.fixture(scope="session")
def sim_plain():
    from cbct_osteo.phantom.simulated import make_cbct_case

    return make_cbct_case(metal="none", **SMALL_SIM)


# ---------------------------------------------------------------------- truth from geometry
@pytest.mark.parametrize(
    "cortex, slope, tilt, porous",
    [
        ((3.0, 2.6), 10.0, 6.0, False),
        ((0.6, 5.0), 25.0, 20.0, True),
        ((0.6, 1.0), 0.0, 6.0, False),
        ((1.0, 2.0), 0.0, 0.0, False),
    ],
)
def test_truth_is_the_model_geometry(cortex, slope, tilt, porous):
    """The numerically found border point, W and heights equal the closed forms the model was built from."""
    model = mandible_model(cortex, slope, tilt, porous)
    fields = ModelFields(model)
    for k, side in enumerate(("left", "right")):
        truth = side_truth(model, side)
        foramen = model.foramen(side)
        assert truth["W"] == pytest.approx(cortex[k], abs=1e-4)
        assert truth["height_mm"] == pytest.approx(foramen.v_mm, abs=1e-4)
        foot = truth["points"]["border_outer"]
        assert abs(float(fields.body(foot[None])[0])) < 1e-5
        # The measurement line is the surface normal at the border point (perpendicular to the tangent).
        eps = 1e-3
        gradient = np.array(
            [
                (fields.body((foot + eps * e)[None])[0] - fields.body((foot - eps * e)[None])[0]) / (2 * eps)
                for e in np.eye(3)
            ]
        )
        tangent = truth["tangent"]
        gradient -= gradient @ tangent * tangent  # in the cross-section plane
        assert np.dot(-gradient / np.linalg.norm(gradient), truth["direction"]) > math.cos(math.radians(0.5))
        # The tilt shows: the line leans by the border tilt from the vertical.
        lean = math.degrees(math.acos(truth["direction"][2]))
        assert lean == pytest.approx(tilt, abs=0.5)
        assert (
            truth["S"] - truth["I"] > 2 * foramen.radius_mm - 1e-6
        )  # the oblique channel is cut longer than its diameter
        if porous:
            assert truth["W_compact"] == pytest.approx((1 - model.porous_fraction) * cortex[k], abs=1e-4)


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError, match="cortex width"):
        mandible_model((0.2, 3.0))
    with pytest.raises(ValueError, match="border slope"):
        mandible_model(border_slope_deg=40.0)


# ---------------------------------------------------------------------- the simulated image
def _region(volume, centre_xyz, radius_mm):
    """Voxel values within a sphere (patient mm)."""
    k, j, i = np.meshgrid(*[np.arange(n) for n in volume.shape], indexing="ij", sparse=True)
    index = volume.patient_to_index([centre_xyz])[0]
    r2 = ((k - index[0]) ** 2 + (j - index[1]) ** 2 + (i - index[2]) ** 2) * volume.spacing[0] ** 2
    return volume.voxels[r2 <= radius_mm**2].astype(float)


@pytest.mark.slow
def test_gray_values_are_uncalibrated_with_noise_and_cupping(sim_plain):
    volume = sim_plain.volume
    truth = sim_plain.truth
    assert truth["phantom"]["gray_map"]["units"] == "gray value (uncalibrated)"
    # Soft tissue (the tongue, inside the arch) is not at 0 HU; noise is there.
    tongue = _region(volume, (0.0, 0.0, -6.0), 3.0)
    assert abs(np.median(tongue) - 0.0) > 100
    assert np.std(tongue) > 15
    # Cupping (with truncation by the head around the field): soft tissue under the chin, in the
    # middle of the field, reads lower than soft tissue under the body near the field's edge.
    middle = _region(volume, (0.0, -14.0, -19.0), 2.0)
    for x in (-26.0, 26.0):
        edge = _region(volume, (x, -14.0, -19.0), 2.0)
        assert np.median(middle) < np.median(edge) - 10


def _shell(volume, centre_xyz, inner_mm, outer_mm, half_height_mm=5.0):
    """Voxel values in a vertical cylindrical shell around a point (patient mm)."""
    k, j, i = np.meshgrid(*[np.arange(n) for n in volume.shape], indexing="ij", sparse=True)
    index = volume.patient_to_index([centre_xyz])[0]
    radial = np.hypot(j - index[1], i - index[2]) * volume.spacing[1]
    keep = (radial >= inner_mm) & (radial <= outer_mm) & (np.abs(k - index[0]) * volume.spacing[0] <= half_height_mm)
    return volume.voxels[keep].astype(float)


@pytest.mark.slow
def test_metal_makes_streaks_near_the_implant(sim_implant, sim_plain):
    """4-10 mm from the implant (beyond the tooth it replaced) the image departs from the metal-free
    scan well beyond the noise; at the same place on the metal-free side it does not."""
    model = mandible_model()
    implant = model.section_point(29.0, 0.0, float(model.profile("height", 29.0)) - 9.5)  # its lower half, in the field
    mirrored = implant * np.array([-1.0, 1.0, 1.0])

    def departure(centre):
        a, b = _shell(sim_implant.volume, centre, 4.0, 10.0), _shell(sim_plain.volume, centre, 4.0, 10.0)
        keep = (a < 4000) & (b > -900)  # not titanium, inside the field
        return float(np.sqrt(np.mean((a[keep] - b[keep]) ** 2)))

    assert _region(sim_implant.volume, implant, 2.0).max() > 6000  # the titanium
    assert departure(implant) > 1.4 * departure(mirrored)


@pytest.mark.slow
def test_written_dicom_loads_with_the_case_geometry(tmp_path, sim_plain):
    from cbct_osteo.phantom.simulated import write_cbct_case

    out = write_cbct_case(tmp_path / "case", metal="none", **SMALL_SIM)
    volume = cbct_osteo.load(out)
    assert volume.shape == sim_plain.volume.shape
    np.testing.assert_allclose(volume.spacing, (0.4, 0.4, 0.4), atol=1e-6)
    np.testing.assert_allclose(volume.affine, sim_plain.volume.affine, atol=1e-4)
    np.testing.assert_array_equal(volume.voxels, sim_plain.volume.voxels)
    first = pydicom.dcmread(sorted((out / "DICOM").glob("*.dcm"))[0])
    assert first.RescaleType == "US"
    landmarks = read_landmarks(out / "landmarks.json")
    assert landmarks.volume_fingerprint == volume.fingerprint()
    truth = json.loads((out / "truth.json").read_text())
    assert truth["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(3.0, abs=1e-6)
    # The true landmarks lie inside the scan.
    index = volume.patient_to_index([landmarks.sides[s].points["border_outer"] for s in ("left", "right")])
    assert np.all(index >= 0) and np.all(index <= np.array(volume.shape) - 1)


@pytest.mark.slow
def test_cli_writes_a_simulated_case(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(
        [
            "phantom",
            str(out),
            "--simulate",
            "cbct",
            "--shape",
            "72",
            "150",
            "150",
            "--voxel",
            "0.4",
            "--fov",
            "small",
            "--projections",
            "60",
            "--cortex-mm",
            "1.0",
            "2.0",
            "--border-slope-deg",
            "20",
            "--porous-cortex",
            "--jpeg2000",
        ]
    )
    assert code == 0
    assert "simulated CBCT written" in capsys.readouterr().out
    truth = json.loads((out / "truth.json").read_text())
    assert truth["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(1.0, abs=1e-6)
    assert truth["phantom"]["anatomy"]["border_slope_deg"] == 20.0
    assert truth["phantom"]["anatomy"]["porous_cortex"] is True
    assert cbct_osteo.load(out).shape == (72, 150, 150)
    first = pydicom.dcmread(sorted((out / "DICOM").glob("*.dcm"))[0])
    assert first.file_meta.TransferSyntaxUID == pydicom.uid.JPEG2000Lossless
    assert truth["phantom"]["layout"] == "one file per slice, JPEG 2000 lossless"


def test_cli_refuses_simulation_options_without_simulate(tmp_path, capsys):
    assert main(["phantom", str(tmp_path / "x"), "--metal", "implant"]) == 2
    assert "--simulate cbct" in capsys.readouterr().err
    assert main(["phantom", str(tmp_path / "y"), "--simulate", "cbct", "--clean"]) == 2


def test_missing_itk_rtk_gives_a_clear_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "itk", None)
    code = main(["phantom", str(tmp_path / "z"), "--simulate", "cbct", "--shape", "16", "40", "40", "--voxel", "0.4"])
    assert code == 2
    assert "pip install 'cbct-osteo[simulate]'" in capsys.readouterr().err
