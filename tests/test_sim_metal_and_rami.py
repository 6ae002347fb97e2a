"""The simulated scanner's metal physics and the rami of the anatomical phantom (fast: no scan)."""

from __future__ import annotations

import numpy as np

from cbct_osteo.phantom import ramus, xray_tables
from cbct_osteo.phantom.anatomy import mandible_model
from cbct_osteo.phantom.cbct_sim import Acquisition, mu_per_mm, polychromatic_counts


def _signal(metal_mm: np.ndarray) -> float:
    """Noise-free, scatter-free, unblurred signal of one detector pixel behind ``metal_mm`` of amalgam."""
    acq = Acquisition(photons=0.0, scatter_fraction=0.0, detector_blur_mm=0.0, metal="amalgam")
    zeros = np.zeros((1, 1, 1), np.float32)
    paths = {"water": zeros, "bone": zeros, "metal": metal_mm.astype(np.float32)}
    return float(polychromatic_counts(paths, acq, 0.3, np.random.default_rng(0))[0, 0, 0])


def test_a_metal_edge_inside_a_pixel_lets_the_uncovered_part_through():
    """The detector integrates exp(-path) over its pixel: half a pixel behind 5 mm of amalgam passes
    about half the beam, not exp(-mean path) (the exponential edge-gradient effect)."""
    half_covered = np.array([[[[5.0, 0.0], [5.0, 0.0]]]]).reshape(1, 2, 2)
    assert 0.45 < _signal(half_covered) < 0.55
    assert _signal(np.full((1, 1, 1), 2.5)) < 1e-3


def test_amalgam_attenuates_by_its_composition():
    """Amalgam's mercury K-edge (83.1 keV) raises its attenuation in the bins above it; titanium has none."""
    energies = np.asarray(xray_tables.BIN_ENERGY_KEV)
    below, above = np.nonzero(energies < 83.1)[0][-1], np.nonzero(energies > 83.1)[0][0]
    amalgam, titanium = mu_per_mm("amalgam"), mu_per_mm("titanium")
    assert amalgam[above] > 2.0 * amalgam[below]
    assert titanium[above] < titanium[below]
    assert np.isclose(sum(xray_tables.BIN_WEIGHT), 1.0, atol=1e-4)


def test_ramus_has_condyle_coronoid_and_sigmoid_notch():
    model = mandible_model()
    origin, back, up, _ = ramus.ramus_frame(model, "left")

    def inside(w: float, h: float) -> bool:
        p = origin + w * back + h * up
        return bool(ramus.ramus_sdf(model, "left", *(np.array([c]) for c in p))[0] < 0)

    assert inside(*ramus.CONDYLE_CENTRE_WH)  # condylar head
    assert inside(10.5, 55.5)  # coronoid process, below its tip
    assert not inside(27.5, 47.0)  # the sigmoid notch between them
    assert inside(24.0, 8.0) and not inside(28.0, 5.0)  # the gonial angle is rounded off
    assert not inside(10.0, 0.8)  # the antegonial notch rises above the border line
