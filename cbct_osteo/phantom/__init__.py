"""A synthetic CBCT of a mandible with exact ground truth: our test case, demo case and QA phantom.

No real dental CBCT is available to the project, so the truth is built the way QA phantoms are:
a horseshoe mandibular body (catenary arch, flat horizontal inferior border, inferior cortex of
known width ``W(s)`` varying 2.2–3.4 mm along the arch, 1.1–1.3 mm buccal/lingual plates), a
trabecular core of controllable bone fraction and spacing, a mandibular canal rising to a mental
foramen on each side, teeth (one metal crown, one empty socket), soft tissue and air; then
optional CBCT degradations (blur, noise, cupping, metal streaks, uncalibrated gray values).
See :mod:`cbct_osteo.phantom.geometry` for every dimension and :mod:`.render` for the
degradations.

Entry points
------------
- :func:`make_phantom` returns a :class:`PhantomCase` in memory (volume, truth, landmarks);
- :func:`write_phantom` writes the DICOM series, ``truth.json`` and ``landmarks.json``, in slabs;
- :func:`ensure_demo_phantom` writes the demo case once into the user's cache folder;
- :func:`make_cbct_case` / :func:`write_cbct_case` (from :mod:`.simulated`, needing the optional
  ``[simulate]`` extra, itk-rtk): the anatomical mandible (:mod:`.anatomy`) through a simulated
  cone-beam scan and FDK reconstruction, with the same truth and landmarks files.

The default phantom is ``DEFAULT_SHAPE = (140, 360, 360)`` voxels of ``DEFAULT_VOXEL_MM = 0.3`` mm
(a 108 x 108 x 42 mm field of view holding the whole mandibular body and teeth). The anatomy is
defined in millimetres around the field of view's centre, so other voxel sizes and shapes show
the same mandible (cropped if the field of view is smaller).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import CTImageStorage

from cbct_osteo.io.atomic import write_json_atomic
from cbct_osteo.io.landmarks_file import LandmarkSet, write_landmarks
from cbct_osteo.phantom.dicom import (
    ENHANCED_FILE,
    SERIES_FOLDER,
    ClassicSeriesWriter,
    EnhancedSeriesWriter,
    SeriesIdentity,
)
from cbct_osteo.phantom.geometry import ANATOMY
from cbct_osteo.phantom.render import PhantomOptions, Renderer
from cbct_osteo.phantom.truth import GENERATOR, build_truth, true_landmarks
from cbct_osteo.volume import Volume

DEFAULT_SHAPE: tuple[int, int, int] = (140, 360, 360)
DEFAULT_VOXEL_MM = 0.3
#: A small, fast phantom for tests (about a second): the whole body, crowns slightly cropped.
SMALL_SHAPE: tuple[int, int, int] = (110, 300, 300)
SMALL_VOXEL_MM = 0.35
VOXEL_RANGE_MM = (0.1, 1.0)
SHAPE_RANGE = (8, 2048)
TRUTH_FILE = "truth.json"
LANDMARKS_FILE = "landmarks.json"

Progress = Callable[[int, int], None]


@dataclass
class PhantomCase:
    """A phantom in memory.

    Attributes
    ----------
    volume
        The image: int16 values after rescale (gray values, or HU-like when clean), (z, y, x),
        exactly what loading the written DICOM gives.
    truth
        The ``truth.json`` document (true W, S, I, BV_TV per side, and the phantom's description).
    landmarks
        The true landmarks, with the volume's series UID and fingerprint.
    options
        The texture and degradation settings used.
    """

    volume: Volume
    truth: dict[str, Any]
    landmarks: LandmarkSet
    options: PhantomOptions


def make_phantom(
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    voxel_mm: float = DEFAULT_VOXEL_MM,
    seed: int = 0,
    clean: bool = False,
    **options: Any,
) -> PhantomCase:
    """Generate a phantom in memory.

    Parameters
    ----------
    shape
        (Z, Y, X) voxels. ``(110, 300, 300)`` with ``voxel_mm=0.35`` is a small, fast case.
    voxel_mm
        Isotropic voxel size in mm (0.1–1.0; CBCT devices use 0.1–0.4).
    seed
        Seeds the trabecular texture, the noise and the metal streaks; same seed, same voxels.
    clean
        ``True`` turns every degradation off (ideal phantom, HU-like values); explicit options still apply.
    **options
        Fields of :class:`~cbct_osteo.phantom.render.PhantomOptions`: ``blur_sigma_mm``,
        ``noise_sd``, ``noise_model``, ``cupping``, ``metal_streaks``, ``gray_gain``,
        ``gray_offset``, ``bone_fraction``, ``trab_spacing_mm``.

    Raises
    ------
    ValueError, TypeError
        For an invalid shape, voxel size, seed or option.
    """
    renderer, identity = _prepare(shape, voxel_mm, seed, clean, options)
    voxels = np.empty(renderer.shape, dtype=np.int16)
    for z0, z1, values in _slabs(renderer, None):
        voxels[z0:z1] = values
    volume = Volume(voxels, (renderer.voxel_mm,) * 3, renderer.affine, identity.meta(CTImageStorage))
    landmarks = true_landmarks(ANATOMY)
    landmarks.series_uid = identity.series_uid
    landmarks.volume_fingerprint = volume.fingerprint()
    truth = build_truth(
        ANATOMY, renderer.texture, renderer.options, renderer.shape, renderer.voxel_mm, renderer.seed, landmarks
    )
    return PhantomCase(volume, truth, landmarks, renderer.options)


def write_phantom(
    out_dir: str | Path,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    voxel_mm: float = DEFAULT_VOXEL_MM,
    seed: int = 0,
    clean: bool = False,
    multiframe: bool = False,
    progress: Progress | None = None,
    **options: Any,
) -> Path:
    """Write a phantom: ``OUT/DICOM/`` (the series), ``OUT/truth.json`` and ``OUT/landmarks.json``.

    The volume is rendered and written in slabs of slices, so memory stays near one slab
    (about 20 million voxels) whatever the size. Parameters are those of :func:`make_phantom`, plus:

    Parameters
    ----------
    out_dir
        A new or empty folder, or one holding an earlier phantom (which is replaced).
    multiframe
        Write one Enhanced CT Image Storage file (``OUT/DICOM/CT_ENHANCED.dcm``) instead of one
        CT Image Storage file per slice (``OUT/DICOM/CT00001.dcm`` ...).
    progress
        Called as ``progress(slices_done, slices_total)``.

    Returns
    -------
    Path
        ``out_dir``; ``cbct_osteo.load(out_dir)`` opens the series.
    """
    out = Path(out_dir)
    renderer, identity = _prepare(shape, voxel_mm, seed, clean, options)
    _clear_output(out)
    series_dir = out / SERIES_FOLDER
    window = _window(renderer.options)
    if multiframe:
        writer: ClassicSeriesWriter | EnhancedSeriesWriter = EnhancedSeriesWriter(
            series_dir / ENHANCED_FILE, identity, renderer.affine, renderer.shape, window
        )
    else:
        writer = ClassicSeriesWriter(series_dir, identity, renderer.affine, renderer.shape, window)
    sampler = _FingerprintSampler(renderer.shape, renderer.affine)
    try:
        for z0, _z1, values in _slabs(renderer, progress):
            writer.write(z0, values)
            sampler.add(z0, values)
    except BaseException:
        writer.discard()
        shutil.rmtree(series_dir, ignore_errors=True)  # no half-written series is left behind
        raise
    writer.close()
    landmarks = true_landmarks(ANATOMY)
    landmarks.series_uid = identity.series_uid
    landmarks.volume_fingerprint = sampler.fingerprint()
    truth = build_truth(
        ANATOMY, renderer.texture, renderer.options, renderer.shape, renderer.voxel_mm, renderer.seed, landmarks
    )
    truth["phantom"]["layout"] = "enhanced multi-frame" if multiframe else "one file per slice"
    truth["phantom"]["series_uid"] = identity.series_uid
    write_json_atomic(out / TRUTH_FILE, truth)
    write_landmarks(landmarks, out / LANDMARKS_FILE)
    return out


def default_demo_dir() -> Path:
    """Where the demo phantom lives: ``$XDG_CACHE_HOME/cbct-osteo/demo-phantom`` (``~/.cache/...`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cbct-osteo" / "demo-phantom"


def ensure_demo_phantom(folder: str | Path | None = None, progress: Progress | None = None) -> Path:
    """Write the default phantom (seed 0, degraded) once and return its folder.

    It is written into a temporary sibling folder and renamed into place, so an interrupted
    run never leaves a half-written demo; a demo written by another program version is rewritten.
    """
    target = Path(folder) if folder is not None else default_demo_dir()
    if _is_current_demo(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-phantom-", dir=target.parent))
    try:
        write_phantom(staging, progress=progress)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


# ---------------------------------------------------------------------- internals
def _prepare(
    shape: Any, voxel_mm: Any, seed: Any, clean: bool, options: dict[str, Any]
) -> tuple[Renderer, SeriesIdentity]:
    """Validate the parameters and build the renderer and the series identity."""
    try:
        shape_t = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be three integers (Z, Y, X), got {shape!r}") from None
    if len(shape_t) != 3 or not all(SHAPE_RANGE[0] <= s <= SHAPE_RANGE[1] for s in shape_t):
        raise ValueError(
            f"shape must be three integers (Z, Y, X) within {SHAPE_RANGE[0]}–{SHAPE_RANGE[1]}, got {shape!r}"
        )
    voxel = float(voxel_mm)
    if not VOXEL_RANGE_MM[0] <= voxel <= VOXEL_RANGE_MM[1]:
        raise ValueError(f"voxel_mm must be within {VOXEL_RANGE_MM[0]}–{VOXEL_RANGE_MM[1]} mm, got {voxel_mm!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    resolved = PhantomOptions.resolve(bool(clean), options)
    renderer = Renderer(shape_t, voxel, int(seed), resolved)
    parameters = f"{shape_t}|{voxel!r}|{resolved!r}"
    kind = "clean" if resolved.clean else "CBCT-like"
    description = f"Mandible phantom ({kind}, seed {int(seed)}, {voxel:g} mm)"
    return renderer, SeriesIdentity.create(int(seed), parameters, description, resolved.clean)


def _slabs(renderer: Renderer, progress: Progress | None) -> Iterator[tuple[int, int, np.ndarray]]:
    """Render slabs in order, two at a time in worker threads (numpy and scipy release the GIL).

    At most ``workers + 1`` slabs are in flight, so memory stays bounded when the consumer
    (a DICOM writer) is slower than the renderer.
    """
    total = renderer.shape[0]
    step = renderer.slab_size()
    ranges = [(z0, min(total, z0 + step)) for z0 in range(0, total, step)]
    workers = max(1, min(2, os.cpu_count() or 1, len(ranges)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, int, Future[np.ndarray]]] = deque()
        for z0, z1 in ranges:
            pending.append((z0, z1, pool.submit(renderer.render, z0, z1)))
            if len(pending) > workers:
                yield _finish(pending.popleft(), total, progress)
        while pending:
            yield _finish(pending.popleft(), total, progress)


def _finish(
    item: tuple[int, int, Future[np.ndarray]], total: int, progress: Progress | None
) -> tuple[int, int, np.ndarray]:
    z0, z1, future = item
    values = future.result()
    if progress is not None:
        progress(z1, total)
    return z0, z1, values


def _window(options: PhantomOptions) -> tuple[float, float]:
    """A bone window (centre, width) in the written gray values."""
    low, high = options.gray(-200.0), options.gray(2800.0)
    return round((low + high) / 2), round(high - low)


class _FingerprintSampler:
    """Collects, slab by slab, the sparse voxel sample :meth:`Volume.fingerprint` hashes.

    Writing never holds the whole volume, yet the landmarks must carry the fingerprint that
    loading the written files gives; this reproduces ``Volume.fingerprint`` (a test checks they agree).
    """

    def __init__(self, shape: tuple[int, int, int], affine: np.ndarray) -> None:
        self.shape = shape
        self.affine = affine
        nz, ny, nx = shape
        self.steps = (max(1, nz // 16), max(1, ny // 32), max(1, nx // 32))
        self.planes: dict[int, np.ndarray] = {}

    def add(self, z0: int, values: np.ndarray) -> None:
        sz, sy, sx = self.steps
        first = -(-z0 // sz) * sz
        for z in range(first, z0 + len(values), sz):
            self.planes[z] = values[z - z0, ::sy, ::sx].copy()

    def fingerprint(self) -> str:
        sample = np.stack([self.planes[z] for z in sorted(self.planes)])
        digest = hashlib.sha256()
        digest.update(repr(tuple(self.shape)).encode())
        digest.update(np.round(np.asarray(self.affine, dtype=float), 4).astype("<f8").tobytes())
        digest.update(np.ascontiguousarray(sample).astype("<f8").tobytes())
        return digest.hexdigest()[:32]


def _clear_output(out: Path) -> None:
    """Make ``out`` ready: create it, or empty an earlier phantom; refuse a folder holding anything else."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    if not out.exists():
        out.mkdir(parents=True)
        return
    entries = {p.name for p in out.iterdir()}
    if not entries:
        return
    ours = {SERIES_FOLDER, TRUTH_FILE, LANDMARKS_FILE}
    if not (TRUTH_FILE in entries and entries <= ours):
        raise ValueError(f"{out} is not empty and does not hold an earlier phantom; choose a new or empty folder")
    series = out / SERIES_FOLDER
    if series.is_dir():
        shutil.rmtree(series)


def _is_current_demo(folder: Path) -> bool:
    try:
        truth = json.loads((folder / TRUTH_FILE).read_text(encoding="utf-8"))
        generator = truth["phantom"]["generator"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        str(generator).startswith(GENERATOR)
        and (folder / SERIES_FOLDER).is_dir()
        and (folder / LANDMARKS_FILE).is_file()
    )


def __getattr__(name: str) -> Any:
    """``make_cbct_case`` and ``write_cbct_case`` are imported on first use (they pull in the simulation)."""
    if name in ("make_cbct_case", "write_cbct_case"):
        from cbct_osteo.phantom import simulated

        return getattr(simulated, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_SHAPE",
    "DEFAULT_VOXEL_MM",
    "PhantomCase",
    "PhantomOptions",
    "SMALL_SHAPE",
    "SMALL_VOXEL_MM",
    "default_demo_dir",
    "ensure_demo_phantom",
    "make_cbct_case",
    "make_phantom",
    "write_cbct_case",
    "write_phantom",
]
