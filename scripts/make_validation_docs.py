"""Write docs/validation.md's figures: `cbct-osteo validate` on the 60-case synthetic cohort.

Usage: .venv/bin/python scripts/make_validation_docs.py
Writes docs/images/validation_{roc,scatter,calibration}.png (the report's own PNGs) and
docs/images/validation_report_p1.png (page 1 of the PDF, via pdftoppm when installed), and
prints the numbers the chapter quotes. The cohort is cbct_osteo.validate.synthetic's default
relation (W = 3.8 + 0.30 T + N(0, 0.6) mm per side, T ~ N(-1.8, 1.2)), seed 3.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cbct_osteo.validate import run_validation
from cbct_osteo.validate.synthetic import (
    Relation,
    make_cohort,
    true_auc,
    write_cohort_csvs,
)

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        results, reference = write_cohort_csvs(work, make_cohort(60, Relation(), seed=3))
        outputs = run_validation(
            results, reference, work / "VALIDATION.pdf", json_path=work / "OUT.json", write_index=work / "SITE.toml"
        )
        IMAGES.mkdir(parents=True, exist_ok=True)
        for name, path in outputs.figures.items():
            shutil.copyfile(path, IMAGES / f"validation_{name}.png")
        if shutil.which("pdftoppm"):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "70",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(outputs.pdf),
                    str(IMAGES / "validation_report_p1"),
                ],
                check=True,
            )
        document = outputs.document
        print(f"n {document['n']}, positives {document['positives']}, true AUC of mean W {true_auc(Relation()):.3f}")
        for column in ("mean_CTMI", "left_CTMI", "right_CTMI", "mean_BV_TV"):
            r = document["indices"][column]
            print(
                f"{column}: AUC {r['auc']:.2f} {r['auc_ci95']}, "
                f"Youden {r['youden_cutoff']:.3g} {r['youden_cutoff_ci95']}"
            )
        model = document["model"]
        print(f"model: cv AUC {model['cv_auc']:.2f} {model['cv_auc_ci95']}, Brier {model['brier']:.3f}")
        print((work / "SITE.toml").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
