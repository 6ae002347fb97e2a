"""The command line measures a case the way the user chose: ``--as-placed SIDE:ID``, a GUI session's choices.

Issue 16: W, S or I may be taken from the markers as placed while the rest stays edge-refined; the
CLI offers it as ``--as-placed`` on ``measure``, ``report`` and ``batch``, and a session saved by the
GUI (written here with the GUI's own Qt-free state, :mod:`cbct_osteo.gui.state`) measures with its
saved ``refine`` / ``as_placed`` unless the command line says otherwise. Each test runs the real
command and reads the real results JSON or CSV. The endosteal marker is dragged 0.8 mm into the
trabecular bone, so "as placed" (the marker distance, from the geometry) and "edge-refined" (near the
phantom's true width) are told apart by value as well as by the recorded method.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cbct_osteo.cli import main
from cbct_osteo.gui.state import CaseState, ViewSettings
from cbct_osteo.io.landmarks_file import read_landmarks, write_landmarks
from cbct_osteo.io.session_file import write_session
from cbct_osteo.measure.geometry import arch_from_points, measurement_frame
from cbct_osteo.measure.landmark_model import LandmarkModel

DRAG_MM = 0.8


def methods(document: dict) -> dict[tuple[str, str], str]:
    """(side, id) -> method of W, S and I in a results JSON."""
    return {
        (side, mid): document["sides"][side]["measurements"][mid]["method"]
        for side in ("left", "right")
        for mid in ("W", "S", "I")
    }


def placed_width(landmarks, side: str) -> float:
    """W between the markers along the measurement line (mm): the geometry, not the program's measurement."""
    points = landmarks.sides[side].points
    frame = measurement_frame(points["foramen_centre"], points["border_outer"], arch_from_points(landmarks.arch_points))
    return float(frame.position(points["border_inner"]) - frame.position(points["border_outer"]))


@pytest.fixture(scope="module")
def dragged(phantom_cohort, tmp_path_factory) -> dict:
    """case1 with the left endosteal marker dragged up: a landmarks file and GUI sessions of it."""
    root = phantom_cohort["root"]
    folder = tmp_path_factory.mktemp("dragged")
    landmarks = read_landmarks(root / "case1" / "landmarks.json")
    x, y, z = landmarks.sides["left"].points["border_inner"]
    landmarks.sides["left"].points["border_inner"] = (x, y, z + DRAG_MM)
    plain = write_landmarks(landmarks, folder / "landmarks.json")

    def session(name: str, view: ViewSettings) -> Path:
        state = CaseState(LandmarkModel(landmarks.copy()), view, landmarks.series_uid, landmarks.volume_fingerprint)
        return write_session(state.session(), folder / name)

    return {
        "volume": root / "case1",
        "plain": plain,
        "placed_w": placed_width(landmarks, "left"),
        "truth_w": phantom_cohort["truth"]["case1"]["sides"]["left"]["measurements"]["W"]["value"],
        "session_left_w": session("session_left_w.json", ViewSettings(as_placed=(("left", "W"),))),
        "session_no_refine": session("session_no_refine.json", ViewSettings(refine=False)),
        "folder": folder,
    }


def measure(volume: Path, landmarks: Path, out: Path, *options: str) -> dict:
    assert main(["measure", str(volume), "--landmarks", str(landmarks), "--json", str(out), *options]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_as_placed_takes_one_measurement_from_the_markers_the_rest_stays_refined(dragged, tmp_path):
    assert dragged["placed_w"] - dragged["truth_w"] > 0.6  # the drag is there to be seen
    refined = measure(dragged["volume"], dragged["plain"], tmp_path / "refined.json")
    assert set(methods(refined).values()) == {"edge"} and "as_placed" not in refined["provenance"]
    assert refined["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(dragged["truth_w"], abs=0.35)
    chosen = measure(
        dragged["volume"], dragged["plain"], tmp_path / "chosen.json", "--as-placed", "left:W", "--as-placed", "Right:s"
    )
    manual = {key for key, method in methods(chosen).items() if method == "manual"}
    assert manual == {("left", "W"), ("right", "S")}
    assert chosen["provenance"]["as_placed"] == [["left", "W"], ["right", "S"]]
    assert chosen["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(dragged["placed_w"], abs=1e-6)


@pytest.mark.parametrize("bad", ["middle:W", "left:Q", "left", "left:W:S", ""])
@pytest.mark.parametrize("command", ["measure", "report", "batch"])
def test_a_bad_as_placed_value_is_a_usage_error(command, bad, capsys):
    target = ["m.csv", "--out", "r.csv"] if command == "batch" else ["scan", "--landmarks", "l.json"]
    with pytest.raises(SystemExit) as stopped:
        main([command, *target, "--as-placed", bad])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--as-placed" in err and "SIDE is left or right, ID is W, S, I" in err


def test_report_takes_the_as_placed_choice_into_its_results(dragged, tmp_path, capsys):
    out = tmp_path / "results.json"
    options = ["-o", str(tmp_path / "report.pdf"), "--no-3d", "--json", str(out), "--as-placed", "left:I"]
    code = main(["report", str(dragged["volume"]), "--landmarks", str(dragged["plain"]), *options])
    assert code == 0 and (tmp_path / "report.pdf").stat().st_size > 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert {key for key, method in methods(document).items() if method == "manual"} == {("left", "I")}


def test_a_gui_session_measures_the_way_the_gui_did_unless_the_command_line_says_otherwise(dragged, tmp_path):
    session = json.loads(dragged["session_left_w"].read_text(encoding="utf-8"))
    assert session["format"] == "cbct-osteo-session" and session["settings"]["as_placed"] == [["left", "W"]]
    as_saved = measure(dragged["volume"], dragged["session_left_w"], tmp_path / "a.json")
    assert {key for key, method in methods(as_saved).items() if method == "manual"} == {("left", "W")}
    assert as_saved["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(dragged["placed_w"], abs=1e-6)
    no_refine = measure(dragged["volume"], dragged["session_no_refine"], tmp_path / "b.json")
    assert set(methods(no_refine).values()) == {"manual"}
    # the command line wins: --as-placed replaces the session's list, --no-refine its refinement
    overridden = measure(dragged["volume"], dragged["session_left_w"], tmp_path / "c.json", "--as-placed", "right:I")
    assert {key for key, method in methods(overridden).items() if method == "manual"} == {("right", "I")}
    assert overridden["sides"]["left"]["measurements"]["W"]["value"] == pytest.approx(dragged["truth_w"], abs=0.35)
    forced = measure(dragged["volume"], dragged["session_left_w"], tmp_path / "d.json", "--no-refine")
    assert set(methods(forced).values()) == {"manual"}


def test_batch_measures_each_session_its_way_and_applies_as_placed_to_every_case(dragged, manifest_writer, tmp_path):
    manifest = manifest_writer(
        tmp_path / "manifest.csv",
        [
            {"case_id": "plain", "volume": str(dragged["volume"]), "landmarks": str(dragged["plain"])},
            {"case_id": "session", "volume": str(dragged["volume"]), "landmarks": str(dragged["session_left_w"])},
        ],
    )

    def left_w(*options: str) -> dict[str, float]:
        out = tmp_path / f"results{len(options)}.csv"
        assert main(["batch", str(manifest), "--out", str(out), "--workers", "1", *options]) == 0
        with open(out, newline="", encoding="utf-8") as handle:
            return {row["case_id"]: float(row["left_W"]) for row in csv.DictReader(handle)}

    by_case = left_w()
    assert by_case["plain"] == pytest.approx(dragged["truth_w"], abs=0.35)  # edge-refined
    assert by_case["session"] == pytest.approx(dragged["placed_w"], abs=1e-4)  # the session's choice
    everywhere = left_w("--as-placed", "left:W")
    assert everywhere == pytest.approx({"plain": dragged["placed_w"], "session": dragged["placed_w"]}, abs=1e-4)
