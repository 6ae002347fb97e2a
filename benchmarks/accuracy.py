"""Accuracy study: the measurement against the anatomical truth of simulated CBCT scans.

Each case is a simulated CBCT (``cbct_osteo.phantom.simulated``: anatomical mandible, polychromatic
cone-beam projections, scatter, Poisson noise, FDK) in a small field between the mental foramina;
both sides are measured with ``cbct_osteo.indices.analyse_case`` (edge-refined, the default)
from the true landmarks ("clicks on the truth") and from landmarks moved 0.5 mm in a random
direction of the cross-section ("clicks 0.5 mm off", two draws per side). Errors are measured
minus true (mm). A site counts as "not measurable" when the results say so (``quality`` field,
where the measurement reports one) or give no value. BV/TV is compared with the model's true
bone fraction of the ROI, FD with the White & Rudolph FD of the model's noise-free bone image
sampled on the same ROI grid (there is no other "true" FD).

Run::

    PYTHONPATH=. .venv/bin/python benchmarks/accuracy.py --quick          # ~10 min on 2 cores
    PYTHONPATH=. .venv/bin/python benchmarks/accuracy.py --cache DIR --simulate-only   # full grid, ~1 h idle
    PYTHONPATH=. .venv/bin/python benchmarks/accuracy.py --cache DIR --json raw.json   # measure it: minutes

``--cache DIR`` stores each simulated case (benchmarks/sim_cache.py, keyed by its settings and
the simulation's sources) and re-reads it, so the measurement can be re-run on new measurement
code without simulating again; ``--simulate-only`` fills the cache, ``--cached-only`` measures
only what is there. Paste the tables under "Accuracy" in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cbct_osteo.indices.case import analyse_case
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.measure.fractal import white_rudolph_dimension
from cbct_osteo.measure.trabecular import ROI_PIXEL_MM
from cbct_osteo.phantom.anatomy import mandible_model
from cbct_osteo.phantom.anatomy_truth import point_materials
from cbct_osteo.phantom.scene import Scene, SceneSettings
from cbct_osteo.phantom.simulated import make_cbct_case
from cbct_osteo.reformat import ArchCurve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accuracy_tables import MEASURED, summary, table, trabecular_table
from sim_cache import SimCache, case_key

FIELD_MM = (30.0, 70.0, 70.0)  # z, y, x of the small field (border to above the foramina, soft tissue below)
#: The 0.125 mm scans use a smaller field (5 mm of soft tissue under the border to 4 mm above the
#: foramina, both foramina inside) to keep them at ~47 Mvoxels (the 70 mm field would be 75).
FINE_FIELD_MM = (24.0, 62.0, 62.0)
FINE_VOXEL_MM = 0.15
CLICK_OFF_MM = 0.5
CORTEX_PAIRS = ((0.6, 1.0), (2.0, 3.0), (5.0, 5.0))  # (left, right): the five widths of the grid


@dataclass(frozen=True)
class Case:
    """One simulated scan of the study."""

    group: str
    voxel_mm: float = 0.3
    cortex_mm: tuple[float, float] = (2.0, 3.0)
    slope_deg: float = 10.0
    metal: str = "none"
    photons: float = 20000.0
    bone_fraction: float = 0.3
    blur_mm: float = 0.2
    seed: int = 1
    porous: bool = False

    def settings(self) -> dict:
        field_mm = FINE_FIELD_MM if self.voxel_mm < FINE_VOXEL_MM else FIELD_MM
        shape = tuple(int(round(extent / self.voxel_mm)) for extent in field_mm)
        extra = {"porous_cortex": True} if self.porous else {}
        return {
            "shape": shape,
            "voxel_mm": self.voxel_mm,
            "fov": "small",
            "seed": self.seed,
            "cortex_mm": self.cortex_mm,
            "border_slope_deg": self.slope_deg,
            "metal": self.metal,
            "photons": self.photons,
            "bone_fraction": self.bone_fraction,
            "detector_blur_mm": self.blur_mm,
            "projections": 180,
            **extra,
        }


@dataclass
class Site:
    """The errors at one foramen of one case."""

    case: Case
    side: str
    true: dict[str, float]
    on_truth: dict[str, float | None] = field(default_factory=dict)
    off: list[dict[str, float | None]] = field(default_factory=list)
    quality: dict[str, str] = field(default_factory=dict)
    off_quality: list[dict[str, str]] = field(default_factory=list)
    trabecular: dict[str, float | None] = field(default_factory=dict)
    #: S, I with clicks on the truth: where the true margin lies outside the image's wall (mm).
    margin_offsets: dict[str, float | None] = field(default_factory=dict)
    #: S, I of every click set: (|error| <= 2 x the stated uncertainty, quality).
    si_coverage: list[tuple[bool, str]] = field(default_factory=list)


def _voxel_cases(voxels: Sequence[float]) -> list[Case]:
    """The "voxel x cortex" scans: every cortex pair at each voxel size (mm), flat border."""
    return [
        Case("voxel x cortex", voxel_mm=v, cortex_mm=c, slope_deg=0.0)
        for v, c in itertools.product(voxels, CORTEX_PAIRS)
    ]


def grid(quick: bool) -> list[Case]:
    """The cases: one factor at a time around a base (0.3 mm, no metal, 20000 photons), crossed where
    factors interact (voxel x cortex, slope x cortex, metal x cortex and x slope). Ordered so the
    0.3 mm cases come first and the costly 0.125 mm ones last."""
    voxels = (0.3, 0.4) if quick else (0.3, 0.2, 0.4, 0.125)
    slopes = (0.0, 25.0) if quick else (0.0, 15.0, 25.0)
    cases = _voxel_cases(voxels[:1])
    cases += [
        Case("slope x cortex", cortex_mm=c, slope_deg=s) for s, c in itertools.product(slopes, CORTEX_PAIRS) if s != 0.0
    ]
    cases += [
        Case("metal (implant by the left foramen)", cortex_mm=c, metal="implant", slope_deg=0.0)
        for c in (CORTEX_PAIRS[:2] if quick else CORTEX_PAIRS)
    ]
    if not quick:
        cases += [Case("metal x slope", cortex_mm=CORTEX_PAIRS[1], metal="implant", slope_deg=25.0)]
        cases += [
            Case("porous endosteal zone", cortex_mm=(2.5, 2.5), slope_deg=s, porous=True, seed=3) for s in (0.0, 15.0)
        ]
    cases += [
        Case("noise (5000 photons)", cortex_mm=c, photons=5000.0, slope_deg=0.0)
        for c in (CORTEX_PAIRS[:1] if quick else CORTEX_PAIRS)
    ]
    cases += _voxel_cases(voxels[1:3])
    fractions = (0.15, 0.45) if quick else (0.15, 0.3, 0.45)
    blurs = (0.1, 0.5) if quick else (0.1, 0.3, 0.5)
    cases += [
        Case("trabecular", bone_fraction=f, blur_mm=b, slope_deg=0.0) for f, b in itertools.product(fractions, blurs)
    ]
    cases += _voxel_cases(voxels[3:])
    return cases


def _moved(landmarks: LandmarkSet, rng: np.random.Generator) -> LandmarkSet:
    """A copy with each side's points moved CLICK_OFF_MM in random directions of its cross-section."""
    moved = landmarks.copy()
    arch = ArchCurve.from_points(np.array(landmarks.arch_points))
    helper = np.array([0.0, 0.0, 1.0])
    for marks in moved.sides.values():
        tangent = np.asarray(arch.tangent(arch.closest_arc_position(np.array(marks.points["foramen_centre"]))))
        across = np.cross(tangent, helper)
        across /= np.linalg.norm(across)
        for name in ("foramen_centre", "foramen_superior", "foramen_inferior", "border_outer", "border_inner"):
            angle = rng.uniform(0.0, 2.0 * math.pi)
            step = CLICK_OFF_MM * (math.cos(angle) * helper + math.sin(angle) * across)
            marks.points[name] = tuple(float(v) for v in np.asarray(marks.points[name]) + step)
    return moved


def _values(result: dict, side: str) -> tuple[dict[str, float | None], dict[str, str]]:
    measurements = result["sides"][side]["measurements"]
    values = {mid: measurements.get(mid, {}).get("value") for mid in MEASURED + ("BV_TV", "FD")}
    quality = {mid: str(measurements.get(mid, {}).get("quality", "")) for mid in MEASURED + ("BV_TV", "FD")}
    quality["W_method"] = str(measurements.get("W", {}).get("method", ""))  # "edge", or "manual" (fallback)
    return values, quality


def _margin_facts(site: Site, results: list[dict]) -> None:
    """The margin check's calibration numbers (clicks on the truth) and S, I coverage (every click set)."""
    for k, result in enumerate(results):
        for mid in ("S", "I"):
            m = result["sides"][site.side]["measurements"].get(mid, {})
            if k == 0:
                site.margin_offsets[mid] = (
                    m.get("details", {}).get("margin_check", {}).get("click_outside_image_wall_mm")
                )
            if m.get("value") is not None and m.get("uncertainty") is not None:
                covered = abs(m["value"] - site.true[mid]) <= 2.0 * m["uncertainty"]
                site.si_coverage.append((bool(covered), str(m.get("quality", ""))))


def true_fd(case_obj, side: str) -> float:
    """White & Rudolph FD of the model's noise-free bone image on the measurement's ROI grid."""
    landmarks = case_obj.landmarks
    options = case_obj.options
    model = mandible_model(options.cortex_mm, options.border_slope_deg, options.border_tilt_deg, options.porous_cortex)
    scene = Scene(
        model, SceneSettings(options.metal, options.bone_fraction, options.trab_spacing_mm, int(options.seed))
    )
    arch = ArchCurve.from_points(np.array(landmarks.arch_points))
    roi = landmarks.sides[side].trab_roi
    centre = np.asarray(roi.centre, float)
    s = arch.closest_arc_position(centre)
    n = max(4, int(round(roi.size_mm / ROI_PIXEL_MM)))
    offsets = (np.arange(n) - (n - 1) / 2.0) * ROI_PIXEL_MM
    points = centre - offsets[:, None, None] * arch.up + offsets[None, :, None] * arch.normal(s)
    bone = point_materials(scene, points.reshape(-1, 3))["bone"].reshape(n, n)
    return float(white_rudolph_dimension(bone).dimension)


def simulated_case(case: Case, cache: SimCache | None) -> tuple[Any, float]:
    """The simulated scan of ``case`` (from the cache when there) and the seconds its simulation took."""
    settings = case.settings()
    if cache is not None and cache.has(settings):
        return cache.load(settings)
    start = time.perf_counter()
    simulated = make_cbct_case(**settings)
    elapsed = time.perf_counter() - start
    if cache is not None:
        cache.store(settings, simulated, elapsed)
    return simulated, elapsed


def measure_sites(case: Case, simulated: Any) -> list[Site]:
    """Both sides of one scan: clicks on the truth, and two draws of clicks 0.5 mm off (seeded per case)."""
    rng = np.random.default_rng(int(case_key(case.settings(), "clicks")[:8], 16))
    on_truth = analyse_case(simulated.volume, simulated.landmarks).to_json()
    off = [analyse_case(simulated.volume, _moved(simulated.landmarks, rng)).to_json() for _ in range(2)]
    sites = []
    for side in ("left", "right"):
        true = {mid: simulated.truth["sides"][side]["measurements"][mid]["value"] for mid in ("W", "S", "I", "BV_TV")}
        site = Site(case, side, true)
        site.on_truth, site.quality = _values(on_truth, side)
        site.off_quality = []
        for result in off:
            values, quality = _values(result, side)
            site.off.append(values)
            site.off_quality.append(quality)
        _margin_facts(site, [on_truth, *off])
        if case.group == "trabecular":
            site.trabecular = {
                "BV_TV": site.on_truth["BV_TV"],
                "BV_TV_true": true["BV_TV"],
                "FD": site.on_truth["FD"],
                "FD_true": true_fd(simulated, side),
            }
        sites.append(site)
    return sites


def _describe(case: Case) -> str:
    return (
        f"{case.group}: {case.voxel_mm:g} mm, cortex {case.cortex_mm}, slope {case.slope_deg:g}, metal {case.metal}, "
        f"photons {case.photons:g}{', porous' if case.porous else ''}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced grid (~10 min on 2 cores)")
    parser.add_argument("--json", default=None, help="also write the raw per-site numbers here")
    parser.add_argument("--cache", default=None, metavar="DIR", help="store and re-read simulated scans here")
    parser.add_argument("--simulate-only", action="store_true", help="fill the cache, measure nothing")
    parser.add_argument("--cached-only", action="store_true", help="measure only the scans in the cache")
    parser.add_argument(
        "--voxels",
        type=float,
        nargs="+",
        default=None,
        metavar="MM",
        help="only the voxel x cortex scans at these voxel sizes (to add rows to a table)",
    )
    args = parser.parse_args()
    if (args.simulate_only or args.cached_only) and not args.cache:
        parser.error("--simulate-only and --cached-only need --cache DIR")
    cache = SimCache(args.cache) if args.cache else None
    cases = grid(args.quick)
    if args.voxels:
        cases = _voxel_cases(args.voxels)
    if args.cached_only:
        assert cache is not None
        cases = [c for c in cases if cache.has(c.settings())]
    sites: list[Site] = []
    simulated_s = 0.0
    started = time.perf_counter()
    for k, case in enumerate(cases, 1):
        if args.simulate_only and cache is not None and cache.has(case.settings()):
            continue
        simulated, elapsed = simulated_case(case, cache)
        simulated_s += elapsed
        print(f"[{k}/{len(cases)}] {_describe(case)}: simulated in {elapsed:.0f} s", file=sys.stderr, flush=True)
        if not args.simulate_only:
            sites += measure_sites(case, simulated)
        del simulated
    wall = time.perf_counter() - started
    if args.simulate_only:
        print(f"{len(cases)} cases in the cache, {wall:.0f} s", file=sys.stderr)
        return 0
    print(
        f"{len(cases)} cases, {len(sites)} sites; simulation {simulated_s:.0f} s (when run), this run {wall:.0f} s "
        f"(cores: {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}); "
        "errors = measured - true, mm: mean ± SD (worst)\n"
    )
    print(table(sites))
    print()
    print(summary(sites))
    print()
    print(trabecular_table(sites))
    if args.json:
        raw = [
            {
                "case": s.case.__dict__,
                "side": s.side,
                "true": s.true,
                "on_truth": s.on_truth,
                "off": s.off,
                "quality": s.quality,
                "off_quality": s.off_quality,
                "trabecular": s.trabecular,
                "margin_offsets": s.margin_offsets,
                "si_coverage": s.si_coverage,
            }
            for s in sites
        ]
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(raw, handle, indent=1, default=list)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
