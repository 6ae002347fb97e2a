"""Issue 16/17, what the user chooses about the measurements: "as placed" per side and measurement,
experimental measurements hidden unless asked for, and site-index files from Preferences.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from cbct_osteo.measure.geometry import arch_from_points, measurement_frame

from gui_helpers import WAIT_MS, settle

pytestmark = pytest.mark.gui


def pdf_text(path) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


def squeeze(text: str) -> str:
    return "".join(text.split())


def placed_width(landmarks, side: str) -> float:
    points = landmarks.sides[side].points
    frame = measurement_frame(points["foramen_centre"], points["border_outer"], arch_from_points(landmarks.arch_points))
    return float(frame.position(points["border_inner"]) - frame.position(points["border_outer"]))


def measurement(window, side, mid):
    return window.analysis.last_result.sides[side].measurements[mid]


# --- finding 1: "edge-refined / as placed" per side and measurement ---------------------------------------
def test_as_placed_is_chosen_per_measurement_saved_in_the_session_and_reaches_the_report(qtbot, case, tmp_path):
    from cbct_osteo.gui.state import CaseState

    window = case
    x, y, z = window.model.point("right", "border_inner")
    window.model.set_point("right", "border_inner", (x, y, z + 0.4))  # 0.4 mm into the trabecular bone
    settle(qtbot, window)
    refined_w = measurement(window, "right", "W")
    assert refined_w.method == "edge"
    box = window.results_panel.as_placed_boxes[("right", "W")]
    assert box.isVisible() and box.isEnabled() and not box.isChecked()
    qtbot.mouseClick(box, Qt.LeftButton)
    qtbot.waitUntil(lambda: measurement(window, "right", "W").method == "manual", timeout=WAIT_MS)
    settle(qtbot, window)
    assert window.state.view.as_placed == (("right", "W"),)
    w = measurement(window, "right", "W")
    assert w.value == pytest.approx(placed_width(window.model.landmarks, "right"), abs=1e-6)
    assert abs(w.value - refined_w.value) > 0.1  # the marker, not the fitted edge
    assert measurement(window, "right", "S").method == "edge" and measurement(window, "left", "W").method == "edge"
    drawn_inner = window.analysis.measured_lines()["right"][1]
    assert np.allclose(drawn_inner, window.model.point("right", "border_inner"), atol=0.05)  # drawn as measured
    document = window.analysis.last_result.to_json()
    assert document["provenance"]["as_placed"] == [["right", "W"]]
    assert document["sides"]["right"]["measurements"]["W"]["method"] == "manual"
    # the session keeps it, and a new window shows it again
    session = window.current_session()
    assert session.settings["as_placed"] == [["right", "W"]]
    restored = CaseState.new("", "")
    restored.restore(session)
    assert restored.view.as_placed == (("right", "W"),)
    # the exported report is measured the same way: W's method column says both
    out = tmp_path / "report.pdf"
    window.report.write(str(out))
    settle(qtbot, window)
    assert "edge,manual" in squeeze(pdf_text(out))


# --- issue 16 finding 10 / report parity: experimental measurements hidden by default ------------------
def test_experimental_bv_tv_is_hidden_until_asked_for_and_then_labelled(qtbot, case):
    panel = case.results_panel
    assert "BV_TV" not in panel.shown_ids() and "CTMI" in panel.shown_ids()
    case.experimental_action.trigger()
    assert "BV_TV" in panel.shown_ids()
    row = [e.id for e in panel._entries].index("BV_TV")
    assert panel.table.item(row, 0).text() == "BV TV (experimental)"
    assert panel.cell_text("BV_TV", "Right") not in ("", "–")
    case.experimental_action.trigger()
    assert "BV_TV" not in panel.shown_ids()


# --- issue 17: site-index files from Preferences ----------------------------------------------------------
@pytest.fixture(scope="module")
def site_index(tmp_path_factory):
    """A real site index written by the validate code on a 60-case synthetic cohort (W only)."""
    from cbct_osteo.validate.analysis import validate_cohort
    from cbct_osteo.validate.data import read_cohort
    from cbct_osteo.validate.site_index import write_site_index
    from cbct_osteo.validate.synthetic import Relation, make_cohort, write_cohort_csvs

    folder = tmp_path_factory.mktemp("site")
    csvs = write_cohort_csvs(folder, make_cohort(60, Relation(), seed=3))
    return write_site_index(validate_cohort(read_cohort(*csvs), features=["W"], seed=0), folder / "SITE.toml")


def test_site_index_preference_adds_the_index_to_results_and_report(qtbot, case, site_index, tmp_path):
    from cbct_osteo.gui.site_indices import SITE_INDEX_KEY
    from cbct_osteo.indices.definition_file import load_index_file

    window = case
    dialog = window.show_preferences()
    bad = tmp_path / "BROKEN.toml"
    bad.write_text("id = 'SITE2'\nstatus = [", encoding="utf-8")
    assert not dialog.add_site_file(str(bad))
    assert "BROKEN.toml" in dialog.site_message.text()  # the bad file is named, and not added
    assert dialog.add_site_file(str(site_index)) and dialog.site_file_list() == [str(site_index)]
    dialog.accept()
    stored = QSettings(window.settings.fileName(), QSettings.IniFormat).value(SITE_INDEX_KEY)
    assert str(site_index) in (stored if isinstance(stored, list) else [stored])  # persisted
    qtbot.waitUntil(lambda: "SITE" in window.analysis.last_result.mean, timeout=WAIT_MS)
    settle(qtbot, window)
    panel = window.results_panel
    entry = load_index_file(site_index)
    expected = window.analysis.last_result.mean["SITE"]
    assert expected.value is not None and panel.cell_text("SITE", "Both") not in ("", "–")
    summary = f"derived from 60 local cases (AUC {entry.provenance['auc']:.2f}"
    assert summary in panel.site_note.text() and "Castro" not in panel.site_note.text()
    out = tmp_path / "report.pdf"
    window.report.write(str(out))
    settle(qtbot, window)
    text = squeeze(pdf_text(out))
    assert squeeze(entry.name) in text and squeeze(summary) in text


def test_a_site_index_file_that_went_bad_is_named_in_a_dialog(qtbot, case, tmp_path):
    from cbct_osteo.gui.site_indices import set_site_index_files

    bad = tmp_path / "GONE.toml"
    set_site_index_files(case.settings, [str(bad)])
    with qtbot.waitSignal(case.errorShown, timeout=WAIT_MS) as shown:
        case.analysis.start()
    assert "GONE.toml" in shown.args[0]
    settle(qtbot, case)
    assert "SITE" not in case.analysis.last_result.mean  # left out, the rest still measured
