#!/usr/bin/env python
"""Figures for docs/simulation.md: a simulated CBCT next to the real head CT, same three views.

Usage::

    PYTHONPATH=. .venv/bin/python scripts/make_comparison_figures.py [--case DIR] [--out docs/images]

``--case`` and ``--tall-case`` are folders written by ``cbct-osteo phantom DIR --simulate cbct``
(default: simulate both with amalgam fillings into temporary folders: the default case, 0.3 mm, for
the axial slice and the cross-section, ~1.5 minutes; and a tall large field, 224 x 360 x 360 at
0.5 mm, 112 x 180 mm, that reaches the condyles, for the panoramic, ~3-5 minutes). The simulated panoramic follows
the true arch continued up the rami (as a reader draws the curve); the real one follows an arch
traced on the body. ``simulated-metal-axial.png`` shows the default case's slice through the
metal next to the same case simulated without scatter (``scatter_fraction=0``, ~1.5 minutes more);
the real scan has no dental metal. The real scan is the
Visible Human head CT in ../shared/data/real_volumes/vhp_male_head_mandible ("Courtesy of the U.S.
National Library of Medicine"). Its dental arch is traced here from the bone of one axial slab
(a figure helper, not the program's locator), and its cross-section is taken 25 mm left of the
midline, roughly where a mental foramen lies.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

import cbct_osteo
from cbct_osteo.io.landmarks_file import read_landmarks
from cbct_osteo.phantom.anatomy import mandible_model
from cbct_osteo.phantom.ramus import ramus_frame
from cbct_osteo.reformat import ArchCurve, cross_section, panoramic

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real_volumes" / "vhp_male_head_mandible"
REAL_ARCH_SLICE = 70  # an axial slice through the real mandibular body
PANEL_HEIGHT = 360
TALL_VOXEL_MM = 0.5
TALL_SHAPE = (224, 360, 360)  # 112 mm tall, 180 mm across: the rami and condyles inside the field
PANORAMIC_HEIGHT_MM = 90.0
PANORAMIC_CENTRE_Z_MM = 10.0
METAL_Z_MM = 19.0  # through the occlusal fillings and the metal crown


#: Bone windows (low, high) as a reader would set them: the simulation's gray values (soft tissue ~300,
#: cortical bone ~2600) and the real CT's Hounsfield units.
SIM_WINDOW = (0.0, 2900.0)
REAL_WINDOW = (-250.0, 1750.0)


def _window(image: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """8-bit image in a bone window (soft tissue dark gray, cortex white, metal saturated)."""
    lo, hi = window
    return (np.clip((image - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)


def _panel(image: np.ndarray, label: str, window: tuple[float, float], height: int = PANEL_HEIGHT) -> Image.Image:
    picture = Image.fromarray(_window(image, window))
    width = max(1, round(picture.width * height / picture.height))
    picture = picture.resize((width, height), Image.LANCZOS)
    ImageDraw.Draw(picture).text((8, 6), label, fill=255)
    return picture


def _side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    out = Image.new("L", (left.width + right.width + 8, max(left.height, right.height)), 0)
    out.paste(left, (0, 0))
    out.paste(right, (left.width + 8, 0))
    return out


def real_arch(volume) -> ArchCurve:
    """The real scan's arch: the median radius of the mandible's bone in angular bins of one slab."""
    k = REAL_ARCH_SLICE
    slab = volume.voxels[k - 6 : k + 7].astype(float).max(axis=0)
    bone = ndimage.binary_opening(slab > 600)
    bone[240:] = False  # in front of the spine
    labels, count = ndimage.label(bone)
    sizes = ndimage.sum(bone, labels, range(1, count + 1))
    rows, cols = np.nonzero(np.isin(labels, 1 + np.nonzero(sizes > 150)[0]))
    points = volume.index_to_patient(np.stack([np.full(rows.shape, k), rows, cols], 1).astype(float))
    cx, cy = points[:, 0].mean(), points[:, 1].max() + 10.0
    angle = np.arctan2(points[:, 1] - cy, points[:, 0] - cx)
    radius = np.hypot(points[:, 0] - cx, points[:, 1] - cy)
    z = float(points[0, 2])
    arch = []
    for a in np.linspace(angle.min() + 0.05, angle.max() - 0.05, 15):
        near = np.abs(angle - a) < 0.05
        if near.sum() >= 5:
            r = float(np.median(radius[near]))
            arch.append([cx + r * np.cos(a), cy + r * np.sin(a), z])
    return ArchCurve.from_points(np.array(arch))


def arch_into_rami(arch_points: list[tuple[float, float, float]]) -> ArchCurve:
    """The simulated case's arch continued 48 mm up each ramus's plane (to the condyle), as a reader draws the curve."""
    model = mandible_model()
    level = float(np.mean([p[2] for p in arch_points]))
    ends = []
    for side in ("right", "left"):
        origin, back, _, _ = ramus_frame(model, side)
        ends.append([[*(origin[:2] + s * back[:2]), level] for s in (10.0, 22.0, 34.0, 42.0, 48.0)])
    points = ends[0][::-1] + [list(p) for p in arch_points] + ends[1]
    return ArchCurve.from_points(np.array(points))


def axial_at(volume, z_mm: float) -> np.ndarray:
    """The axial slice nearest ``z_mm``."""
    k = int(round(volume.patient_to_index([[0.0, 0.0, z_mm]])[0][0]))
    return volume.voxels[int(np.clip(k, 0, volume.shape[0] - 1))].astype(float)


def views(volume, arch: ArchCurve, s_mm: float, axial_z_mm: float, cross_centre_z_mm: float) -> dict[str, np.ndarray]:
    """Axial slice, panoramic and cross-section images of one scan."""
    return {
        "axial": axial_at(volume, axial_z_mm),
        "panoramic": panoramic(volume, arch).image,
        "cross-section": cross_section(
            volume, arch, s_mm, width_mm=30.0, height_mm=40.0, pixel_mm=0.1, centre_z_mm=cross_centre_z_mm
        ).image,
    }


def _simulate(metal: str, **settings) -> Path:
    from cbct_osteo.phantom.simulated import write_cbct_case

    folder = Path(tempfile.mkdtemp(prefix="sim-case-"))
    write_cbct_case(folder, metal=metal, progress=print, **settings)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=None, help="simulated case for the axial and cross-section views")
    parser.add_argument(
        "--tall-case", type=Path, default=None, help="simulated case (to the condyles) for the panoramic"
    )
    parser.add_argument("--starved-case", type=Path, default=None, help="the case simulated with scatter_fraction 0")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    case = args.case or _simulate("fillings")
    # A tall large field (a full-arch-and-TMJ scan) so the panoramic reaches the condyles.
    tall = args.tall_case or _simulate("fillings", voxel_mm=TALL_VOXEL_MM, shape=TALL_SHAPE)
    simulated = cbct_osteo.load(case)
    landmarks = read_landmarks(case / "landmarks.json")
    truth = json.loads((case / "truth.json").read_text())
    sim_arch = ArchCurve.from_points(np.array(landmarks.arch_points))
    foramen = np.array(landmarks.sides["left"].points["foramen_centre"])
    sim_views = views(simulated, sim_arch, sim_arch.closest_arc_position(foramen), foramen[2], foramen[2] + 2.0)
    sim_labels = dict.fromkeys(sim_views, f"simulated CBCT ({truth['phantom']['voxel_mm']:g} mm)")
    tall_volume = cbct_osteo.load(tall)
    tall_arch = arch_into_rami(read_landmarks(tall / "landmarks.json").arch_points)
    sim_views["panoramic"] = panoramic(
        tall_volume, tall_arch, height_mm=PANORAMIC_HEIGHT_MM, centre_z_mm=PANORAMIC_CENTRE_Z_MM
    ).image
    tall_voxel = json.loads((tall / "truth.json").read_text())["phantom"]["voxel_mm"]
    sim_labels["panoramic"] = f"simulated CBCT ({tall_voxel:g} mm, large field to the condyles)"

    real = cbct_osteo.load(REAL)
    arch = real_arch(real)
    midline = arch.closest_arc_position(np.array([float(np.mean(arch.control_points[:, 0])), -100.0, arch.level_mm]))
    real_views = views(real, arch, midline + 25.0, arch.level_mm, arch.level_mm + 2.0)

    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("axial", "panoramic", "cross-section"):
        figure = _side_by_side(
            _panel(sim_views[name], sim_labels[name], SIM_WINDOW),
            _panel(real_views[name], "real head CT (Visible Human, NLM)", REAL_WINDOW),
        )
        path = args.out / f"simulated-vs-real-{name}.png"
        figure.save(path)
        print(path)
    # Metal: the slice through the amalgam fillings and the metal crown (the real scan has no dental metal),
    # as simulated (scatter residual 0.25) and with the scatter fully removed (the metal shadows starve).
    starved = cbct_osteo.load(args.starved_case or _simulate("fillings", scatter_fraction=0.0))
    metal = [
        _panel(axial_at(volume, METAL_Z_MM), label, SIM_WINDOW)
        for volume, label in (
            (simulated, f"simulated, z = {METAL_Z_MM:g} mm, scatter-to-primary 0.25"),
            (starved, "the same without scatter (scatter_fraction 0): starved shadows"),
        )
    ]
    path = args.out / "simulated-metal-axial.png"
    _side_by_side(*metal).save(path)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
