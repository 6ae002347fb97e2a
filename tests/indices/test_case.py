"""analyse_case on the phantom against its truth, the landmarks/scan match check, and `measure`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cbct_osteo.cli import main
from cbct_osteo.indices import analyse_case
from cbct_osteo.indices.case import check_landmarks_match
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.volume import Volume, VolumeMeta, affine_from_axes


@pytest.fixture(scope="module")
def phantom_case(phantom_cohort):
    from cbct_osteo import phantom

    return phantom.make_phantom(shape=phantom_cohort["shape"], voxel_mm=phantom_cohort["voxel_mm"], seed=3)


def test_analyse_case_recovers_phantom_truth(phantom_case):
    result = analyse_case(phantom_case.volume, phantom_case.landmarks)
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    for side in ("left", "right"):
        truth = phantom_case.truth["sides"][side]["measurements"]
        measured = document["sides"][side]["measurements"]
        # Voxels of 0.6 mm with blur and noise: within about half a voxel.
        for mid in ("W", "S", "I"):
            assert measured[mid]["value"] == pytest.approx(truth[mid]["value"], abs=0.35), (side, mid)
        assert measured["W"]["method"] == "edge"
        ctmi = document["sides"][side]["indices"]["CTMI"]
        assert ctmi["value"] == measured["W"]["value"]
        # the category the TRUE width deserves (a test against the measured value could not fail);
        # the phantom's widths (2.4 and 3.2 mm) lie > 0.35 mm from the 3.1 mm cutoff... or the
        # measurement must say it is uncertain
        true_category = "low" if truth["W"]["value"] < 3.1 else "normal"
        if abs(truth["W"]["value"] - 3.1) > 2 * measured["W"]["uncertainty"]:
            assert ctmi["category"] == true_category, (side, truth["W"]["value"], ctmi)
        assert measured["W"]["quality"] in ("ok", "uncertain") and "notes" in measured["W"]
        cti_s = document["sides"][side]["indices"]["CTI_S"]
        assert cti_s["value"] == pytest.approx(measured["W"]["value"] / measured["S"]["value"])
    assert document["provenance"]["volume_fingerprint"] == phantom_case.volume.fingerprint()
    assert document["screening"]["result"] and "DXA" in document["screening"]["explanation"]


def test_manual_method_without_refinement(phantom_case):
    result = analyse_case(phantom_case.volume, phantom_case.landmarks, refine=False)
    assert result.sides["left"].measurements["W"].method == "manual"
    assert result.provenance["cortical_method"] == "manual"


def _volume(seed: int, uid: str) -> Volume:
    voxels = np.random.default_rng(seed).normal(size=(8, 8, 8)).astype(np.float32)
    return Volume(
        voxels,
        (0.5, 0.5, 0.5),
        affine_from_axes((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0.5,) * 3),
        VolumeMeta(series_uid=uid),
    )


def test_landmarks_for_another_scan_are_refused():
    volume = _volume(0, "1.2.3")
    check_landmarks_match(volume, LandmarkSet(), "l.json")  # nothing recorded: nothing to check
    check_landmarks_match(volume, LandmarkSet(series_uid="1.2.3", volume_fingerprint=volume.fingerprint()), "l.json")
    with pytest.raises(LoadError, match="l.json: was placed on series 9.9, but the volume is series 1.2.3"):
        check_landmarks_match(volume, LandmarkSet(series_uid="9.9"), "l.json")
    other = _volume(1, "1.2.3")
    with pytest.raises(LoadError, match="different volume.*--force"):
        check_landmarks_match(volume, LandmarkSet(volume_fingerprint=other.fingerprint()), "l.json")


def test_measure_command(phantom_cohort, tmp_path, capsys):
    root = phantom_cohort["root"]
    out = tmp_path / "results.json"
    assert (
        main(
            ["measure", str(root / "case1"), "--landmarks", str(root / "case1" / "landmarks.json"), "--json", str(out)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "CTMI" in printed and "Screening:" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    truth = phantom_cohort["truth"]["case1"]["sides"]["left"]["measurements"]["W"]["value"]
    assert document["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(truth, abs=0.35)
    assert (
        main(["measure", str(root / "case1"), "--landmarks", str(root / "case1" / "landmarks.json"), "--json", "-"])
        == 0
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["provenance"]["catalogue"] and "CTMI" in captured.err
    # Landmarks of another phantom: refused with a clear message, accepted with --force.
    code = main(["measure", str(root / "case2"), "--landmarks", str(root / "case1" / "landmarks.json")])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert main(["measure", str(root / "case2"), "--landmarks", str(root / "case1" / "landmarks.json"), "--force"]) == 0
