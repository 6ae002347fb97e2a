"""Fixtures shared by every test package."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The team's real DICOM corpus (../shared/data). Tests that need it skip, visibly, without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (clone the repo next to shared/)")
    return SHARED_DATA


#: The small phantom every test package shares: the whole mandibular body in 110 x 300 x 300
#: voxels of 0.35 mm (crowns slightly cropped at the top). About a second to generate.
SMALL_PHANTOM: dict = {"shape": (110, 300, 300), "voxel_mm": 0.35, "seed": 0}  # = phantom.SMALL_SHAPE/SMALL_VOXEL_MM


@pytest.fixture(scope="session")
def small_phantom():
    """A clean in-memory :class:`~cbct_osteo.phantom.PhantomCase`: exact geometry, HU-like values, no noise.

    ``.volume`` is the image, ``.truth`` the truth.json document, ``.landmarks`` the true landmarks.
    """
    from cbct_osteo.phantom import make_phantom

    return make_phantom(**SMALL_PHANTOM, clean=True)


@pytest.fixture(scope="session")
def small_phantom_noisy():
    """The same phantom with the default CBCT degradations (blur, noise, cupping, streaks, uncalibrated gray)."""
    from cbct_osteo.phantom import make_phantom

    return make_phantom(**SMALL_PHANTOM)


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory) -> Path:
    """``small_phantom_noisy`` written to disk: ``DICOM/`` (one file per slice), ``truth.json``, ``landmarks.json``."""
    from cbct_osteo.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("phantom"), **SMALL_PHANTOM)


#: The real head CT with the whole mandible, cervical spine, skull base and metal pins (SOURCES.md).
HEAD_CT = "real_volumes/vhp_male_head_mandible"


@pytest.fixture(scope="session")
def real_head_ct(shared_data: Path):
    """The real head CT (202 x 512 x 512, 0.5 mm slices, HU), loaded once per session."""
    from cbct_osteo import load

    return load(shared_data / HEAD_CT)


# --- a small cohort for the end-to-end and batch tests (written once per session) ---------------

#: Small enough to keep the indices and batch suites well under a minute on 2 cores, large enough to
#: hold the phantom's mandible at this voxel size.
COHORT_SHAPE = (64, 160, 160)
COHORT_VOXEL_MM = 0.6
COHORT_GOOD_CASES = 4


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    """A batch manifest ``case_id,volume,landmarks,age,sex`` with ``rows``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["case_id", "volume", "landmarks", "age", "sex"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def manifest_writer():
    """:func:`write_manifest`, for test modules (conftest modules are not importable by name)."""
    return write_manifest


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
    for i in range(COHORT_GOOD_CASES):
        case = f"case{i}"
        folder = phantom.write_phantom(root / case, shape=COHORT_SHAPE, voxel_mm=COHORT_VOXEL_MM, seed=i)
        truth[case] = json.loads((Path(folder) / "truth.json").read_text(encoding="utf-8"))
        rows.append(
            {"case_id": case, "volume": case, "landmarks": f"{case}/landmarks.json", "age": str(60 + i), "sex": "F"}
        )
    (root / "bad_landmarks.json").write_text("{ this is not json", encoding="utf-8")
    rows.insert(
        2, {"case_id": "broken_landmarks", "volume": "case0", "landmarks": "bad_landmarks.json", "age": "", "sex": ""}
    )
    rows.append(
        {
            "case_id": "missing_volume",
            "volume": "no_such_scan",
            "landmarks": "case1/landmarks.json",
            "age": "",
            "sex": "",
        }
    )
    manifest = write_manifest(root / "manifest.csv", rows)
    return {
        "manifest": manifest,
        "root": root,
        "good": [f"case{i}" for i in range(COHORT_GOOD_CASES)],
        "broken": ["broken_landmarks", "missing_volume"],
        "truth": truth,
        "shape": COHORT_SHAPE,
        "voxel_mm": COHORT_VOXEL_MM,
    }
