"""The landmarks file: round trip, tolerance of unknown keys, clear refusals, atomic writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cbct_osteo.io.atomic import write_bytes_atomic
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
        ({"sides": {"left": {"trab_roi": {"centre": [0, 0, 0], "size_mm": 100}}}}, "outside 0.5–30 mm"),
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


def test_atomic_write_failure_keeps_the_earlier_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "landmarks.json"
    write_landmarks(LandmarkSet(series_uid="first"), path)

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(LoadError, match="No space left on device"):
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
    with pytest.raises(LoadError) as info:
        write_bytes_atomic(target, b"%PDF")
    assert "report.pdf" in str(info.value)


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
