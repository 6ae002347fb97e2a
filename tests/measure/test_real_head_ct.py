"""The measurements on a real head CT (Visible Human male head, ../shared/data) with placed landmarks.

The landmarks below were placed by looking at cross-sections of the scan (arch on the axial slice
at z = -195.5 mm; per side, the foramen region of the buccal cortex, the lowest point of the
inferior border below it and the endosteal margin above that point, read from the cross-section
perpendicular to the arch). The scan: 0.49 mm pixels, 1.5 mm thick slices every 0.5 mm, a cadaver
with metal pins at the chin, and a head tilted so the inferior border slopes 5-25 degrees along
the arch. No width truth exists for it; the checks are the ones issue 15 asks for: no fit bound
hit silently, W plausible (2-7 mm) or marked, and coarse slices marked.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cbct_osteo.io.landmarks_file import LandmarkSet, SideLandmarks, TrabecularRoi
from cbct_osteo.measure.case import measure_case
from cbct_osteo.volume import Volume

from measure_synthetic import coarser_slices

SCAN = "real_volumes/vhp_male_head_mandible"
ARCH = [
    (-43.53, 27.64, -195.5),
    (-33.75, 15.9, -195.5),
    (-23.96, 7.1, -195.5),
    (-14.18, 1.23, -195.5),
    (-4.4, 0.74, -195.5),
    (5.38, 5.63, -195.5),
    (15.16, 13.95, -195.5),
    (24.94, 22.75, -195.5),
    (34.72, 27.64, -195.5),
]
PLACED = {
    "right": {
        "foramen_centre": (-32.54, 7.21, -199.26),
        "foramen_superior": (-32.54, 7.21, -197.82),
        "foramen_inferior": (-32.54, 7.21, -200.7),
        "border_outer": (-32.46, 7.3, -208.26),
        "border_inner": (-32.46, 7.3, -203.7),
    },
    "left": {
        "foramen_centre": (18.74, 10.64, -197.46),
        "foramen_superior": (18.74, 10.64, -196.02),
        "foramen_inferior": (18.74, 10.64, -198.9),
        "border_outer": (16.58, 12.9, -205.86),
        "border_inner": (16.58, 12.9, -201.9),
    },
}


def placed_landmarks() -> LandmarkSet:
    marks = LandmarkSet(arch_points=list(ARCH))
    for side, points in PLACED.items():
        roi_centre = tuple(np.add(points["border_inner"], (0.0, 0.0, 4.0)))
        marks.sides[side] = SideLandmarks(points=dict(points), trab_roi=TrabecularRoi(roi_centre, 4.0, "square"))
    return marks


@pytest.fixture(scope="module")
def head(shared_data) -> Volume:
    import cbct_osteo

    path = shared_data / SCAN
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return cbct_osteo.load(path)


def _no_silent_failure(w) -> None:
    """W is plausible or marked, and a fit that hit a bound was not used."""
    if w.quality == "ok":
        assert 2.0 <= w.value <= 7.0, w
    else:
        assert w.notes, w
    for problem in w.details.get("edge_failed", []):
        assert w.method == "manual" and w.quality != "ok", problem


@pytest.mark.slow
def test_widths_on_the_real_head_ct_are_plausible_or_marked(head):
    result = measure_case(head, placed_landmarks())
    for side in ("left", "right"):
        w = result.sides[side]["W"]
        _no_silent_failure(w)
        # The slices are 1.5 mm thick (reconstructed every 0.5 mm): a vertical line is resolved every ~1.5 mm,
        # so a cortex under 3 slice thicknesses (4.5 mm) spans fewer than 3 samples and is marked uncertain
        # for resolution; the right side's gradual endosteal margin makes its fit uncertain on its own.
        assert w.method == "edge" and w.quality == "uncertain", (side, w.notes)
        resolution_notes = [n for n in w.notes if n.startswith("uncertain at this resolution")]
        if w.value < 3 * 1.5:
            assert resolution_notes and re.search(r"every 1\.[56] mm", resolution_notes[0]), w.notes
        assert w.uncertainty < 0.3
        levels = w.details["levels"]
        assert levels[1] > levels[2] > levels[0]  # cortex brighter than trabecular bone, brighter than soft tissue
        assert abs(w.details["border_slope_along_deg"]) > 10.0  # the tilted head's border is followed


@pytest.mark.slow
@pytest.mark.parametrize("offset", [(0.5, 0.5), (-0.5, 0.5), (0.5, -0.5)])
def test_clicks_half_a_mm_off_on_the_real_ct_barely_move_w(head, offset):
    """The issue's symptom: moving a click 0.5 mm moved W between 3.3 and 6.0 mm."""
    reference = measure_case(head, placed_landmarks())
    marks = placed_landmarks()
    for side in ("left", "right"):
        points = marks.sides[side].points
        points["border_outer"] = tuple(np.add(points["border_outer"], (0, 0, offset[0])))
        points["border_inner"] = tuple(np.add(points["border_inner"], (0, 0, offset[1])))
    moved = measure_case(head, marks)
    for side in ("left", "right"):
        w0, w1 = reference.sides[side]["W"], moved.sides[side]["W"]
        _no_silent_failure(w1)
        assert w1.value == pytest.approx(w0.value, abs=0.15), (side, w0.value, w1.value)


@pytest.mark.slow
def test_three_mm_slices_mark_w(head):
    """The same scan with 6 slices averaged into 3 mm ones: W cannot be resolved on a vertical line."""
    coarse = coarser_slices(head, 6)
    result = measure_case(coarse, placed_landmarks())
    for side in ("left", "right"):
        w = result.sides[side]["W"]
        assert w.quality in ("uncertain", "not measurable"), (side, w.value, w.notes)
        assert w.notes
        for key in ("TRAB_SD", "FD", "FD_3D"):
            assert result.sides[side][key].quality == "not measurable"


@pytest.mark.slow
def test_a_site_where_the_fit_disagrees_with_the_clicks_is_marked(head):
    """At the symphysis (near the chin's metal pin) the inner click sits 6 mm above the border but the
    endosteal edge is found 1.8 mm lower, outside the searched window: the fit is not used, W is the
    placed points' distance, marked "uncertain" with the reason (before: reported as an edge result)."""
    marks = LandmarkSet(arch_points=list(ARCH))
    marks.sides["left"] = SideLandmarks(
        points={
            "foramen_centre": (-4.98, -4.67, -201.06),
            "border_outer": (-4.98, -4.67, -211.26),
            "border_inner": (-4.98, -4.67, -205.26),
        }
    )
    w = measure_case(head, marks).sides["left"]["W"]
    assert w.method == "manual" and w.quality == "uncertain", (w.value, w.notes)
    assert w.value == pytest.approx(6.0, abs=0.01)
    assert any("outside the \u00b11.5 mm searched" in p for p in w.details["edge_failed"])
    _no_silent_failure(w)


@pytest.mark.slow
def test_thick_slices_written_in_the_header_mark_w(shared_data, tmp_path):
    """The loader records SliceThickness and the resolution rule uses it: the real slices around the
    mandible, rewritten with SliceThickness 4 mm (spacing still 0.5 mm), cannot resolve W."""
    import pydicom

    import cbct_osteo

    marks = placed_landmarks()
    low, high = -215.0, -185.0  # the landmarks lie between -208.3 and -195.5 mm
    kept = []
    for path in sorted((shared_data / SCAN).iterdir()):
        ds = pydicom.dcmread(path)
        if low <= float(ds.ImagePositionPatient[2]) <= high:
            kept.append(ds)
    for thickness, folder in ((None, tmp_path / "as_scanned"), (4.0, tmp_path / "thick")):
        folder.mkdir()
        for ds in kept:
            if thickness is not None:
                ds.SliceThickness = thickness
            ds.save_as(folder / ds.SOPInstanceUID)
        volume = cbct_osteo.load(folder)
        assert volume.spacing[0] == pytest.approx(0.5)
        assert volume.meta.extra["slice_thickness_mm"] == (thickness or 1.5)
        result = measure_case(volume, marks)
        for side in ("left", "right"):
            w = result.sides[side]["W"]
            if thickness is None:
                assert w.quality == "uncertain" and w.method == "edge", (side, w.notes)
            else:
                assert w.quality == "not measurable", (side, w.value, w.notes)
                assert any("every 4" in n for n in w.notes), w.notes


@pytest.mark.slow
def test_report_of_the_real_head_ct_keeps_quality_words_whole_and_says_each_reason_once(head, tmp_path):
    """On a scan where many measurements share one limit, the PDF states it once, and no value cell breaks a word.

    The real head CT's 1.5 mm slices make every texture measure "not measurable" for one reason; before, the
    report repeated it six times and printed "4.6 (unce / rtain)" in its narrow value columns.
    """
    import pypdf

    from cbct_osteo.indices.case import analyse_case
    from cbct_osteo.report import write_pdf_report

    landmarks = placed_landmarks()
    result = analyse_case(head, landmarks)
    pdf = write_pdf_report(result, head, landmarks, tmp_path / "head.pdf", render_3d=False)
    text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages)
    flat = " ".join(text.split())
    assert "uncertain" in flat
    for broken in ("(unce", "unce rtain", "pendin g", "no vali dated"):
        assert broken not in flat, broken
    reason = "the texture measures would describe the blur"
    assert flat.count(reason) == 1, flat.count(reason)
    assert "is not measurable (" not in flat  # no nested parentheses in the notes
