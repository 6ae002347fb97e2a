"""``cbct-osteo propose``: the proposal as a landmarks file, found or not, and a clear error for a bad volume."""

from __future__ import annotations

import json

import numpy as np

from cbct_osteo.cli import main
from cbct_osteo.io.landmarks_file import read_landmarks, write_landmarks

HEAD_CT = "real_volumes/vhp_male_head_mandible"
NO_MANDIBLE = "real_volumes/skull_ct_medimodel_dicomdir"


def test_propose_on_the_real_head_ct_writes_the_arch_and_the_mandible(shared_data, tmp_path, capsys):
    out = tmp_path / "proposal.json"
    assert main(["propose", str(shared_data / HEAD_CT), "-o", str(out)]) == 0
    assert "Mandible found" in capsys.readouterr().out
    document = json.loads(out.read_text())
    mandible = document["mandible"]
    assert mandible["found"] is True and mandible["reason"]
    (low, high) = np.asarray(mandible["bbox_mm"])
    points = np.asarray(document["arch"]["points"])
    assert document["arch"]["proposed"] is True and len(points) == 12
    assert np.all(points >= low) and np.all(points <= high)
    landmarks = read_landmarks(out)  # a landmarks file like any other, the extras kept on rewrite
    assert len(landmarks.arch_points) == 12 and landmarks.series_uid and landmarks.volume_fingerprint
    again = tmp_path / "again.json"
    write_landmarks(landmarks, again)
    assert json.loads(again.read_text())["mandible"] == mandible


def test_propose_without_a_mandibular_body_is_a_result(shared_data, tmp_path, capsys):
    out = tmp_path / "proposal.json"
    assert main(["propose", str(shared_data / NO_MANDIBLE), "-o", str(out)]) == 0
    assert "No mandible found" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["mandible"]["found"] is False and document["mandible"]["bbox_mm"] is None
    assert "mandibular body is not in the scan" in document["mandible"]["reason"]
    assert document["arch"]["points"] == []


def test_propose_on_an_unreadable_volume_exits_2(tmp_path, capsys):
    (tmp_path / "junk.dcm").write_bytes(b"not a dicom file")
    out = tmp_path / "proposal.json"
    assert main(["propose", str(tmp_path / "junk.dcm"), "-o", str(out)]) == 2
    message = capsys.readouterr().err
    assert "cbct-osteo propose" in message and "junk.dcm" in message
    assert not out.exists()
