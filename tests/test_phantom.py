"""The phantom's voxels agree with its ground truth; its DICOM reads back; options behave as documented."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

import cbct_osteo
from cbct_osteo.cli import main
from cbct_osteo.io.landmarks_file import LandmarkSet, read_landmarks
from cbct_osteo.phantom import (
    SMALL_SHAPE,
    SMALL_VOXEL_MM,
    PhantomOptions,
    ensure_demo_phantom,
    make_phantom,
    write_phantom,
)
from cbct_osteo.phantom.geometry import ANATOMY
from cbct_osteo.phantom.render import MATERIALS, RESCALE_INTERCEPT, Renderer
from cbct_osteo.phantom.truth import roi_points

SMALL_PHANTOM = {"shape": SMALL_SHAPE, "voxel_mm": SMALL_VOXEL_MM, "seed": 0}  # as the conftest fixtures

TINY = {"shape": (24, 96, 96), "voxel_mm": 0.6}
SOFT_CORTEX = (MATERIALS["soft_tissue"] + MATERIALS["cortical_bone"]) / 2
CORTEX_TRABECULAR = (MATERIALS["cortical_bone"] + MATERIALS["trabecular_bone"]) / 2
MARROW_BONE = (MATERIALS["marrow"] + MATERIALS["trabecular_bone"]) / 2


def _column(volume, xyz):
    """Index (j, i) of the voxel column nearest to patient point ``xyz``, its profile and the slice z (mm)."""
    _, j, i = np.rint(volume.patient_to_index(xyz)).astype(int)
    k = np.arange(volume.shape[0])
    z = volume.index_to_patient(np.stack([k, np.full(k.shape, j), np.full(k.shape, i)], axis=1))[:, 2]
    return (j, i), volume.voxels[:, j, i].astype(float), z


def _crossing(profile, z, level, k):
    """z (mm) where ``profile`` crosses ``level`` between samples k-1 and k (linear interpolation)."""
    a, b = profile[k - 1], profile[k]
    return z[k - 1] + (level - a) / (b - a) * (z[k] - z[k - 1])


def _arch_position(volume, j, i):
    x, y, _ = volume.index_to_patient([0, j, i])
    t, n = ANATOMY.arch_map(np.array([x]), np.array([y]))
    return float(t[0]), float(n[0])


# ---------------------------------------------------------------------- geometry on the voxels
@pytest.mark.parametrize("t_mm", [-55.0, -40.0, -24.0, 0.0, 10.0, 25.0, 40.0, 55.0])
def test_inferior_cortex_on_a_voxel_column_has_the_true_width(small_phantom, t_mm):
    volume = small_phantom.volume
    voxel = volume.spacing[0]
    (j, i), profile, z = _column(volume, ANATOMY.arch_point(t_mm))
    t_col, n_col = _arch_position(volume, j, i)
    assert abs(n_col) < voxel
    outer_k = int(np.argmax(profile >= SOFT_CORTEX))
    outer = _crossing(profile, z, SOFT_CORTEX, outer_k)
    inner_k = outer_k + int(np.argmax(profile[outer_k:] < CORTEX_TRABECULAR))
    inner = _crossing(profile, z, CORTEX_TRABECULAR, inner_k)
    assert outer == pytest.approx(small_phantom.truth["phantom"]["inferior_border_z_mm"], abs=0.1)
    assert inner - outer == pytest.approx(float(ANATOMY.inferior_width(t_col)), abs=voxel)


def test_width_profile_spans_the_arch_and_differs_between_sides(small_phantom):
    profile = small_phantom.truth["phantom"]["width_profile"]
    s, width = np.array(profile["s_mm"]), np.array(profile["W_mm"])
    assert s[0] == 0 and s[-1] == pytest.approx(small_phantom.truth["phantom"]["arch"]["length_mm"], abs=1.0)
    assert width.min() >= 1.5 and width.max() <= 5.0
    assert np.abs(np.diff(width)).max() < 0.1  # smooth: < 0.1 mm per mm of arch
    sides = small_phantom.truth["sides"]
    assert sides["left"]["measurements"]["W"]["value"] == pytest.approx(3.2, abs=0.01)
    assert sides["right"]["measurements"]["W"]["value"] == pytest.approx(2.43, abs=0.01)


@pytest.mark.parametrize("side", ["left", "right"])
def test_foramen_hole_has_the_true_centre_and_radius(small_phantom, side):
    volume, truth = small_phantom.volume, small_phantom.truth
    voxel = volume.spacing[0]
    foramen = truth["phantom"]["foramina"][side]
    centre = np.array(foramen["centre"])
    (_, _), profile, z = _column(volume, centre)
    k = int(np.argmin(np.abs(z - centre[2])))
    assert profile[k] < SOFT_CORTEX  # the centre is in the hole
    below = k
    while profile[below] < SOFT_CORTEX:
        below -= 1
    above = k
    while profile[above] < SOFT_CORTEX:
        above += 1
    bottom, top = _crossing(profile, z, SOFT_CORTEX, below + 1), _crossing(profile, z, SOFT_CORTEX, above)
    assert (bottom + top) / 2 == pytest.approx(centre[2], abs=voxel / 2)
    assert (top - bottom) / 2 == pytest.approx(foramen["radius_mm"], abs=voxel / 2)
    # The same hole seen along the arch (panoramic direction) is round: same radius.
    t_f = foramen["s_from_midline_mm"]
    along = np.linspace(-3.0, 3.0, 241)
    points = np.array([ANATOMY.arch_point(t_f + d, 4.0, foramen["height_above_border_mm"]) for d in along])
    idx = np.rint(volume.patient_to_index(points)).astype(int)
    in_hole = volume.voxels[idx[:, 0], idx[:, 1], idx[:, 2]] < SOFT_CORTEX
    assert along[in_hole].max() - along[in_hole].min() == pytest.approx(2 * foramen["radius_mm"], abs=2 * voxel)
    # S and I are the margins' heights above the inferior border.
    border = truth["phantom"]["inferior_border_z_mm"]
    measurements = truth["sides"][side]["measurements"]
    assert top - border == pytest.approx(measurements["S"]["value"], abs=voxel / 2)
    assert bottom - border == pytest.approx(measurements["I"]["value"], abs=voxel / 2)


def test_left_foramen_is_on_the_patients_left(small_phantom):
    foramina = small_phantom.truth["phantom"]["foramina"]
    assert foramina["left"]["centre"][0] > 20 and foramina["right"]["centre"][0] < -20
    assert small_phantom.landmarks.point("left", "foramen_centre")[0] > 0


@pytest.mark.parametrize("side", ["left", "right"])
def test_trabecular_roi_lies_in_trabecular_bone_with_the_true_bone_fraction(small_phantom, side):
    volume, truth = small_phantom.volume, small_phantom.truth
    x, y, z = roi_points(ANATOMY, side, samples=40)
    t, n = ANATOMY.arch_map(x, y)
    h = z - ANATOMY.border_z_mm
    margin = volume.spacing[0] / 2
    assert (ANATOMY.core_sdf(t, n, h, ANATOMY.inferior_width(t)) < -margin).all()
    assert (ANATOMY.canal_distance(t, n, h) > ANATOMY.canal_radius_mm + ANATOMY.canal_wall_mm + margin).all()
    assert (ANATOMY.foramen_sdf(t, n, h) > margin).all()
    assert all((ANATOMY.root_sdf(tooth, t, n, h) > margin).all() for tooth in ANATOMY.teeth)
    # Bone fraction of the clean voxels sampled on the ROI square of the cross-section.
    x, y, z = roi_points(ANATOMY, side)
    idx = np.rint(volume.patient_to_index(np.stack([x, y, z], -1).reshape(-1, 3))).astype(int)
    values = volume.voxels[idx[:, 0], idx[:, 1], idx[:, 2]]
    assert set(np.unique(values)) <= {MATERIALS["marrow"], MATERIALS["trabecular_bone"]}
    bv_tv = truth["sides"][side]["measurements"]["BV_TV"]["value"]
    assert (values > MARROW_BONE).mean() == pytest.approx(bv_tv, abs=0.06)
    assert bv_tv == pytest.approx(0.35, abs=0.05)


def test_bone_fraction_option_controls_the_texture():
    for fraction in (0.2, 0.5):
        case = make_phantom(**TINY, clean=True, bone_fraction=fraction)
        values = case.volume.voxels
        core = (values == MATERIALS["marrow"]) | (values == MATERIALS["trabecular_bone"])
        assert (values[core] == MATERIALS["trabecular_bone"]).mean() == pytest.approx(fraction, abs=0.03)


def test_landmarks_are_consistent_with_truth(small_phantom):
    marks, truth, volume = small_phantom.landmarks, small_phantom.truth, small_phantom.volume
    assert marks.series_uid == volume.meta.series_uid and marks.volume_fingerprint == volume.fingerprint()
    assert len(marks.arch_points) == 15
    assert [p[0] for p in marks.arch_points] == sorted(p[0] for p in marks.arch_points)  # right (-x) to left (+x)
    for side in ("left", "right"):
        m = truth["sides"][side]["measurements"]
        p = {
            kind: np.array(marks.point(side, kind))
            for kind in ("foramen_centre", "foramen_superior", "foramen_inferior", "border_outer", "border_inner")
        }
        for kind in p:  # all on the vertical line through the foramen centre
            assert p[kind][:2] == pytest.approx(p["foramen_centre"][:2], abs=1e-6)
        assert p["border_inner"][2] - p["border_outer"][2] == pytest.approx(m["W"]["value"], abs=1e-5)
        assert p["foramen_superior"][2] - p["border_outer"][2] == pytest.approx(m["S"]["value"], abs=1e-5)
        assert p["foramen_inferior"][2] - p["border_outer"][2] == pytest.approx(m["I"]["value"], abs=1e-5)
        assert p["foramen_centre"] == pytest.approx(truth["phantom"]["foramina"][side]["centre"], abs=1e-6)
        roi = marks.sides[side].trab_roi
        assert roi is not None and roi.size_mm == 5.0 and roi.shape == "square"
        assert p["border_inner"][2] + 0.5 <= roi.centre[2] - 2.5
        assert roi.centre[2] + 2.5 <= p["foramen_inferior"][2] - 0.5
    assert LandmarkSet.from_json(marks.to_json()).to_json() == marks.to_json()


# ---------------------------------------------------------------------- options, determinism, degradations
def test_same_seed_same_voxels_and_slabs_do_not_matter():
    first = make_phantom(**TINY, seed=7)
    second = make_phantom(**TINY, seed=7)
    other = make_phantom(**TINY, seed=8)
    assert np.array_equal(first.volume.voxels, second.volume.voxels)
    assert first.landmarks.to_json() == second.landmarks.to_json()
    assert not np.array_equal(first.volume.voxels, other.volume.voxels)
    renderer = Renderer(TINY["shape"], TINY["voxel_mm"], 7, PhantomOptions.resolve(False, {}))
    halves = np.concatenate([renderer.render(0, 9), renderer.render(9, 24)])
    assert np.array_equal(halves, first.volume.voxels)


def test_degraded_phantom_is_noisy_uncalibrated_and_differs_from_clean(small_phantom, small_phantom_noisy):
    clean, noisy = small_phantom.volume.voxels, small_phantom_noisy.volume.voxels
    assert clean.shape == noisy.shape and not np.array_equal(clean, noisy)
    assert small_phantom.truth["phantom"]["clean"] and not small_phantom_noisy.truth["phantom"]["clean"]
    # Homogeneous soft tissue in the lower lip: buccal of the chin, between the border and the crest.
    volume = small_phantom_noisy.volume
    k = np.arange(volume.shape[0])
    z = volume.index_to_patient(np.stack([k, 0 * k, 0 * k], 1))[:, 2] - ANATOMY.border_z_mm
    j = np.arange(volume.shape[1])
    yx = volume.index_to_patient(np.stack([0 * j, j, j], 1))
    xx, yy = np.meshgrid(yx[:, 0], yx[:, 1])
    t, n = ANATOMY.arch_map(xx, yy)
    plane = (np.abs(t) < 15) & (n > 9) & (n < 12.5)
    slab = (z > 6) & (z < 20)
    soft_noisy = noisy[slab][:, plane].astype(float)
    soft_clean = clean[slab][:, plane].astype(float)
    assert np.ptp(soft_clean) == 0 and soft_clean[0, 0] == MATERIALS["soft_tissue"]
    options = small_phantom_noisy.options
    assert soft_noisy.std() == pytest.approx(options.noise_sd, rel=0.1)
    # Gray values are not HU: soft tissue sits near the documented uncalibrated level, far from 40.
    levels = small_phantom_noisy.truth["phantom"]["gray_levels"]
    assert levels["units"] == "gray value"
    assert soft_noisy.mean() == pytest.approx(levels["soft_tissue"], abs=0.1 * options.gray(0) + 60)
    assert abs(soft_noisy.mean() - MATERIALS["soft_tissue"]) > 200


def test_individual_degradations_can_be_switched():
    base = make_phantom(**TINY, clean=True)
    noise_only = make_phantom(**TINY, clean=True, noise_sd=30.0)
    difference = noise_only.volume.voxels.astype(float) - base.volume.voxels
    assert difference.std() == pytest.approx(30.0, rel=0.1)
    blur_only = make_phantom(**TINY, clean=True, blur_sigma_mm=0.3)
    assert blur_only.volume.voxels.std() < base.volume.voxels.std()
    assert blur_only.volume.voxels.mean() == pytest.approx(base.volume.voxels.mean(), rel=0.01)


def test_invalid_parameters_are_refused_with_clear_messages():
    with pytest.raises(TypeError, match="unknown phantom option"):
        make_phantom(**TINY, noise=3)
    with pytest.raises(ValueError, match="voxel_mm"):
        make_phantom(shape=(20, 20, 20), voxel_mm=0.01)
    with pytest.raises(ValueError, match="shape"):
        make_phantom(shape=(20, 20), voxel_mm=0.5)
    with pytest.raises(ValueError, match="seed"):
        make_phantom(**TINY, seed=-1)
    with pytest.raises(ValueError, match="noise_model"):
        make_phantom(**TINY, noise_model="salt")


# ---------------------------------------------------------------------- DICOM
def test_written_series_reads_back_with_vendor_tags(phantom_dir, small_phantom_noisy):
    files = sorted((phantom_dir / "DICOM").iterdir())
    volume = small_phantom_noisy.volume
    assert len(files) == volume.shape[0]
    datasets = [pydicom.dcmread(f) for f in files]
    first = datasets[0]
    assert first.SOPClassUID == pydicom.uid.CTImageStorage and first.Modality == "CT"
    assert str(first.PatientName) == "Zanetti^Mariana" and first.PatientID == "PHANTOM-0001"
    assert first.PatientBirthDate == "19550612" and first.PatientSex == "F"
    assert float(first.KVP) == 90 and first.Manufacturer == "cbct-osteo phantom"
    assert [float(v) for v in first.PixelSpacing] == [0.35, 0.35] and float(first.SliceThickness) == 0.35
    assert first.RescaleIntercept == RESCALE_INTERCEPT and first.RescaleSlope == 1 and first.RescaleType == "US"
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1 and len({ds.SOPInstanceUID for ds in datasets}) == len(
        files
    )
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in datasets])
    k = np.arange(len(files))
    assert positions == pytest.approx(volume.index_to_patient(np.stack([k, 0 * k, 0 * k], 1)))
    stored = np.stack([ds.pixel_array for ds in datasets]).astype(np.int32) + RESCALE_INTERCEPT
    assert np.array_equal(stored, volume.voxels)
    marks = read_landmarks(phantom_dir / "landmarks.json")
    assert marks.series_uid == first.SeriesInstanceUID
    assert marks.volume_fingerprint == volume.fingerprint()  # computed slab by slab while writing
    truth = json.loads((phantom_dir / "truth.json").read_text())
    assert truth["sides"] == small_phantom_noisy.truth["sides"]


def test_multiframe_file_has_functional_groups(tmp_path, small_phantom):
    out = write_phantom(tmp_path / "mf", **SMALL_PHANTOM, clean=True, multiframe=True)
    files = list((out / "DICOM").iterdir())
    assert len(files) == 1
    ds = pydicom.dcmread(files[0])
    volume = small_phantom.volume
    assert ds.SOPClassUID == pydicom.uid.EnhancedCTImageStorage and int(ds.NumberOfFrames) == volume.shape[0]
    shared = ds.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [0.35, 0.35]
    assert [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert shared.PixelValueTransformationSequence[0].RescaleIntercept == RESCALE_INTERCEPT
    frames = ds.PerFrameFunctionalGroupsSequence
    assert len(frames) == volume.shape[0]
    last = [float(v) for v in frames[-1].PlanePositionSequence[0].ImagePositionPatient]
    assert last == pytest.approx(volume.index_to_patient([volume.shape[0] - 1, 0, 0]))
    assert np.array_equal(ds.pixel_array.astype(np.int32) + RESCALE_INTERCEPT, volume.voxels)
    assert read_landmarks(out / "landmarks.json").volume_fingerprint == volume.fingerprint()


@pytest.mark.parametrize("multiframe", [False, True])
def test_loader_reproduces_the_in_memory_phantom(tmp_path, multiframe):
    case = make_phantom(**TINY, seed=3)
    out = write_phantom(tmp_path / "p", **TINY, seed=3, multiframe=multiframe)
    loaded = cbct_osteo.load(out)
    assert np.array_equal(loaded.voxels, case.volume.voxels)
    assert loaded.affine == pytest.approx(case.volume.affine)
    assert (
        loaded.fingerprint() == case.volume.fingerprint() == read_landmarks(out / "landmarks.json").volume_fingerprint
    )
    assert loaded.meta.series_uid == case.landmarks.series_uid and loaded.meta.patient_id == "PHANTOM-0001"


def test_write_replaces_an_earlier_phantom_but_refuses_other_folders(tmp_path):
    out = tmp_path / "p"
    write_phantom(out, **TINY, multiframe=True)
    write_phantom(out, **TINY)
    assert len(list((out / "DICOM").iterdir())) == TINY["shape"][0]
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(ValueError, match="not empty"):
        write_phantom(tmp_path, **TINY)
    assert (tmp_path / "mine.txt").read_text() == "user data"


def test_progress_is_reported_and_an_interrupted_write_leaves_no_series(tmp_path):
    calls = []
    write_phantom(tmp_path / "ok", **TINY, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (24, 24) and [d for d, _ in calls] == sorted(d for d, _ in calls)

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    for multiframe in (False, True):
        with pytest.raises(Stop):
            write_phantom(tmp_path / f"stopped{multiframe}", **TINY, multiframe=multiframe, progress=stop)
        assert list((tmp_path / f"stopped{multiframe}").iterdir()) == []


def test_cli_writes_phantom_and_reports_bad_options(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["phantom", str(out), "--shape", "24", "96", "96", "--voxel", "0.6", "--seed", "2", "--clean"]) == 0
    summary = capsys.readouterr().out
    assert str(out) in summary and "true W left 3.20 mm" in summary
    truth = json.loads((out / "truth.json").read_text())
    assert truth["phantom"]["seed"] == 2 and truth["phantom"]["clean"] and truth["phantom"]["shape"] == [24, 96, 96]
    assert (out / "landmarks.json").is_file() and len(list((out / "DICOM").iterdir())) == 24
    assert main(["phantom", str(tmp_path / "bad"), "--voxel", "5"]) == 2
    assert "voxel_mm must be within" in capsys.readouterr().err


def test_demo_phantom_is_written_once(tmp_path):
    folder = ensure_demo_phantom(tmp_path / "demo")
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["phantom"]["shape"] == [140, 360, 360] and not truth["phantom"]["clean"]
    stamp = (folder / "truth.json").stat().st_mtime_ns
    assert ensure_demo_phantom(tmp_path / "demo") == folder
    assert (folder / "truth.json").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no staging folder left behind


def test_anatomy_is_the_same_in_mm_at_any_voxel_size(small_phantom):
    coarse = make_phantom(shape=(80, 220, 220), voxel_mm=0.5, clean=True)
    for side in ("left", "right"):
        for kind in ("foramen_centre", "border_inner", "border_outer"):
            assert coarse.landmarks.point(side, kind) == small_phantom.landmarks.point(side, kind)
        centre = np.array(coarse.landmarks.point(side, "foramen_centre"))
        for case in (coarse, small_phantom):
            k, j, i = np.rint(case.volume.patient_to_index(centre)).astype(int)
            assert case.volume.voxels[k, j, i] == MATERIALS["soft_tissue"]  # the hole, in both grids
