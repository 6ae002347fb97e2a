"""One small phantom case for every report test: written as DICOM, loaded back, measured once.

Loading it from DICOM files (not the in-memory volume) gives the volume its source files, so the
DICOM exports can reference a real study, series and instance, as they will for a patient scan.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The default 108 x 108 x 42 mm field of view at 0.5 mm voxels: the whole mandible, small and fast.
PHANTOM_SHAPE = (84, 216, 216)
PHANTOM_VOXEL_MM = 0.5
REPORT_DATE = dt.date(2026, 11, 26)
PRACTICE = "Studio Dentistico Rossi"
#: The phantom's made-up patient (../shared/DESIGN.md, `cbct-osteo phantom`).
IDENTIFIERS = ("Zanetti", "Mariana", "PHANTOM-0001", "19550612", "1955")


@pytest.fixture
def patient_meta():
    """The header of a made-up patient's scan (the phantom's patient, DESIGN.md), every identifier set."""
    from cbct_osteo.volume import VolumeMeta

    return VolumeMeta(
        series_uid="1.2.826.0.1.3680043.8.498.1",
        study_uid="1.2.826.0.1.3680043.8.498.2",
        patient_name="Zanetti^Mariana",
        patient_id="PHANTOM-0001",
        patient_sex="F",
        patient_birth_date="19550612",
        study_date="20250301",
        institution="Clinica Zanetti",
        manufacturer="Acme",
        model="CB-1",
    )


@dataclass
class PhantomCase:
    folder: Path
    volume: object
    landmarks: object
    result: object


@pytest.fixture(scope="session")
def phantom_case(tmp_path_factory) -> PhantomCase:
    from cbct_osteo import load
    from cbct_osteo.indices import analyse_case
    from cbct_osteo.io.landmarks_file import read_landmarks
    from cbct_osteo.phantom import write_phantom

    folder = Path(
        write_phantom(tmp_path_factory.mktemp("phantom"), shape=PHANTOM_SHAPE, voxel_mm=PHANTOM_VOXEL_MM, seed=4)
    )
    landmarks_file = folder / "landmarks.json"
    volume = load(folder)
    landmarks = read_landmarks(landmarks_file)
    return PhantomCase(folder, volume, landmarks, analyse_case(volume, landmarks, refine=True))


@pytest.fixture(scope="session")
def identified_pdf(phantom_case, tmp_path_factory) -> tuple[Path, list[tuple[int, int]]]:
    """The full report (with the offscreen 3D view) and the progress calls it made."""
    from cbct_osteo.report import write_pdf_report

    calls: list[tuple[int, int]] = []
    out = tmp_path_factory.mktemp("report") / "report.pdf"
    write_pdf_report(
        phantom_case.result,
        phantom_case.volume,
        phantom_case.landmarks,
        out,
        practice_name=PRACTICE,
        progress=lambda done, total: calls.append((done, total)),
        today=REPORT_DATE,
    )
    return out, calls


def pdf_text(path: Path) -> str:
    """All text of a PDF (pypdf), for content checks."""
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


def squeeze(text: str) -> str:
    """Text without whitespace, so checks do not depend on where lines wrapped."""
    return re.sub(r"\s+", "", text)


def render_page(path: Path, page: int, folder: Path, dpi: int = 60) -> Path:
    """Render one page to PNG with poppler's pdftoppm (skips visibly if poppler is missing)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    prefix = folder / f"page{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile", str(path), str(prefix)],
        check=True,
    )
    return prefix.with_suffix(".png")
