"""A simulated CBCT of the anatomical mandible: model -> projections -> FDK -> vendor-like DICOM, with truth.

Entry points: :func:`make_cbct_case` (in memory, a :class:`~cbct_osteo.phantom.PhantomCase`) and
:func:`write_cbct_case` (``OUT/DICOM/``, ``OUT/truth.json``, ``OUT/landmarks.json``, as
``write_phantom``). Needs the optional extra ``[simulate]`` (itk-rtk).

Fields of view
--------------
``"large"``: the reconstruction grid (``shape`` x ``voxel_mm``) is centred on the patient
origin, the middle of the mandible, and the detector covers the largest cylinder inside it.
``"small"``: the grid is centred between the mental foramina and the detector covers a cylinder
of at most 70 mm diameter (a small-field, high-resolution scan). In both, the head outside the
cylinder still attenuates the rays (truncation), and voxels outside the cylinder are set to the
air gray value as vendors do.

The scanner's isocentre is the field centre in both: the rotation axis runs through it and the
central (source) plane is at its height, as when a unit is positioned for the region. (With the
isocentre left at the patient origin, the cone missed the lower 7 mm of the small field, which
then read air just under the inferior border.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import CTImageStorage

from cbct_osteo.io.atomic import write_json_atomic
from cbct_osteo.io.landmarks_file import write_landmarks
from cbct_osteo.phantom import (
    DEFAULT_SHAPE,
    DEFAULT_VOXEL_MM,
    LANDMARKS_FILE,
    SHAPE_RANGE,
    TRUTH_FILE,
    PhantomCase,
    _clear_output,
)
from cbct_osteo.phantom.anatomy import mandible_model
from cbct_osteo.phantom.cbct_sim import (
    Acquisition,
    effective_mu_water,
    gray_values,
    line_integrals,
    polychromatic_counts,
    projection_geometry,
    subpixel_geometry,
)
from cbct_osteo.phantom.dentition import METAL_CHOICES
from cbct_osteo.phantom.dicom import (
    ENHANCED_FILE,
    SERIES_FOLDER,
    ClassicSeriesWriter,
    EnhancedSeriesWriter,
    SeriesIdentity,
)
from cbct_osteo.phantom.render import RESCALE_INTERCEPT, VALUE_MAX, phantom_affine
from cbct_osteo.phantom.scene import Grid, Scene, SceneSettings
from cbct_osteo.phantom.sim_truth import build_sim_truth, sim_landmarks, true_sides
from cbct_osteo.volume import Volume

FOV_CHOICES = ("large", "small")
SMALL_FOV_DIAMETER_MM = 70.0
SMALL_FOV_CENTRE_MM = (0.0, -14.0, -8.0)  # between the foramina; low enough to keep tissue under the border
SIM_VOXEL_RANGE_MM = (0.1, 0.5)
HEAD_BOX_MM = ((-80.0, -50.0, -75.0), (80.0, 105.0, 70.0))
COARSE_VOXEL_MM = 1.5  # out-of-field head: only its attenuation matters
AIR_GRAY = float(gray_values(np.array([0.0]))[0])

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SimulationOptions:
    """Everything that defines one simulated case (see :func:`make_cbct_case`)."""

    shape: tuple[int, int, int] = DEFAULT_SHAPE
    voxel_mm: float = DEFAULT_VOXEL_MM
    seed: int = 0
    cortex_mm: tuple[float, float] = (3.0, 2.6)
    border_slope_deg: float = 10.0
    border_tilt_deg: float = 6.0
    porous_cortex: bool = False
    metal: str = "none"
    fov: str = "large"
    bone_fraction: float = 0.3
    trab_spacing_mm: float = 1.8
    acquisition: Acquisition = field(default_factory=Acquisition)

    def validate(self) -> None:
        if len(tuple(self.shape)) != 3 or not all(  # a caller may pass any sequence
            SHAPE_RANGE[0] <= int(s) <= SHAPE_RANGE[1] for s in self.shape
        ):
            raise ValueError(
                f"shape must be three integers (Z, Y, X) within {SHAPE_RANGE[0]}-{SHAPE_RANGE[1]}, got {self.shape!r}"
            )
        if not SIM_VOXEL_RANGE_MM[0] <= self.voxel_mm <= SIM_VOXEL_RANGE_MM[1]:
            raise ValueError(
                f"voxel_mm must be within {SIM_VOXEL_RANGE_MM[0]}-{SIM_VOXEL_RANGE_MM[1]} mm "
                f"for a simulated CBCT, got {self.voxel_mm!r}"
            )
        if self.metal not in METAL_CHOICES:
            raise ValueError(f"metal must be one of {', '.join(METAL_CHOICES)}, got {self.metal!r}")
        if self.fov not in FOV_CHOICES:
            raise ValueError(f"fov must be one of {', '.join(FOV_CHOICES)}, got {self.fov!r}")
        if isinstance(self.seed, bool) or int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        self.acquisition.validate()


def make_cbct_case(
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    voxel_mm: float = DEFAULT_VOXEL_MM,
    seed: int = 0,
    *,
    cortex_mm: tuple[float, float] = (3.0, 2.6),
    border_slope_deg: float = 10.0,
    border_tilt_deg: float = 6.0,
    porous_cortex: bool = False,
    metal: str = "none",
    fov: str = "large",
    bone_fraction: float = 0.3,
    trab_spacing_mm: float = 1.8,
    progress: Progress | None = None,
    **acquisition: Any,
) -> PhantomCase:
    """Simulate a dental CBCT of the anatomical mandible, in memory.

    Parameters
    ----------
    shape, voxel_mm
        Reconstruction grid (Z, Y, X) and isotropic voxel (0.1-0.5 mm).
    seed
        Seeds the trabecular texture and the quantum noise.
    cortex_mm
        Inferior cortical width (mm) at the (left, right) mental foramen, 0.5-6 each.
    border_slope_deg, border_tilt_deg
        Inferior border slope along the arch at the foramina, and its bucco-lingual tilt (0-25 deg).
    porous_cortex
        A porous (trabecularised, C2/C3-like) endosteal zone of the inferior cortex.
    metal
        ``"none"``, ``"fillings"`` (amalgam fillings and a metal crown) or ``"implant"`` (titanium,
        next to the left foramen).
    fov
        ``"large"`` or ``"small"`` (see the module notes).
    bone_fraction, trab_spacing_mm
        Trabecular network: bone volume fraction and dominant spacing (mm).
    **acquisition
        Fields of :class:`~cbct_osteo.phantom.cbct_sim.Acquisition` (``projections``, ``arc_deg``,
        ``photons``, ``scatter_fraction``, ``detector_blur_mm``, ``detector_offset_mm`` ...).

    Returns
    -------
    PhantomCase
        ``volume`` (int16 gray values, as the written DICOM loads), ``truth`` (the truth.json
        document) and ``landmarks`` (the true landmarks). ``options`` holds the
        :class:`SimulationOptions`.

    Raises
    ------
    ValueError
        For an invalid setting.
    SimulationUnavailable
        If itk-rtk is not installed.
    """
    acq_fields = dict(acquisition)
    acq_fields.setdefault("metal", "amalgam" if metal == "fillings" else "titanium")
    try:
        acq = Acquisition(**acq_fields)
    except TypeError as exc:
        raise ValueError(f"unknown acquisition option: {exc}") from None
    nz, ny, nx = (int(s) for s in shape)
    left_mm, right_mm = (float(w) for w in cortex_mm)
    options = SimulationOptions(
        (nz, ny, nx),
        float(voxel_mm),
        seed,
        (left_mm, right_mm),
        float(border_slope_deg),
        float(border_tilt_deg),
        bool(porous_cortex),
        metal,
        fov,
        float(bone_fraction),
        float(trab_spacing_mm),
        acq,
    )
    options.validate()
    return simulate(options, progress)


def simulate(options: SimulationOptions, progress: Progress | None = None) -> PhantomCase:
    """Run one simulation (see :func:`make_cbct_case`)."""
    from cbct_osteo.phantom import rtk_recon

    rtk_recon.require_rtk()
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    model = mandible_model(options.cortex_mm, options.border_slope_deg, options.border_tilt_deg, options.porous_cortex)
    scene = Scene(
        model, SceneSettings(options.metal, options.bone_fraction, options.trab_spacing_mm, int(options.seed))
    )
    recon_grid, centre = _recon_grid(options)
    radius = _field_radius(options, recon_grid)
    fine, coarse, exclude = _object_grids(recon_grid)
    say("evaluating the anatomy")
    fine_materials = scene.materials(fine)
    coarse_materials = scene.materials(coarse, exclude=exclude, supersample=False)
    lap("anatomy_s")
    acq = options.acquisition
    pg = projection_geometry(acq, radius, recon_grid.shape[0] * recon_grid.voxel_mm, options.voxel_mm)
    say(f"forward projecting {len(pg.angles_deg)} views of {pg.columns} x {pg.rows} pixels")
    fine_s, coarse_s, recon_s = (_scanner_frame(g, centre) for g in (fine, coarse, recon_grid))
    paths = {
        c: rtk_recon.forward_project(
            [(fine_materials[c], fine_s), (coarse_materials[c], coarse_s)],
            acq,
            subpixel_geometry(pg) if c == "metal" else pg,
        )
        for c in ("water", "bone", "metal")
    }
    del fine_materials, coarse_materials
    lap("projection_s")
    rng = np.random.default_rng(np.random.SeedSequence([int(options.seed), 0xC8C7]))
    pitch_iso = pg.pitch_mm / acq.magnification
    central = round((pg.columns - 1) / 2.0 - pg.offset_mm / pg.pitch_mm)
    transmission = polychromatic_counts(paths, acq, pitch_iso, rng, central)
    del paths
    line = line_integrals(transmission, acq.photons)
    del transmission
    lap("physics_s")
    say("reconstructing (FDK)")
    mu = rtk_recon.reconstruct(line, acq, pg, recon_s)
    lap("reconstruction_s")
    gray = gray_values(mu)
    del mu
    _mask_outside_field(gray, recon_grid, centre, radius)
    np.rint(gray, out=gray)
    np.clip(gray, RESCALE_INTERCEPT, VALUE_MAX, out=gray)
    voxels = gray.astype(np.int16)
    affine = phantom_affine(recon_grid.shape, recon_grid.voxel_mm)
    affine[:3, 3] += centre
    identity = _identity(options)
    volume = Volume(voxels, (recon_grid.voxel_mm,) * 3, affine, identity.meta(CTImageStorage))
    sides = true_sides(model, scene)
    landmarks = sim_landmarks(model, sides)
    landmarks.series_uid = identity.series_uid
    landmarks.volume_fingerprint = volume.fingerprint()
    truth = build_sim_truth(model, sides, options, landmarks, pg, radius, centre)
    lap("truth_s")
    truth["phantom"]["timings_s"] = timings
    # PhantomCase.options is typed for the simple phantom; a simulated case carries its SimulationOptions.
    return PhantomCase(volume, truth, landmarks, options)  # type: ignore[arg-type]


def write_cbct_case(
    out_dir: str | Path,
    multiframe: bool = False,
    progress: Progress | None = None,
    jpeg2000: bool = False,
    **settings: Any,
) -> Path:
    """Simulate a case and write ``OUT/DICOM/``, ``OUT/truth.json`` and ``OUT/landmarks.json``.

    ``settings`` are those of :func:`make_cbct_case`; ``multiframe`` writes one Enhanced CT file;
    ``jpeg2000`` compresses each slice file (JPEG 2000 lossless; not with ``multiframe``).
    """
    if jpeg2000 and multiframe:
        raise ValueError("JPEG 2000 compression is written for one file per slice, not with the multi-frame layout")
    out = Path(out_dir)
    case = make_cbct_case(progress=progress, **settings)
    _clear_output(out)
    series_dir = out / SERIES_FOLDER
    # make_cbct_case put SimulationOptions in case.options (see above).
    identity = _identity(case.options)  # type: ignore[arg-type]
    shape = case.volume.shape
    window = _window()
    if multiframe:
        writer: ClassicSeriesWriter | EnhancedSeriesWriter = EnhancedSeriesWriter(
            series_dir / ENHANCED_FILE, identity, case.volume.affine, shape, window
        )
    else:
        writer = ClassicSeriesWriter(series_dir, identity, case.volume.affine, shape, window, jpeg2000=jpeg2000)
    try:
        writer.write(0, case.volume.voxels)
    except BaseException:
        writer.discard()
        raise
    writer.close()
    case.truth["phantom"]["layout"] = (
        "enhanced multi-frame"
        if multiframe
        else "one file per slice, JPEG 2000 lossless"
        if jpeg2000
        else "one file per slice"
    )
    case.truth["phantom"]["series_uid"] = identity.series_uid
    write_json_atomic(out / TRUTH_FILE, case.truth)
    write_landmarks(case.landmarks, out / LANDMARKS_FILE)
    return out


# ---------------------------------------------------------------------- grids and field
def _recon_grid(options: SimulationOptions) -> tuple[Grid, np.ndarray]:
    centre = np.zeros(3) if options.fov == "large" else np.asarray(SMALL_FOV_CENTRE_MM, float)
    nz, ny, nx = options.shape
    v = options.voxel_mm
    origin = centre - (np.array([nx, ny, nz], float) - 1.0) / 2.0 * v
    return Grid((float(origin[0]), float(origin[1]), float(origin[2])), v, (nz, ny, nx)), centre


def _scanner_frame(grid: Grid, isocentre: np.ndarray) -> Grid:
    """``grid`` in the scanner's frame: patient mm relative to the isocentre (RTK rotates about its origin)."""
    x, y, z = (float(grid.origin[k] - isocentre[k]) for k in range(3))
    return Grid((x, y, z), grid.voxel_mm, grid.shape)


def _field_radius(options: SimulationOptions, grid: Grid) -> float:
    _, ny, nx = grid.shape
    radius = min(nx, ny) * grid.voxel_mm / 2.0
    if options.fov == "small":
        radius = min(radius, SMALL_FOV_DIAMETER_MM / 2.0)
    return radius + abs(options.acquisition.detector_offset_mm)


def _object_grids(recon: Grid) -> tuple[Grid, Grid, tuple[np.ndarray, np.ndarray]]:
    """The fine object grid (the reconstruction grid shifted by half a voxel, against the
    'inverse crime' of projecting and reconstructing on one grid, padded to whole coarse voxels)
    and the coarse head grid around it, aligned so the fine box is exactly a block of coarse voxels."""
    v = recon.voxel_mm
    k = max(1, int(round(COARSE_VOXEL_MM / v)))
    coarse_v = k * v
    nz, ny, nx = recon.shape
    counts = [int(math.ceil((n + 1) / k)) * k for n in (nx, ny, nz)]
    lower = np.asarray(recon.origin) - v / 2.0 + v / 2.0 - v  # one voxel of margin, then half-voxel shift
    fine_origin = lower + v / 2.0
    fine = Grid(
        (float(fine_origin[0]), float(fine_origin[1]), float(fine_origin[2])), v, (counts[2], counts[1], counts[0])
    )
    box_lo = lower
    box_hi = lower + np.array(counts, float) * v
    head_lo, head_hi = np.asarray(HEAD_BOX_MM[0]), np.asarray(HEAD_BOX_MM[1])
    before = np.ceil((box_lo - head_lo) / coarse_v)
    after = np.ceil((head_hi - box_hi) / coarse_v)
    coarse_origin = box_lo - before * coarse_v + coarse_v / 2.0
    coarse_counts = (before + after + np.array(counts) / k).astype(int)
    coarse = Grid(
        (float(coarse_origin[0]), float(coarse_origin[1]), float(coarse_origin[2])),
        coarse_v,
        (int(coarse_counts[2]), int(coarse_counts[1]), int(coarse_counts[0])),
    )
    return fine, coarse, (box_lo, box_hi)


def _mask_outside_field(gray: np.ndarray, grid: Grid, centre: np.ndarray, radius: float) -> None:
    x, y = grid.axis(0) - centre[0], grid.axis(1) - centre[1]
    outside = (x[None, :] ** 2 + y[:, None] ** 2) > radius**2
    gray[:, outside] = AIR_GRAY


def _window() -> tuple[float, float]:
    low, high = float(gray_values(np.array([0.012]))[0]), float(gray_values(np.array([0.06]))[0])
    return round((low + high) / 2), round(high - low)


def _identity(options: SimulationOptions) -> SeriesIdentity:
    description = (
        f"Simulated CBCT {options.voxel_mm:g} mm {options.fov} FOV metal {options.metal} seed {int(options.seed)}"
    )
    return SeriesIdentity.create(int(options.seed), f"simulated|{options!r}", description, clean=False)


def water_reference() -> float:
    """Effective water attenuation (1/mm) of the simulated spectrum."""
    return effective_mu_water()
