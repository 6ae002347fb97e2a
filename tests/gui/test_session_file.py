"""Session files: round trip, autosave location, newer versions refused, other scans refused."""

from __future__ import annotations

import json

import pytest

from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import LandmarkSet, SideLandmarks, TrabecularRoi
from cbct_osteo.io.session_file import Session, autosave_path, read_session, write_session


def _session() -> Session:
    landmarks = LandmarkSet(arch_points=[(1.0, 2.0, 3.0), (4.0, 5.0, 6.0)])
    landmarks.sides["left"] = SideLandmarks(
        points={"foramen_centre": (10.0, -20.0, 30.0)}, trab_roi=TrabecularRoi(centre=(1.0, 1.0, 1.0))
    )
    landmarks.grades = {"left": {"CTCI": "C2"}}
    return Session(
        landmarks=landmarks,
        settings={"window": 2000.0, "level": 800.0},
        series_uid="1.2.3",
        volume_fingerprint="abc123",
        source="/scans/x",
        extra={"future_key": [1, 2]},
    )


def test_round_trip_keeps_everything(tmp_path):
    path = write_session(_session(), tmp_path / "s.json")
    back = read_session(path)
    assert back.landmarks.to_json() == {
        **_session().landmarks.to_json(),
        "series_uid": "1.2.3",
        "volume_fingerprint": "abc123",
    }
    assert back.settings == {"window": 2000.0, "level": 800.0}
    assert (back.series_uid, back.volume_fingerprint, back.source) == ("1.2.3", "abc123", "/scans/x")
    assert back.extra == {"future_key": [1, 2]} and back.saved_at


def test_plain_landmarks_file_opens_as_session(tmp_path):
    path = tmp_path / "l.json"
    path.write_text(json.dumps(_session().landmarks.to_json()))
    assert read_session(path).landmarks.arch_points == [(1.0, 2.0, 3.0), (4.0, 5.0, 6.0)]


def test_newer_version_and_garbage_are_refused_naming_the_file(tmp_path):
    document = _session().to_json()
    document["version"] = 99
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(document))
    with pytest.raises(LoadError, match="newer.json.*newer cbct-osteo"):
        read_session(newer)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(LoadError, match="garbage.json.*not valid JSON"):
        read_session(garbage)


def test_session_of_another_scan_is_refused():
    session = _session()
    session.check_belongs_to("1.2.3", "abc123")
    with pytest.raises(LoadError, match="different scan"):
        session.check_belongs_to("1.2.3", "other-fingerprint")
    no_fingerprint = Session(series_uid="1.2.3")
    with pytest.raises(LoadError, match="different scan"):
        no_fingerprint.check_belongs_to("9.9.9", "")


def test_autosave_path_uses_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("CBCT_OSTEO_DATA_DIR", str(tmp_path))
    path = autosave_path("1.2/3:4", "0123456789abcdef0123")
    assert path.parent == tmp_path / "autosave"
    assert "/" not in path.name[:-5] and path.name.startswith("1.2_3_4-0123456789abcdef")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(landmarks=None), "is not a landmarks file"),
        (lambda d: d.update(settings=[1, 2]), "'settings' must be an object"),
        (lambda d: d.update(version=True), "invalid session format version True"),
        (lambda d: d["landmarks"]["arch"].update(points={"a": 1}), "arch 'points' must be a list"),
        (lambda d: d["landmarks"]["sides"]["left"].update(foramen_centre=[1e300, 0, 0]), "more than 10000 mm"),
        (lambda d: d["landmarks"]["sides"]["left"]["trab_roi"].update(size_mm=0.5), "size_mm 0.5 is outside 2–30 mm"),
        (lambda d: d.update(deep=json.loads("[" * 900 + "]" * 900)), None),  # deep but parseable: kept
    ],
)
def test_hostile_sessions_are_refused_with_the_file_named(tmp_path, edit, message):
    path = write_session(_session(), tmp_path / "s.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    if message is None:
        assert read_session(path).extra["deep"]
        return
    with pytest.raises(LoadError, match=message) as info:
        read_session(path)
    assert str(path) in str(info.value)


def test_a_session_nested_beyond_parsing_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "cbct-osteo-session", "version": 1, "settings": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(LoadError, match="nests too deeply") as info:
        read_session(path)
    assert str(path) in str(info.value)


def test_a_session_with_a_zero_length_cortical_line_opens_and_is_not_measured(phantom_cohort, tmp_path):
    """A double click in the GUI may put the inner margin on the lower border: the autosave must reopen,
    and W must be not measurable (with the reason), never a width that reads as 'Refer for DXA'."""
    from cbct_osteo import load
    from cbct_osteo.indices import analyse_case
    from cbct_osteo.io.landmarks_file import read_landmarks
    from cbct_osteo.measure import validate_landmarks

    landmarks = read_landmarks(phantom_cohort["root"] / "case0" / "landmarks.json")
    marks = landmarks.sides["left"]
    marks.points["border_inner"] = marks.points["border_outer"]
    path = write_session(Session(landmarks=landmarks), tmp_path / "autosave.json")
    restored = read_session(path).landmarks
    assert restored.point("left", "border_inner") == restored.point("left", "border_outer")
    issues = [i for i in validate_landmarks(restored) if i.side == "left" and i.landmark == "border_inner"]
    assert [i.severity for i in issues] == ["error"] and "same point" in issues[0].message
    result = analyse_case(load(phantom_cohort["root"] / "case0"), restored).to_json()
    w = result["sides"]["left"]["measurements"]["W"]
    assert w["value"] is None and w["quality"] == "not measurable" and "coincide" in " ".join(w["notes"])
    assert result["sides"]["left"]["indices"]["CTMI"]["category"] == "not computable"
    assert result["sides"]["right"]["measurements"]["W"]["value"] is not None  # the other side is measured
