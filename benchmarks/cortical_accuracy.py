"""Accuracy study of the cortical width W: is every site right, or marked? (issue 15, "Done when").

Three kinds of cases, each measured with clicks on the truth and with clicks up to 0.5 mm off:

- synthetic cortices (tests/measure/measure_synthetic.py: partial-volume voxels from exact mm
  boundaries, Gaussian blur, noise, a trabecular sponge at the endosteum) over width x voxel x
  blur x border slope along the arch;
- the mandible phantom (``cbct_osteo.phantom``) at its two foramina, clean and degraded;
- written cases with ``truth.json`` and ``landmarks.json`` (``cbct-osteo phantom OUT`` or
  ``cbct-osteo phantom OUT --simulate cbct ...``), passed with ``--case DIR`` (repeatable).

Per group it reports sites, how many came out "ok" and their worst error, how many were marked
"uncertain" / "not measurable", and the count of sites silently wrong (quality "ok", |error| >
0.3 mm), which must be 0. Run::

    .venv/bin/python benchmarks/cortical_accuracy.py [--quick] [--case DIR ...]

and paste the table under "Cortical accuracy" in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cbct_osteo.io.landmarks_file import LandmarkSet, read_landmarks
from cbct_osteo.measure.case import measure_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "measure"))

from measure_synthetic import cortex_volume, rotation, tilted  # noqa: E402  (needs tests/measure on sys.path)

SILENT_MM = 0.3
TARGET_MM = 0.15


@dataclass
class Site:
    group: str
    quality: str
    error: float | None


def _offsets(rng: np.random.Generator, trials: int) -> list[tuple[float, float]]:
    """Click offsets (mm): the truth first, then uniform within +-0.5 mm."""
    offsets = [(0.0, 0.0)]
    for _ in range(trials - 1):
        du, dv = rng.uniform(-0.5, 0.5, 2)
        offsets.append((float(du), float(dv)))
    return offsets


def synthetic_sites(quick: bool) -> list[Site]:
    widths = (1.0, 2.5) if quick else (0.6, 1.0, 1.5, 2.5, 4.0)
    voxels = (0.3,) if quick else (0.2, 0.3, 0.4)
    blurs = (0.3,) if quick else (0.2, 0.4, 0.6)
    slopes = (0.0, 25.0) if quick else (0.0, 15.0, 25.0)
    sites = []
    for width, voxel, blur, slope in itertools.product(widths, voxels, blurs, slopes):
        matrix = rotation("y", slope)
        volume = tilted(
            cortex_volume(width, voxel_mm=voxel, blur_mm=blur, noise=30.0, seed=3, extent=(24.0, 20.0, 20.0)), matrix
        )
        centre = matrix @ np.array([0.0, -2.0, 6.0])
        row = matrix.T[2]

        def at(z_body: float, row=row, centre=centre) -> tuple[float, float, float]:
            z = (z_body - row[0] * centre[0] - row[1] * centre[1]) / row[2]
            return (float(centre[0]), float(centre[1]), float(z))

        truth = width / np.cos(np.radians(slope))  # what the cross-section shows (INDICES.md)
        group = (
            f"synthetic W {'>= 1' if width >= 1.0 else '< 1'} mm, voxel {'<= 0.3' if voxel <= 0.3 else '0.4'} mm, "
            f"slope {'<= 25' if slope <= 25 else '> 25'} deg, blur sigma {'<= 0.4' if blur <= 0.4 else '0.6'} mm"
        )
        for oo, oi in _offsets(np.random.default_rng(int(width * 100 + voxel * 10 + slope)), 3):
            marks = LandmarkSet(arch_points=[tuple(matrix @ np.array([x, 0.0, 0.0])) for x in np.linspace(-8, 8, 6)])
            outer, inner = at(-6.0), at(-6.0 + width)
            marks.sides["left"].points.update(
                {
                    "foramen_centre": tuple(centre),
                    "border_outer": (outer[0], outer[1], outer[2] + oo),
                    "border_inner": (inner[0], inner[1], inner[2] + oi),
                }
            )
            w = measure_case(volume, marks).sides["left"]["W"]
            sites.append(Site(group, w.quality, None if w.value is None else w.value - truth))
    return sites


def _case_sites(group: str, volume, landmarks: LandmarkSet, truth: dict, trials: int) -> list[Site]:
    sites = []
    rng = np.random.default_rng(11)
    for oo, oi in _offsets(rng, trials):
        marks = landmarks.copy()
        for side in marks.sides:
            points = marks.sides[side].points
            if "border_outer" in points and "border_inner" in points:
                points["border_outer"] = tuple(np.add(points["border_outer"], (0, 0, oo)))
                points["border_inner"] = tuple(np.add(points["border_inner"], (0, 0, oi)))
        result = measure_case(volume, marks)
        for side, by_id in result.sides.items():
            true_w = ((truth.get("sides", {}).get(side) or {}).get("measurements", {}).get("W") or {}).get("value")
            if true_w is None:
                continue
            w = by_id["W"]
            sites.append(Site(group, w.quality, None if w.value is None else w.value - float(true_w)))
    return sites


def phantom_sites(quick: bool) -> list[Site]:
    from cbct_osteo.phantom import make_phantom

    sites = []
    for voxel, clean in [(0.3, False)] if quick else [(0.2, True), (0.2, False), (0.3, True), (0.3, False)]:
        shape = tuple(int(round(e / voxel)) for e in (40.0, 50.0, 60.0))
        case = make_phantom(shape, voxel, seed=1, clean=clean)
        sites += _case_sites(
            f"phantom {voxel} mm {'clean' if clean else 'degraded'}", case.volume, case.landmarks, case.truth, 4
        )
    return sites


def written_sites(folders: list[str]) -> list[Site]:
    import cbct_osteo

    sites = []
    for folder in folders:
        path = Path(folder)
        truth = json.loads((path / "truth.json").read_text(encoding="utf-8"))
        landmarks = read_landmarks(path / "landmarks.json")
        sites += _case_sites(f"case {path.name}", cbct_osteo.load(path), landmarks, truth, 4)
    return sites


def table(sites: list[Site]) -> str:
    lines = [
        "| group | sites | ok | worst ok error mm | uncertain | worst uncertain error mm | not measurable | "
        f"silently wrong (ok, > {SILENT_MM} mm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group in dict.fromkeys(s.group for s in sites):
        rows = [s for s in sites if s.group == group]
        ok = [abs(s.error) for s in rows if s.quality == "ok" and s.error is not None]
        unc = [abs(s.error) for s in rows if s.quality == "uncertain" and s.error is not None]
        lost = sum(s.quality == "not measurable" for s in rows)
        silent = sum(e > SILENT_MM for e in ok)
        lines.append(
            f"| {group} | {len(rows)} | {len(ok)} | {max(ok):.3f} | " if ok else f"| {group} | {len(rows)} | 0 | – | "
        )
        lines[-1] += (f"{len(unc)} | {max(unc):.3f} | " if unc else "0 | – | ") + f"{lost} | {silent} |"
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few synthetic and one phantom condition")
    parser.add_argument("--case", action="append", default=[], help="a written case folder with truth.json")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--no-phantom", action="store_true")
    args = parser.parse_args()
    sites: list[Site] = []
    if not args.no_synthetic:
        sites += synthetic_sites(args.quick)
    if not args.no_phantom:
        sites += phantom_sites(args.quick)
    sites += written_sites(args.case)
    print(table(sites))
    silent = sum(1 for s in sites if s.quality == "ok" and s.error is not None and abs(s.error) > SILENT_MM)
    print(f"\n{len(sites)} sites; silently wrong by more than {SILENT_MM} mm: {silent}")


if __name__ == "__main__":
    main()
