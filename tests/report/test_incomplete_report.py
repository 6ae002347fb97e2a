"""`cbct-osteo report` on an incomplete landmarks file writes a PDF whose every page says INCOMPLETE."""

from __future__ import annotations

import subprocess
import sys

from pypdf import PdfReader

from cbct_osteo.io.landmarks_file import LandmarkSet, read_landmarks, write_landmarks


def test_cli_report_of_an_incomplete_case_is_marked_on_every_page(tmp_path):
    from cbct_osteo.phantom import write_phantom

    folder = write_phantom(tmp_path / "ph", shape=(48, 120, 120), voxel_mm=0.9, seed=1)
    truth = read_landmarks(folder / "landmarks.json")
    partial = LandmarkSet(
        series_uid=truth.series_uid, volume_fingerprint=truth.volume_fingerprint, arch_points=truth.arch_points
    )
    partial.sides["left"].points = {"foramen_centre": truth.point("left", "foramen_centre")}
    path = write_landmarks(partial, tmp_path / "partial.json")
    out = tmp_path / "reports"
    out.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cbct_osteo",
            "report",
            str(folder),
            "--landmarks",
            str(path),
            "-o",
            str(out),
            "--no-3d",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    written = list(out.glob("*.pdf"))
    assert len(written) == 1 and written[0].name.endswith("_INCOMPLETE.pdf")
    pages = [page.extract_text() for page in PdfReader(str(written[0])).pages]
    assert pages and all("INCOMPLETE" in text for text in pages)
    assert "border_inner" not in "\n".join(pages)
