"""GUI test fixtures: a small phantom on disk, an isolated data dir and settings, a main window."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6

#: Small enough to load and build in about a second, large enough to hold the whole mandible.
PHANTOM_SHAPE = (84, 216, 216)  # the phantom's 108 x 108 x 42 mm field of view
PHANTOM_VOXEL_MM = 0.5


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory) -> Path:
    """A degraded phantom written as DICOM (with truth.json and landmarks.json), once per run."""
    from cbct_osteo.phantom import write_phantom

    return Path(
        write_phantom(tmp_path_factory.mktemp("phantom"), shape=PHANTOM_SHAPE, voxel_mm=PHANTOM_VOXEL_MM, seed=3)
    )


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """Autosaves go to a temporary folder, never to the user's."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CBCT_OSTEO_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def make_window(qtbot, tmp_path, data_dir):
    """Factory of main windows with their own settings file; each is closed after the test."""
    from PySide6.QtCore import QSettings

    from cbct_osteo.gui.main_window import MainWindow

    windows = []

    def make():
        window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        if shiboken6.isValid(window):  # a test may destroy its window on purpose
            window.close()
            window.deleteLater()


@pytest.fixture
def case(qtbot, make_window, phantom_dir):
    """The phantom with its true landmarks placed and analysed, at the size a dentist's laptop has."""
    from cbct_osteo.io.landmarks_file import read_landmarks

    from gui_helpers import open_case, settle

    window = make_window()
    window.resize(1280, 800)
    open_case(qtbot, window, phantom_dir)
    window.model.reset(read_landmarks(phantom_dir / "landmarks.json"))
    settle(qtbot, window)
    return window
