"""Small phantom cohorts for the end-to-end and batch tests (written once per session)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

#: Small enough to keep the whole indices suite well under a minute on 2 cores, large enough to
#: hold the phantom's mandible at this voxel size.
SHAPE = (64, 160, 160)
VOXEL_MM = 0.6
GOOD_CASES = 4


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["case_id", "volume", "landmarks", "age", "sex"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def phantom_cohort(tmp_path_factory) -> dict:
    """``{"manifest": Path, "good": [ids], "broken": [ids], "truth": {id: truth.json dict}}``.

    Paths in the manifest are relative (resolved against the manifest's folder). The broken
    cases: a landmarks file that is not JSON, and a volume folder that does not exist.
    """
    import json

    from cbct_osteo import phantom

    root = tmp_path_factory.mktemp("cohort")
    rows, truth = [], {}
    for i in range(GOOD_CASES):
        case = f"case{i}"
        folder = phantom.write_phantom(root / case, shape=SHAPE, voxel_mm=VOXEL_MM, seed=i)
        truth[case] = json.loads((Path(folder) / "truth.json").read_text(encoding="utf-8"))
        rows.append({"case_id": case, "volume": case, "landmarks": f"{case}/landmarks.json", "age": str(60 + i), "sex": "F"})
    (root / "bad_landmarks.json").write_text("{ this is not json", encoding="utf-8")
    rows.insert(2, {"case_id": "broken_landmarks", "volume": "case0", "landmarks": "bad_landmarks.json", "age": "", "sex": ""})
    rows.append({"case_id": "missing_volume", "volume": "no_such_scan", "landmarks": "case1/landmarks.json", "age": "", "sex": ""})
    manifest = write_manifest(root / "manifest.csv", rows)
    return {"manifest": manifest, "root": root, "good": [f"case{i}" for i in range(GOOD_CASES)],
            "broken": ["broken_landmarks", "missing_volume"], "truth": truth}
