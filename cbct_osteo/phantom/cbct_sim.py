"""A simulated dental cone-beam acquisition and its FDK reconstruction (the Reconstruction Toolkit, itk-rtk).

Pipeline (one circular scan, everything on the CPU):

1. Material path lengths: the scene's water, bone and metal fractions are forward-projected
   separately (``JosephForwardProjectionImageFilter``): a fine grid over the reconstructed field
   plus a coarse grid of the rest of the head, so anatomy outside the field attenuates the rays
   (truncation) as in a real head.
2. Polychromatic transmission: a 90 kVp tungsten spectrum (SpekPy, 6 mm Al, energy-integrating
   CsI detector) in 29 energy bins split at the K-edges, each attenuated by the three path lengths
   with XrayDB/NIST attenuation (:mod:`.xray_tables`); the metal's paths are sampled 2 x 2 per
   detector pixel and its transmission averaged over the pixel. Beam hardening (cupping, dark
   streaks between dense structures), exponential edges and photon starvation at metal follow.
3. Scatter: a smooth, low-frequency additive term (a wide Gaussian of the attenuated signal),
   left uncorrected as a residual. Quantum noise: Poisson counts. Detector blur (scintillator
   and focal spot): a Gaussian on the counts, so the noise is correlated like a flat panel's.
   Electronic readout noise on top, then ``-log`` clipped at one photon (photon starvation).
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

from cbct_osteo.phantom import xray_tables

#: What truth.json says about the spectrum and the attenuation data.
SPECTRUM_DESCRIPTION = (
    "90 kVp tungsten (SpekPy, 12 deg anode, 6 mm Al), CsI energy-integrating detector, "
    f"{len(xray_tables.BIN_WEIGHT)} energy bins split at K-edges; XrayDB (NIST XCOM) attenuation, "
    "amalgam Hg-Ag-Sn-Cu 11.6 g/cm3; metal 2 x 2 sub-pixels per detector pixel"
)
#: Readout (electronic) noise of the flat panel, in photon equivalents per pixel (Gaussian, sigma):
#: a-Si panels read ~1000-3000 electrons rms against ~500-1000 electrons per detected 60 keV photon
#: in CsI:Tl. It is what makes a starved metal shadow noise around zero, not a few clean photons.
ELECTRONIC_NOISE_PHOTONS = 4.0
#: Detector sub-pixels per side for the metal path lengths: the detector integrates exp(-line) over
#: its pixel, so a metal edge inside a pixel (the exponential edge-gradient effect) is not the
#: exponential of the mean path.
METAL_SUBPIXELS = 2
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


def mu_per_mm(material: str) -> np.ndarray:
    """Linear attenuation (1/mm) of ``material`` in each energy bin of :mod:`.xray_tables`."""
    return np.asarray(xray_tables.MU_PER_MM[material], float)


def spectrum_weights() -> np.ndarray:
    """Share of the unattenuated detector signal in each energy bin (SpekPy spectrum x CsI absorption x energy)."""
    weights = np.asarray(xray_tables.BIN_WEIGHT, float)
    return np.asarray(weights / weights.sum())


def effective_mu_water() -> float:
    """Attenuation (1/mm) of water for the spectrum's mean detected energy (for reports)."""
    return float(np.sum(spectrum_weights() * mu_per_mm("water")))


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


def subpixel_geometry(pg: ProjectionGeometry, factor: int = METAL_SUBPIXELS) -> ProjectionGeometry:
    """The same detector sampled ``factor`` x ``factor`` finer (sub-pixel blocks align with the pixels)."""
    return ProjectionGeometry(pg.columns * factor, pg.rows * factor, pg.pitch_mm / factor, pg.offset_mm, pg.angles_deg)


def gray_values(mu: np.ndarray) -> np.ndarray:
    """The vendor-like linear map of reconstructed attenuation (1/mm) to gray values (float32)."""
    return (GRAY_GAIN * 1000.0 * (mu / MU_REF_PER_MM - 1.0) + GRAY_OFFSET).astype(np.float32)


def polychromatic_counts(
    paths_mm: dict[str, np.ndarray],
    acq: Acquisition,
    pitch_iso_mm: float,
    rng: np.random.Generator,
    centre_column: int | None = None,
) -> np.ndarray:
    """Detected signal (in unattenuated-photon units, float32) per detector pixel from the material path lengths (mm).

    ``paths_mm`` holds ``water`` and ``bone`` arrays (projections, rows, columns) and ``metal``
    either on the same pixels or on :func:`subpixel_geometry`'s finer ones (then the metal's
    transmission is averaged over each pixel's sub-pixels). ``centre_column`` is the detector
    column of the central ray (default the middle column), where the scatter-to-primary ratio is set.
    Physics: the binned spectrum through the three materials, scatter, Poisson quanta, scintillator
    blur (which correlates the quantum noise), then the panel's electronic readout noise.
    """
    weights = spectrum_weights()
    mu = {c: mu_per_mm(acq.metal if c == "metal" else c) for c in ("water", "bone", "metal")}
    primary: np.ndarray = np.zeros(paths_mm["water"].shape, np.float32)
    metal = paths_mm["metal"]
    factor = metal.shape[1] // primary.shape[1]
    blocks = metal.reshape(primary.shape[0], primary.shape[1], factor, primary.shape[2], factor)
    hit = np.nonzero(blocks.max(axis=(2, 4)) > 0)
    metal_hit = blocks[hit[0], hit[1], :, hit[2], :]  # (pixels with metal, factor, factor)
    for k, w in enumerate(weights):
        line = np.float32(mu["water"][k]) * paths_mm["water"] + np.float32(mu["bone"][k]) * paths_mm["bone"]
        bin_primary = np.exp(-line, dtype=np.float32)
        if metal_hit.size:
            bin_primary[hit] *= np.exp(-np.float32(mu["metal"][k]) * metal_hit).mean(axis=(1, 2))
        primary += np.float32(w) * bin_primary
    signal = primary
    if acq.scatter_fraction > 0:
        # Scatter varies slowly across the detector; each pencil beam scatters in proportion to
        # P ln(1/P) (the pencil-beam kernel model, Ohnesorge et al., Eur Radiol 9 (1999) 563):
        # most from moderately attenuated rays, little from rays that metal stops (it absorbs,
        # photoelectrically), so metal shadows are filled by the scatter of the tissue around them.
        sigma = 30.0 / pitch_iso_mm
        source = primary * -np.log(np.maximum(primary, np.float32(1e-12)))
        spread = ndimage.gaussian_filter(source, (0, sigma, sigma), mode="constant")
        row = primary.shape[1] // 2
        col = primary.shape[2] // 2 if centre_column is None else int(np.clip(centre_column, 0, primary.shape[2] - 1))
        scale = (
            acq.scatter_fraction
            * float(np.median(primary[:, row, col]))
            / max(float(np.median(spread[:, row, col])), 1e-6)
        )
        signal = primary + np.float32(scale) * spread
    photons = np.float32(acq.photons if acq.photons > 0 else 1.0)
    counts = rng.poisson(signal * photons).astype(np.float32) if acq.photons > 0 else np.asarray(signal, np.float32)
    if acq.detector_blur_mm > 0:
        counts = ndimage.gaussian_filter(
            counts, (0, acq.detector_blur_mm / pitch_iso_mm, acq.detector_blur_mm / pitch_iso_mm), mode="nearest"
        )
    if acq.photons > 0:
        counts += rng.normal(0.0, ELECTRONIC_NOISE_PHOTONS, counts.shape).astype(np.float32)
    return counts / photons


def line_integrals(transmission: np.ndarray, photons: float) -> np.ndarray:
    """``-log`` of the transmission, clipped at one photon as a vendor's log does (a starved or
    negative reading, electronic noise under a metal shadow, gives a finite, wrong value: the streaks)."""
    floor = 1.0 / photons if photons > 0 else 1e-7
    return np.asarray(-np.log(np.maximum(transmission, floor)).astype(np.float32))
