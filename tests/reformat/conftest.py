"""Fixtures of the reformat tests: small volumes with a known linear intensity, and an arch."""

from __future__ import annotations

import numpy as np
import pytest

from cbct_osteo.reformat import ArchCurve
from cbct_osteo.volume import Volume

from reformat_synthetic import arch_points, centred_affine, ramp_volume, rotation


@pytest.fixture(scope="session")
def axial_ramp() -> Volume:
    """Axial volume, rows/cols rotated 20 degrees in-plane, anisotropic voxels (fast path)."""
    r = rotation(0, 0, 20)
    shape = (40, 130, 150)
    return ramp_volume(centred_affine(r, (0.6, 0.5, 0.45), shape, (0.0, -4.0, 0.0)), shape)


@pytest.fixture(scope="session")
def oblique_ramp() -> Volume:
    """Fully oblique volume with a sheared (gantry-tilt-like) slice direction (general path)."""
    r = rotation(12, -8, 25)
    slice_direction = r[:, 2] + 0.15 * r[:, 1]
    slice_direction /= np.linalg.norm(slice_direction)
    shape = (45, 130, 150)
    directions = np.column_stack([r[:, 0], r[:, 1], slice_direction])
    return ramp_volume(centred_affine(directions, (0.6, 0.5, 0.45), shape, (0.0, -4.0, 0.0)), shape)


@pytest.fixture(scope="session")
def arch() -> ArchCurve:
    return ArchCurve.from_points(arch_points(z=0.0))
