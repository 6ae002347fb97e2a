"""Regenerate docs/images/panoramic-head-ct.png: the report's panoramic figure on the real head CT.

    .venv/bin/python scripts/make_panoramic_figure.py

The arch is the one ``cbct-osteo propose`` writes (the located mandible's); the figure is the
report's own (``cbct_osteo.report.report_figures``), reduced to 1000 px wide grayscale for the docs.
The scan is the Visible Human male head CT, courtesy of the U.S. National Library of Medicine.
"""

from __future__ import annotations

from pathlib import Path

from cbct_osteo import load
from cbct_osteo.indices import analyse_case
from cbct_osteo.reformat.proposal import propose
from cbct_osteo.report import report_figures

ROOT = Path(__file__).resolve().parents[1]
HEAD_CT = ROOT.parent / "shared" / "data" / "real_volumes" / "vhp_male_head_mandible"
OUT = ROOT / "docs" / "images" / "panoramic-head-ct.png"


def main() -> None:
    volume = load(HEAD_CT)
    landmarks = propose(volume).landmarks
    panoramic = report_figures(analyse_case(volume, landmarks).to_json(), volume, landmarks)[0]
    width, height = panoramic.image.size
    panoramic.image.resize((1000, round(1000 * height / width))).convert("L").save(OUT, optimize=True)
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
