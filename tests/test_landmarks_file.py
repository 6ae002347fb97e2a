"""The landmarks file: round trip, tolerance of unknown keys, clear refusals, atomic writes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from cbct_osteo.errors import WriteError
from cbct_osteo.io.atomic import STALE_TEMP_AGE_S, write_bytes_atomic
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import LandmarkSet, read_landmarks, write_landmarks

DOCUMENT = {
    "format": "cbct-osteo-landmarks",
    "version": 1,
    "series_uid": "1.2.3.4",
    "volume_fingerprint": "abc123",
    "arch": {"points": [[-40.0, 10.0, 20.0], [0.0, -30.0, 20.0], [40.0, 10.0, 20.0]], "smoothing": 0.5},
    "sides": {
        "left": {
            "foramen_centre": [25.0, -12.0, 31.0],
            "foramen_superior": [25.0, -12.0, 32.3],
            "border_outer": [25.0, -12.0, 18.0],
            "trab_roi": {"centre": [25.0, -12.0, 24.0], "size_mm": 5.0, "shape": "square", "colour": "red"},
            "note_from_newer_tool": {"x": 1},
        },
        "right": {"foramen_centre": [-25.0, -12.0, 31.0]},
    },
    "grades": {"left": {"CTCI": "C2"}},
    "future_key": [1, 2, 3],
}


def test_round_trip_keeps_values_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "landmarks.json"
    path.write_text(json.dumps(DOCUMENT))
    landmarks = read_landmarks(path)
    assert landmarks.point("left", "foramen_superior") == (25.0, -12.0, 32.3)
    assert landmarks.point("left", "border_inner") is None
    assert landmarks.sides["left"].trab_roi.size_mm == 5.0
    assert landmarks.grades == {"left": {"CTCI": "C2"}}
    out = tmp_path / "again.json"
    write_landmarks(landmarks, out)
    again = json.loads(out.read_text())
    assert again["future_key"] == [1, 2, 3]
    assert again["arch"]["smoothing"] == 0.5
    assert again["sides"]["left"]["note_from_newer_tool"] == {"x": 1}
    assert again["sides"]["left"]["trab_roi"]["colour"] == "red"
    assert read_landmarks(out).to_json() == landmarks.to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "newer cbct-osteo"),
        ({"format": "something-else"}, "not a landmarks file"),
        ({"sides": {"middle": {}}}, "unknown side 'middle'"),
        ({"sides": {"left": {"foramen_centre": [1, 2]}}}, r"left foramen_centre must be \[x, y, z\]"),
        ({"sides": {"left": {"trab_roi": {"centre": [0, 0, 0], "size_mm": 100}}}}, "outside 2–30 mm"),
        # issue 13's hostile landmark files
        ({"sides": {"left": {"trab_roi": {"centre": [0, 0, 0], "size_mm": 0.8}}}}, "size_mm 0.8 is outside 2–30 mm"),
        (
            {"sides": {"left": {"trab_roi": {"centre": [0, 0, 0], "size_mm": 1.2, "shape": "circle"}}}},
            "size_mm 1.2 is outside",
        ),
        ({"sides": {"left": {"trab_roi": {"centre": [0, 0, 0], "size_mm": "5"}}}}, "size_mm must be a number"),
        ({"arch": {"points": None}}, "arch 'points' must be a list"),
        ({"arch": {"points": 7}}, "arch 'points' must be a list"),
        (
            {"arch": {"points": [[0, 0, 0], [10, 0, 0], [10, 0, 5], [20, 5, 0]]}},
            "arch points 2 and 3 are at the same place",
        ),
        ({"arch": {"points": [[0, 0, 0], [1e155, 0, 0], [20, 5, 0]]}}, "arch point 2 is more than 10000 mm"),
        ({"arch": {"points": [[0, 0, 0], [10**400, 0, 0], [20, 5, 0]]}}, "arch point 2 is more than 10000 mm"),
        ({"arch": {"points": [[0, 0, 0], [True, 0, 0], [20, 5, 0]]}}, "arch point 2 must be"),
        (
            {"sides": {"left": {"border_outer": [25, -12, 18], "border_inner": [25, -12, 18]}}},
            "left border_outer and border_inner are the same point: the cortical line",
        ),
        (
            {"sides": {"right": {"border_outer": [-25, -12, 18], "foramen_centre": [-25, -12, 18]}}},
            "right border_outer and foramen_centre are the same point",
        ),
        ({"grades": {"left": {"CTCI": 3}}}, "left CTCI grade must be a short text"),
        ({"grades": {"left": {"CTCI": None}}}, "left CTCI grade must be a short text"),
        ({"grades": {"middle": {"CTCI": "C1"}}}, "grades for unknown side 'middle'"),
        ({"grades": {"left": "C1"}}, "grades of the left side must map"),
        ({"grades": [1]}, "'grades' must map a side"),
        ({"version": True}, "invalid landmarks format version True"),
    ],
)
def test_bad_documents_are_refused_with_the_file_named(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**DOCUMENT, **change}))
    with pytest.raises(LoadError, match=message) as info:
        read_landmarks(path)
    assert str(path) in str(info.value)


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(LoadError, match="not valid JSON"):
        read_landmarks(broken)
    with pytest.raises(LoadError, match="not found"):
        read_landmarks(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format": "cbct-osteo-landmarks", "version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "nests too deeply",
        ),
        (
            '{"format": "cbct-osteo-landmarks", "version": 1, "arch": {"points": [[1' + "0" * 5000 + ", 0, 0]]}}",
            "number too long to read",
        ),
        (
            '{"format": "cbct-osteo-landmarks", "version": 1, "arch": {"points": [[NaN, 0, 0]]}}',
            "non-finite coordinate",
        ),
        (
            '{"format": "cbct-osteo-landmarks", "version": 1, "arch": {"points": [[Infinity, 0, 0]]}}',
            "non-finite coordinate",
        ),
    ],
)
def test_hostile_json_is_refused_with_the_file_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(text)
    with pytest.raises(LoadError, match=message) as info:
        read_landmarks(path)
    assert str(path) in str(info.value) and len(str(info.value)) < 400


def test_a_grade_the_catalogue_does_not_know_is_not_computable(tmp_path: Path) -> None:
    """Text grades pass the reader; the catalogue marks CTCI not computable and says why."""
    from cbct_osteo.indices import score_case

    path = tmp_path / "grades.json"
    path.write_text(json.dumps({**DOCUMENT, "grades": {"left": {"CTCI": "C9"}, "right": {"CTCI": "banana"}}}))
    landmarks = read_landmarks(path)
    result = score_case({"left": {}, "right": {}}, landmarks.grades)
    for side, grade in (("left", "C9"), ("right", "banana")):
        ctci = result.sides[side].indices["CTCI"]
        assert ctci.category == "not computable" and f"grade {grade!r}" in ctci.message


def test_atomic_write_failure_keeps_the_earlier_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "landmarks.json"
    write_landmarks(LandmarkSet(series_uid="first"), path)

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(WriteError, match="No space left on device"):
        write_landmarks(LandmarkSet(series_uid="second"), path)
    monkeypatch.undo()
    assert read_landmarks(path).series_uid == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["landmarks.json"], "temporary file left behind"


def test_atomic_write_into_unwritable_folder_names_the_target(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target_parent = tmp_path / "a_file"
        target_parent.write_text("x")
        target = target_parent / "report.pdf"  # a path under a regular file cannot be created, even by root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "report.pdf"
    with pytest.raises(WriteError) as info:
        write_bytes_atomic(target, b"%PDF")
    assert "report.pdf" in str(info.value)


def test_atomic_write_removes_stale_temporaries_of_ours_only(tmp_path: Path) -> None:
    """Temporaries of writes killed long ago go; a fresh one (a write in progress) and other files stay."""
    old = time.time() - STALE_TEMP_AGE_S - 60
    stale = [tmp_path / ".report.pdf.k3j_9x2a.tmp", tmp_path / ".session.json.abcdefgh.tmp"]
    fresh = tmp_path / ".report.pdf.zz99zz99.tmp"
    others = [
        tmp_path / ".report.pdf.K3J9X2AB.tmp",
        tmp_path / "notes.tmp",
        tmp_path / ".x.abcdefgh.tmp.keep",
        tmp_path / "report.pdf.abcdefgh.tmp",
    ]
    for path in [*stale, fresh, *others]:
        path.write_bytes(b"x" * 1000)
    for path in [*stale, *others]:
        os.utime(path, (old, old))
    (tmp_path / ".old.pdf.abcdefgh.tmp").mkdir()  # a folder of that name is not ours to remove
    os.utime(tmp_path / ".old.pdf.abcdefgh.tmp", (old, old))
    write_bytes_atomic(tmp_path / "report.pdf", b"%PDF")
    assert not any(path.exists() for path in stale)
    assert fresh.exists() and all(path.exists() for path in others)
    assert (tmp_path / ".old.pdf.abcdefgh.tmp").is_dir()


def test_atomic_write_refuses_to_replace_a_device(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="is not a regular file"):
        write_bytes_atomic("/dev/null", b"x")
    assert Path("/dev/null").is_char_device()


def test_atomic_write_uses_normal_permissions(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        fresh = write_bytes_atomic(tmp_path / "fresh.pdf", b"%PDF")
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o640)
        write_bytes_atomic(kept, b"{}")
        assert kept.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old_umask)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["sides"]["left"].update(border_inner=list(d["sides"]["left"]["border_outer"])),
            "the cortical line",
        ),
        (
            lambda d: d["arch"]["points"].insert(4, list(d["arch"]["points"][4])),
            "arch points 5 and 6 are at the same place",
        ),
        (lambda d: d["sides"]["right"]["trab_roi"].update(size_mm=1.0), "right trab_roi size_mm 1 is outside 2–30 mm"),
        (lambda d: d["arch"].update(points=None), "arch 'points' must be a list"),
    ],
)
@pytest.mark.parametrize("command", ["measure", "report"])
def test_commands_refuse_degenerate_phantom_landmarks(phantom_cohort, tmp_path, capsys, edit, message, command):
    """The phantom's true landmarks, spoiled one way each: exit 2 and one line naming the file, no traceback."""
    from cbct_osteo.cli import main

    document = json.loads((phantom_cohort["root"] / "case0" / "landmarks.json").read_text(encoding="utf-8"))
    edit(document)
    spoiled = tmp_path / "spoiled.json"
    spoiled.write_text(json.dumps(document))
    extra = ["-o", str(tmp_path / "r.pdf"), "--no-3d"] if command == "report" else []
    assert main([command, str(phantom_cohort["root"] / "case0"), "--landmarks", str(spoiled), *extra]) == 2
    err = capsys.readouterr().err
    assert f"{spoiled}: " in err and message in err and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


def test_a_double_click_on_the_arch_is_one_point(tmp_path: Path) -> None:
    """The GUI appends each click; the same place twice must not make a file the reader refuses."""
    from cbct_osteo.measure.landmark_model import LandmarkModel

    model = LandmarkModel()
    points = [(-40.0, 10.0, 20.0), (0.0, -30.0, 20.0), (0.0, -30.0, 20.0), (40.0, 10.0, 20.0)]
    model.set_arch_points(points)
    assert model.landmarks.arch_points == [points[0], points[1], points[3]]
    write_landmarks(model.landmarks, tmp_path / "l.json")
    assert read_landmarks(tmp_path / "l.json").arch_points == model.landmarks.arch_points
