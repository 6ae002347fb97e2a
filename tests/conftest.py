"""Fixtures shared by every test package."""
from __future__ import annotations

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
