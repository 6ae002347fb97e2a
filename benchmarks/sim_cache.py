"""A disk cache of simulated CBCT cases for the accuracy study (benchmarks/accuracy.py).

Simulating a case takes 0.5-10 minutes; measuring it takes seconds. The cache stores, per case,
the reconstructed volume (``<key>.npz``: int16 voxels, spacing, affine) and what the study needs
besides (``<key>.json``: the settings, the truth document, the true landmarks, the volume's
header and the model options for the FD truth). The key hashes the case's settings and the
sources of ``cbct_osteo/phantom/``, so a change to the simulation never reuses an old volume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

import cbct_osteo.phantom as phantom_package
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.volume import Volume, VolumeMeta

#: The model options ``accuracy.true_fd`` reads back (the rest of SimulationOptions is in the truth).
MODEL_FIELDS = (
    "cortex_mm",
    "border_slope_deg",
    "border_tilt_deg",
    "porous_cortex",
    "metal",
    "bone_fraction",
    "trab_spacing_mm",
    "seed",
)


def sources_hash() -> str:
    """A hash of every source file of the simulation (cbct_osteo/phantom/*.py)."""
    digest = hashlib.sha256()
    for path in sorted(Path(phantom_package.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def case_key(settings: dict[str, Any], sources: str) -> str:
    """The cache key of one case: its settings and the simulation's sources."""
    text = json.dumps(settings, sort_keys=True, default=list) + sources
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class SimCache:
    """Simulated cases stored under ``root`` (created on the first store)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.sources = sources_hash()

    def _paths(self, settings: dict[str, Any]) -> tuple[Path, Path]:
        key = case_key(settings, self.sources)
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def has(self, settings: dict[str, Any]) -> bool:
        volume_path, info_path = self._paths(settings)
        return volume_path.exists() and info_path.exists()

    def store(self, settings: dict[str, Any], case: Any, elapsed_s: float) -> None:
        """Write one simulated case (a PhantomCase); each file is written whole, then renamed."""
        self.root.mkdir(parents=True, exist_ok=True)
        volume_path, info_path = self._paths(settings)
        volume = case.volume
        partial = volume_path.with_suffix(".partial.npz")
        np.savez(partial, voxels=volume.voxels, spacing=np.asarray(volume.spacing), affine=volume.affine)
        os.replace(partial, volume_path)
        info = {
            "settings": settings,
            "sources": self.sources,
            "elapsed_s": elapsed_s,
            "truth": case.truth,
            "landmarks": case.landmarks.to_json(),
            "meta": dataclasses.asdict(volume.meta),
            "model": {name: getattr(case.options, name) for name in MODEL_FIELDS},
        }
        partial_info = info_path.with_suffix(".partial")
        partial_info.write_text(json.dumps(info, default=list), encoding="utf-8")
        os.replace(partial_info, info_path)

    def load(self, settings: dict[str, Any]) -> tuple[SimpleNamespace, float]:
        """One cached case as (a PhantomCase-like namespace: volume, truth, landmarks, options; seconds it took)."""
        volume_path, info_path = self._paths(settings)
        info = json.loads(info_path.read_text(encoding="utf-8"))
        with np.load(volume_path) as arrays:
            voxels, spacing, affine = arrays["voxels"], arrays["spacing"], arrays["affine"]
        meta_fields = dict(info["meta"])
        for name in ("source_files", "warnings"):
            meta_fields[name] = tuple(meta_fields.get(name, ()))
        volume = Volume(voxels, tuple(float(s) for s in spacing), affine, VolumeMeta(**meta_fields))
        model = dict(info["model"])
        model["cortex_mm"] = tuple(model["cortex_mm"])
        case = SimpleNamespace(
            volume=volume,
            truth=info["truth"],
            landmarks=LandmarkSet.from_json(info["landmarks"], str(info_path)),
            options=SimpleNamespace(**model),
        )
        return case, float(info["elapsed_s"])
