"""A simulated dental cone-beam acquisition and its FDK reconstruction (the Reconstruction Toolkit, itk-rtk).

Pipeline (one circular scan, everything on the CPU):

1. Material path lengths: the scene's water, bone and metal fractions are forward-projected
   separately (``JosephForwardProjectionImageFilter``): a fine grid over the reconstructed field
   plus a coarse grid of the rest of the head, so anatomy outside the field attenuates the rays
   (truncation) as in a real head.
2. Polychromatic transmission: a 90 kVp tungsten spectrum (Kramers' law, 6 mm Al filtration,
   energy-integrating detector) in a few energy bins, each attenuated by the three path lengths
   with tabulated mass attenuation coefficients. Beam hardening (cupping, dark streaks between
   dense structures, exponential edges and photon starvation at metal) follows from it.
3. Scatter: a smooth, low-frequency additive term (a wide Gaussian of the attenuated signal),
   left uncorrected as a residual. Quantum noise: Poisson counts. Detector blur (scintillator
   and focal spot): a Gaussian on the counts, so the noise is correlated like a flat panel's.
4. ``-log``, Parker weights for a short scan, displaced-detector weights for an offset detector,
   then ``FDKConeBeamReconstructionFilter`` (Hann-windowed ramp).

Gray values are then a linear map of the reconstructed attenuation, as vendors export them:
not Hounsfield units (RescaleType ``US``).

RTK rotates around its image y axis, so patient (x, y, z) volumes are handed to it as RTK
(x, z, y): the rotation axis is the patient's z (head-foot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Mass attenuation coefficients mu/rho (cm^2/g) at 20, 30, 40, 50, 60, 80, 100 keV, from the NIST
#: tables of Hubbell & Seltzer (NIST Standard Reference Database 126 / XCOM; NISTIR 5632):
#: water (liquid), bone (cortical, ICRU-44) and aluminium (filtration), titanium (implants).
NIST_ENERGIES_KEV = (20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0)
NIST_MU_RHO = {
    "water": (0.8096, 0.3756, 0.2683, 0.2269, 0.2059, 0.1837, 0.1707),
    "bone": (4.001, 1.331, 0.6655, 0.4242, 0.3148, 0.2229, 0.1855),
    "aluminium": (3.441, 1.128, 0.5685, 0.3681, 0.2778, 0.2018, 0.1704),
    "titanium": (15.85, 4.972, 2.214, 1.213, 0.7661, 0.4052, 0.2721),
}
DENSITY_G_CM3 = {"water": 1.0, "bone": 1.92, "aluminium": 2.699, "titanium": 4.54}
#: Dental amalgam (Ag-Sn-Hg, ~11.6 g/cm3) is approximated by titanium's energy dependence scaled to
#: an attenuation of ~60 /cm at 60 keV; either way it starves the beam, which is what matters here.
AMALGAM_EFFECTIVE_DENSITY = 78.0
ENERGY_BINS_KEV = (25.0, 35.0, 45.0, 55.0, 65.0, 75.0, 85.0)
KVP = 90.0
FILTRATION_MM_AL = 6.0
#: Reference attenuation (1/mm) of the gray-value map: gray = GAIN * 1000 (mu / MU_REF - 1) + OFFSET.
MU_REF_PER_MM = 0.0200
GRAY_GAIN = 1.3
GRAY_OFFSET = 300.0


@dataclass(frozen=True)
class Acquisition:
    """Scanner settings of one simulated scan.

    Attributes
    ----------
    source_isocentre_mm, source_detector_mm
        Geometry (dental CBCT: ~600 and ~1000 mm; magnification 1.67).
    projections, arc_deg
        Number of views over the arc (360 deg full scan; less is a short scan, Parker-weighted,
        which needs at least 180 deg plus the fan angle).
    photons
        Unattenuated photons per detector pixel (sets the noise; 0 = no noise).
    scatter_fraction
        Scatter-to-primary ratio behind the middle of the head (uncorrected residual).
    detector_blur_mm
        Gaussian sigma of the scintillator and focal-spot blur, referred to the isocentre (mm).
    detector_offset_mm
        Lateral detector offset at the isocentre (mm); > 0 widens the field (displaced-detector weighting).
    metal
        Which metal the scene's metal channel is (``"amalgam"`` or ``"titanium"``).
    """

    source_isocentre_mm: float = 600.0
    source_detector_mm: float = 1000.0
    projections: int = 180
    arc_deg: float = 360.0
    photons: float = 20000.0
    scatter_fraction: float = 0.25
    detector_blur_mm: float = 0.2
    detector_offset_mm: float = 0.0
    metal: str = "titanium"

    @property
    def magnification(self) -> float:
        return self.source_detector_mm / self.source_isocentre_mm

    def validate(self) -> None:
        checks = (
            (
                400.0 <= self.source_isocentre_mm < self.source_detector_mm <= 2000.0,
                "source distances must satisfy 400 <= SID < SDD <= 2000 mm",
            ),
            (36 <= self.projections <= 1000, "projections must be within 36-1000"),
            (200.0 <= self.arc_deg <= 360.0, "arc_deg must be within 200-360"),
            (0.0 <= self.photons <= 1e7, "photons must be within 0-1e7"),
            (0.0 <= self.scatter_fraction <= 2.0, "scatter_fraction must be within 0-2"),
            (0.0 <= self.detector_blur_mm <= 2.0, "detector_blur_mm must be within 0-2 mm"),
            (self.metal in ("amalgam", "titanium"), "metal must be 'amalgam' or 'titanium'"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {self})")


def _mu_per_mm(material: str, energies: np.ndarray) -> np.ndarray:
    """Linear attenuation (1/mm) at ``energies`` (keV), log-log interpolated in the NIST table."""
    table = NIST_MU_RHO["titanium" if material == "amalgam" else material]
    density = AMALGAM_EFFECTIVE_DENSITY if material == "amalgam" else DENSITY_G_CM3[material]
    mu_rho = np.exp(np.interp(np.log(energies), np.log(NIST_ENERGIES_KEV), np.log(table)))
    return np.asarray(mu_rho * density / 10.0)


def spectrum_weights(energies: np.ndarray | None = None) -> np.ndarray:
    """Detected-energy weights of the bins (default :data:`ENERGY_BINS_KEV`): Kramers photon fluence x
    Al filtration x energy (an energy-integrating detector)."""
    energies = np.asarray(ENERGY_BINS_KEV if energies is None else energies, float)
    fluence = np.clip(KVP - energies, 0.0, None) / energies
    fluence *= np.exp(-_mu_per_mm("aluminium", energies) * FILTRATION_MM_AL)
    weights = fluence * energies
    return np.asarray(weights / weights.sum())


def effective_mu_water() -> float:
    """Attenuation (1/mm) of water for the spectrum's mean detected energy (for reports)."""
    energies = np.asarray(ENERGY_BINS_KEV)
    return float(np.sum(spectrum_weights(energies) * _mu_per_mm("water", energies)))


@dataclass(frozen=True)
class ProjectionGeometry:
    """Detector sampling of one scan (RTK units: mm at the detector, angles in degrees)."""

    columns: int
    rows: int
    pitch_mm: float  # at the detector
    offset_mm: float  # at the detector
    angles_deg: np.ndarray


def projection_geometry(
    acq: Acquisition, field_radius_mm: float, field_height_mm: float, voxel_mm: float
) -> ProjectionGeometry:
    """A detector that covers a cylindrical field of ``field_radius_mm`` x ``field_height_mm`` (isocentre mm)."""
    m = acq.magnification
    pitch_iso = max(voxel_mm, 0.2)
    half_width = field_radius_mm * acq.source_isocentre_mm / math.sqrt(acq.source_isocentre_mm**2 - field_radius_mm**2)
    offset = abs(acq.detector_offset_mm)
    if offset > 0.45 * half_width:
        raise ValueError(
            f"detector_offset_mm must be at most {0.45 * half_width:.0f} mm for this field (the views must overlap)"
        )
    columns = int(math.ceil(2 * (half_width - offset) / pitch_iso)) + 2  # covers [2 offset - half, half]
    cone = (acq.source_isocentre_mm + field_radius_mm) / acq.source_isocentre_mm
    rows = int(math.ceil(field_height_mm * cone / pitch_iso)) + 2
    step = acq.arc_deg / acq.projections
    angles = np.arange(acq.projections) * step
    return ProjectionGeometry(columns, rows, pitch_iso * m, acq.detector_offset_mm * m, angles)


def gray_values(mu_per_mm: np.ndarray) -> np.ndarray:
    """The vendor-like linear map of reconstructed attenuation to gray values (float32)."""
    return (GRAY_GAIN * 1000.0 * (mu_per_mm / MU_REF_PER_MM - 1.0) + GRAY_OFFSET).astype(np.float32)


def polychromatic_counts(
    paths_mm: dict[str, np.ndarray],
    acq: Acquisition,
    pitch_iso_mm: float,
    rng: np.random.Generator,
    centre_column: int | None = None,
) -> np.ndarray:
    """Detected signal (photons, float32) per detector pixel from the material path lengths (mm).

    ``paths_mm`` holds ``water``, ``bone`` and ``metal`` arrays (projections, rows, columns);
    ``centre_column`` is the detector column of the central ray (default the middle column),
    where the scatter-to-primary ratio is set.
    """
    energies = np.asarray(ENERGY_BINS_KEV)
    weights = spectrum_weights(energies)
    metal = acq.metal
    primary: np.ndarray = np.zeros(paths_mm["water"].shape, np.float32)
    for e, w in zip(energies, weights, strict=True):
        line = (
            _mu_per_mm("water", np.array([e]))[0] * paths_mm["water"]
            + _mu_per_mm("bone", np.array([e]))[0] * paths_mm["bone"]
            + _mu_per_mm(metal, np.array([e]))[0] * paths_mm["metal"]
        )
        primary += np.float32(w) * np.exp(-line, dtype=np.float32)
    signal = primary
    if acq.scatter_fraction > 0:
        # Scatter grows with the matter the beam crosses and varies slowly across the detector.
        sigma = 30.0 / pitch_iso_mm
        spread = ndimage.gaussian_filter(1.0 - primary, (0, sigma, sigma), mode="constant")
        row = primary.shape[1] // 2
        col = primary.shape[2] // 2 if centre_column is None else int(np.clip(centre_column, 0, primary.shape[2] - 1))
        scale = (
            acq.scatter_fraction
            * float(np.median(primary[:, row, col]))
            / max(float(np.median(spread[:, row, col])), 1e-6)
        )
        signal = primary + np.float32(scale) * spread
    if acq.photons > 0:
        counts = rng.poisson(signal * np.float32(acq.photons)).astype(np.float32)
    else:
        counts = signal * np.float32(1.0)
        acq = Acquisition(**{**acq.__dict__, "photons": 1.0})
    if acq.detector_blur_mm > 0:
        counts = ndimage.gaussian_filter(
            counts, (0, acq.detector_blur_mm / pitch_iso_mm, acq.detector_blur_mm / pitch_iso_mm), mode="nearest"
        )
    return counts / np.float32(acq.photons)


def line_integrals(transmission: np.ndarray, photons: float) -> np.ndarray:
    """``-log`` of the transmission, floored at one photon (photon starvation gives a finite, wrong value)."""
    floor = 1.0 / photons if photons > 0 else 1e-7
    return np.asarray(-np.log(np.maximum(transmission, floor)).astype(np.float32))
