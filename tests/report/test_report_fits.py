"""``cbct-osteo report`` lays out every scan shape on its pages: tall, wide, tiny, anisotropic, a real head CT.

The PDF is parsed back (pypdf): every image drawn lies inside its page's margins and the report
runs to its last section. Before the figures were scaled to their frame, a scan taller than
~1.45 x its arch length crashed reportlab (LayoutError) and wrote no PDF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdf
import pytest

from cbct_osteo.cli import main
from cbct_osteo.io.landmarks_file import write_landmarks
from cbct_osteo.report.layout import MARGIN

from .report_shapes import cut, resampled, write_axial_series


def image_boxes(page: pypdf.PageObject, reader: pypdf.PdfReader) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) in points of every image XObject drawn on the page (CTM of each ``Do``)."""
    images = {
        name
        for name, ref in (page["/Resources"].get("/XObject") or {}).items()
        if ref.get_object().get("/Subtype") == "/Image"
    }
    ctm, stack, boxes = np.eye(3), [], []
    for operands, operator in pypdf.generic.ContentStream(page.get_contents(), reader).operations:
        if operator == b"q":
            stack.append(ctm.copy())
        elif operator == b"Q":
            ctm = stack.pop()
        elif operator == b"cm":
            a, b, c, d, e, f = (float(v) for v in operands)
            ctm = np.array([[a, b, 0], [c, d, 0], [e, f, 1]]) @ ctm
        elif operator == b"Do" and operands[0] in images:
            corners = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]], float) @ ctm
            boxes.append((corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(), corners[:, 1].max()))
    return boxes


def check_pages_fit(pdf: Path) -> int:
    """Assert every image lies within the page margins and the report is complete; return the image count."""
    reader = pypdf.PdfReader(str(pdf))
    count = 0
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        for x0, y0, x1, y1 in image_boxes(page, reader):
            assert x0 >= MARGIN - 1 and y0 >= MARGIN - 1 and x1 <= width - MARGIN + 1 and y1 <= height - MARGIN + 1
            count += 1
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "Limits of this screening" in text and "Citations" in text and "Review" in text
    return count


@pytest.fixture(scope="module")
def shapes(small_phantom_noisy, tmp_path_factory) -> dict[str, Path]:
    """The phantom as scans of four shapes (mm): tall 300 x 105 x 105, wide 38 x 350 x 350,
    tiny 6 x 14 x 14 around the left foramen, anisotropic 2.45 mm slices."""
    volume = small_phantom_noisy.volume
    foramen = small_phantom_noisy.landmarks.sides["left"].points["foramen_centre"]
    folder = tmp_path_factory.mktemp("shapes")
    scans = {
        "tall": resampled(volume, (3, 2, 2), pad=(125, 0, 0)),
        "wide": resampled(volume, (3, 2, 2), pad=(0, 175, 175)),
        "tiny": cut(volume, foramen, (3.0, 7.0, 7.0)),
        "anisotropic": resampled(volume, (7, 1, 1)),
    }
    return {name: write_axial_series(scan, folder / name) for name, scan in scans.items()}


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["tall", "wide", "tiny", "anisotropic"])
def test_the_report_of_every_shape_fits_its_pages(shapes, shape, small_phantom_noisy, tmp_path):
    landmarks = tmp_path / "landmarks.json"
    write_landmarks(small_phantom_noisy.landmarks, landmarks)
    pdf = tmp_path / f"{shape}.pdf"
    options = [] if shape == "tall" else ["--no-3d"]  # the 3D figure once, on the tallest scan
    assert main(["report", str(shapes[shape]), "--landmarks", str(landmarks), "-o", str(pdf), "--force", *options]) == 0
    assert check_pages_fit(pdf) >= (3 if shape != "tiny" else 1)
    text = " ".join(" ".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages).split())
    assert "CBCT gray values are not calibrated Hounsfield units" in text  # written with RescaleType US
    if shape == "anisotropic":  # the scan's own limits: 2.45 mm slices are too coarse for the cortex
        assert "This scan" in text and "Slices are 2.4 mm apart" in text


@pytest.mark.slow
def test_the_report_of_the_real_head_ct_fits_its_pages(shared_data, tmp_path):
    proposal = tmp_path / "proposal.json"
    assert main(["propose", str(shared_data / "real_volumes/vhp_male_head_mandible"), "-o", str(proposal)]) == 0
    pdf = tmp_path / "head.pdf"
    assert (
        main(
            [
                "report",
                str(shared_data / "real_volumes/vhp_male_head_mandible"),
                "--landmarks",
                str(proposal),
                "-o",
                str(pdf),
            ]
        )
        == 0
    )
    assert check_pages_fit(pdf) >= 2  # the panoramic and the 3D view at least
    text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages)
    assert "calibrated Hounsfield units (CT)" in " ".join(text.split())


@pytest.mark.parametrize("size", [(300, 4000), (6000, 200), (20, 20)])
def test_any_figure_shape_is_scaled_into_its_frame(phantom_case, tmp_path, size):
    """A panoramic and a 3D view of any aspect ratio (a very tall one crashed the layout) fit the page."""
    from dataclasses import replace

    from PIL import Image

    from cbct_osteo.report.content import ReportSources, build_content
    from cbct_osteo.report.figures import Figure
    from cbct_osteo.report.header import build_header
    from cbct_osteo.report.layout import build_pdf

    volume = phantom_case.volume
    header = build_header(volume.meta, volume.spacing)
    content = build_content(
        phantom_case.result.to_json(), header, ReportSources(volume, phantom_case.landmarks, render_3d=False)
    )
    picture = Image.new("RGB", size, (90, 90, 90))
    content = replace(content, panoramic=Figure(picture, "a panoramic of an odd shape"), view3d=picture)
    pdf = tmp_path / "odd.pdf"
    pdf.write_bytes(build_pdf(content, title="t", author="a", subject="s", keywords=[]))
    assert check_pages_fit(pdf) == 4  # panoramic, two cross-sections, 3D view
