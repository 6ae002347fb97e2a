"""The PDF report of the phantom case: content read back, rendering, anonymisation, atomic writing."""

from __future__ import annotations

import os

import numpy as np
import pypdf
import pytest
from PIL import Image

from cbct_osteo.errors import Cancelled, WriteError
from cbct_osteo.measure.quantity import format_value
from cbct_osteo.report import build_header, default_report_name, statements, write_pdf_report

from .conftest import IDENTIFIERS, PRACTICE, REPORT_DATE, pdf_text, render_page, squeeze


def test_report_has_one_to_three_a4_pages_and_identified_metadata(identified_pdf):
    path, calls = identified_pdf
    reader = pypdf.PdfReader(str(path))
    assert 1 <= len(reader.pages) <= 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert "Zanetti" in reader.metadata.title and reader.metadata.author == PRACTICE
    assert calls[-1] == (len(calls), len(calls)) and [c[0] for c in calls] == list(range(1, len(calls) + 1))


def test_report_shows_the_computed_numbers_categories_and_citations(identified_pdf, phantom_case):
    from cbct_osteo.indices import all_entries

    text = squeeze(pdf_text(identified_pdf[0]))
    document = phantom_case.result.to_json()
    experimental = {e.id for e in all_entries() if e.experimental}
    rows_checked = 0
    for index_id, mean in document["mean"]["indices"].items():
        if index_id in experimental:  # left out of the report by default (BV_TV)
            assert squeeze(next(e.name for e in all_entries() if e.id == index_id)) not in text
            continue
        cells = []
        for entry in (
            document["sides"]["right"]["indices"][index_id],
            document["sides"]["left"]["indices"][index_id],
            mean,
        ):
            value = entry["value"]
            cell = value if isinstance(value, str) or value is None else format_value(value, entry.get("uncertainty"))
            if value is None:
                cell = "–"
            elif entry["quality"] != "ok":  # the report prints the quality of every value that is not ok
                cell += f" {entry['quality']}"  # on a line of its own under the value
            cells.append(cell)
            if entry["category"] in ("low", "normal", "not computable"):
                cells.append(entry["category"])
        # Right, left and mean in that order, each with its own category, on the index's row.
        assert squeeze("".join(cells)) in text, (index_id, cells)
        rows_checked += 1
    assert rows_checked == len(all_entries()) - len(experimental)
    ctmi = document["mean"]["indices"]["CTMI"]
    assert ctmi["category"] in ("low", "normal") and "<3.1" in text
    for side in ("right", "left"):
        w = document["sides"][side]["measurements"]["W"]
        assert squeeze(f"{format_value(w['value'], w['uncertainty'])} ± ") in text
    assert document["sides"]["left"]["measurements"]["W"]["method"] == "edge"
    assert "Corticalmarginsrefinedbyedgedetection" in text and "TreeceGM" in text
    assert squeeze(document["screening"]["result"]) in text
    assert squeeze(document["screening"]["recommendation"]) in text
    for entry in all_entries():
        for citation in entry.citations if not entry.experimental else ():
            assert squeeze(citation)[:60] in text, citation
    for sentence in statements.LIMITS:
        assert squeeze(sentence) in text
    for word in (
        "Zanetti,Mariana",
        "PHANTOM-0001",
        "1955-06-12",
        PRACTICE.replace(" ", ""),
        "2026-11-26",
        "cbct-osteo",
    ):
        assert word in text


def test_first_page_renders_and_is_not_blank(identified_pdf, tmp_path):
    page = np.asarray(Image.open(render_page(identified_pdf[0], 1, tmp_path)).convert("L"), dtype=float)
    non_white = float((page < 235).mean())
    assert page.std() > 20
    assert 0.03 < non_white < 0.6


def test_figures_page_shows_the_annotated_views(identified_pdf, tmp_path):
    """The cross-sections carry the red W line and cyan ROI; the page is mostly image, not blank."""
    reader = pypdf.PdfReader(str(identified_pdf[0]))
    figure_page = next(i for i, p in enumerate(reader.pages, 1) if "Images" in (p.extract_text() or ""))
    rgb = np.asarray(Image.open(render_page(identified_pdf[0], figure_page, tmp_path, dpi=80)).convert("RGB"), int)
    red = (rgb[..., 0] > 200) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    cyan = (rgb[..., 0] < 80) & (rgb[..., 1] > 180) & (rgb[..., 2] > 200)
    assert red.sum() > 30 and cyan.sum() > 30
    assert float((rgb.mean(axis=2) < 200).mean()) > 0.2


def test_anonymised_report_contains_no_identifier(phantom_case, tmp_path):
    name = default_report_name(phantom_case.volume.meta, anonymise=True)
    out = write_pdf_report(
        phantom_case.result,
        phantom_case.volume,
        phantom_case.landmarks,
        tmp_path / name,
        anonymise=True,
        practice_name=PRACTICE,
        render_3d=False,
        today=REPORT_DATE,
    )
    reader = pypdf.PdfReader(str(out))
    metadata = " ".join(str(v) for v in (reader.metadata or {}).values())
    text = pdf_text(out)
    raw = out.read_bytes()
    for identifier in IDENTIFIERS:
        assert identifier not in text, identifier
        assert identifier not in metadata, identifier
        assert identifier not in out.name, identifier
        if len(identifier) >= 7:  # shorter byte strings can occur by chance inside compressed image data
            assert identifier.encode() not in raw, identifier
    assert phantom_case.volume.meta.series_uid not in text
    header = build_header(phantom_case.volume.meta, phantom_case.volume.spacing, anonymise=True)
    assert "anonymised" in text and header.case_label in text
    assert not header.age or squeeze(header.age) in squeeze(text)  # age in years stays: the cutoffs depend on it


def test_letter_page_size_and_missing_3d_view(phantom_case, tmp_path):
    out = write_pdf_report(
        phantom_case.result.to_json(),
        phantom_case.volume,
        phantom_case.landmarks,
        tmp_path / "letter.pdf",
        page_size="Letter",
        render_3d=False,
        today=REPORT_DATE,
    )
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert "3D view unavailable" in pdf_text(out)


def test_failed_write_leaves_the_earlier_report_intact(phantom_case, tmp_path, monkeypatch):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF- earlier report")

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(WriteError) as failure:
        write_pdf_report(
            phantom_case.result, phantom_case.volume, phantom_case.landmarks, target, render_3d=False, today=REPORT_DATE
        )
    assert str(target) in str(failure.value) and "No space left" in str(failure.value)
    assert target.read_bytes() == b"%PDF- earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary file left behind


def test_unwritable_folder_is_reported_with_the_file_name(phantom_case, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "report.pdf"
    with pytest.raises(WriteError) as failure:
        write_pdf_report(
            phantom_case.result, phantom_case.volume, phantom_case.landmarks, target, render_3d=False, today=REPORT_DATE
        )
    assert str(target) in str(failure.value)


def test_cancel_stops_before_anything_is_written(phantom_case, tmp_path):
    calls = []
    target = tmp_path / "cancelled.pdf"
    with pytest.raises(Cancelled):
        write_pdf_report(
            phantom_case.result,
            phantom_case.volume,
            phantom_case.landmarks,
            target,
            render_3d=False,
            progress=lambda done, total: calls.append(done),
            cancel=lambda: len(calls) >= 2,
        )
    assert calls == [1, 2]
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_3d_view_gives_none_instead_of_failing_on_a_volume_without_bone(phantom_case):
    from cbct_osteo.report.render3d import render_mandible
    from cbct_osteo.volume import Volume

    flat = Volume(np.zeros((12, 12, 12), np.float32), (0.5, 0.5, 0.5), np.eye(4))
    assert render_mandible(flat, phantom_case.landmarks) is None


def test_a_side_without_foramen_is_reported_not_drawn(phantom_case, tmp_path):
    landmarks = phantom_case.landmarks.copy()
    landmarks.sides["right"].points.clear()
    out = write_pdf_report(
        phantom_case.result,
        phantom_case.volume,
        landmarks,
        tmp_path / "one-side.pdf",
        render_3d=False,
        today=REPORT_DATE,
    )
    text = squeeze(pdf_text(out))
    assert "Rightside:notavailable" in text and "Leftside:cross-sectionthroughthementalforamen" in text


def test_report_command_with_a_folder_output_creates_it(phantom_dir, tmp_path) -> None:
    """`-o reports/` names a folder (created if needed), as a user typing a path with a slash means."""
    from cbct_osteo.cli import main

    out_dir = tmp_path / "reports"
    status = main(
        ["report", str(phantom_dir), "--landmarks", str(phantom_dir / "landmarks.json"), "-o", f"{out_dir}/", "--no-3d"]
    )
    assert status == 0
    written = list(out_dir.glob("*.pdf"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"%PDF")
