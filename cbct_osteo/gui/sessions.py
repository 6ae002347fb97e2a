"""Sessions: autosave after every change with versioned backups, the restore prompt, open/save/export.

Nothing the user placed is ever lost by a keypress: the restore prompt's Esc means "decide
later" (the autosave stays untouched), "Discard" is an explicit button, and before an autosave
that was not restored is first overwritten it is copied to ``autosave/backups/`` (the newest
:data:`MAX_BACKUPS` per scan are kept). File > Restore autosaved work brings the newest back.
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cbct_osteo.errors import CbctOsteoError
from cbct_osteo.io.landmarks_file import write_landmarks
from cbct_osteo.io.session_file import Session, autosave_path, read_session, write_session

if TYPE_CHECKING:
    from cbct_osteo.gui.main_window import MainWindow

log = logging.getLogger(__name__)
#: Backups kept per scan (older ones are removed).
MAX_BACKUPS = 10


def backups_of(autosave: Path) -> list[Path]:
    """The backups of one autosave, newest first."""
    folder = autosave.parent / "backups"
    return sorted(folder.glob(f"{autosave.stem}-*.json"), reverse=True) if folder.is_dir() else []


def back_up(autosave: Path) -> Path | None:
    """Copy ``autosave`` to a time-stamped backup (keeping the newest :data:`MAX_BACKUPS`)."""
    if not autosave.exists():
        return None
    folder = autosave.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{autosave.stem}-{stamp}.json"
    shutil.copy2(autosave, target)
    for old in backups_of(autosave)[MAX_BACKUPS:]:
        old.unlink(missing_ok=True)
    return target


class SessionController(QObject):
    """Autosave, restore, open/save session, export landmarks for the case on screen."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        #: An autosave from an earlier run exists and was not restored: back it up before overwriting it.
        self._backup_due = False

    def _autosave_file(self) -> Path | None:
        state = self.window.state
        return None if state is None else autosave_path(state.series_uid, state.fingerprint)

    # ---- autosave
    def autosave(self) -> Path | None:
        """Write the session to this scan's autosave file (atomic). Errors go to the status bar."""
        path = self._autosave_file()
        if path is None:
            return None
        try:
            if self._backup_due:
                back_up(path)
                self._backup_due = False
            return write_session(self.window.current_session(), path)
        except (CbctOsteoError, OSError) as exc:
            self.window.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return None

    def case_opened(self, explicit: str | None = None) -> None:
        """A scan is on screen: open ``explicit`` (``--landmarks FILE``) or offer this scan's autosave."""
        path = self._autosave_file()
        self._backup_due = path is not None and path.exists()
        if explicit:
            self.open_session(explicit)
            return
        if path is None or not path.exists():
            return
        try:
            session = self._read_own(path)
        except CbctOsteoError as exc:
            log.warning("ignoring autosave: %s", exc)
            return
        self._ask_restore(session)

    def _read_own(self, path: Path) -> Session:
        state = self.window.state
        assert state is not None  # sessions are read for the case on screen
        session = read_session(path)
        session.check_belongs_to(state.series_uid, state.fingerprint, path)
        return session

    def _ask_restore(self, session: Session) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore your work?",
            f"Landmarks you placed on this scan were autosaved ({session.saved_at or 'earlier'}).\n\n"
            "Restore them, or discard them and start again? (A copy is kept either way; "
            "Esc decides later: File > Restore autosaved work.)",
            QMessageBox.StandardButton.NoButton,
            self.window,
        )
        box.setObjectName("restoreDialog")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        later = box.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(restore)
        box.setEscapeButton(later)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            if clicked is restore:
                self.apply_session(session)
            elif clicked is discard:
                path = self._autosave_file()
                if path is not None:
                    back_up(path)
                    self._backup_due = False
                self.window.statusBar().showMessage("Autosave discarded (a backup copy was kept).", 8000)

        box.finished.connect(answered)
        box.open()
        return box

    def restore_latest(self) -> bool:
        """File > Restore autosaved work: the newest backup, else the autosave, of this scan."""
        path = self._autosave_file()
        if path is None:
            return False
        candidates = [*backups_of(path), path] if self._backup_due is False else [path, *backups_of(path)]
        for candidate in candidates:
            if candidate.exists():
                try:
                    session = self._read_own(candidate)
                except CbctOsteoError as exc:
                    log.warning("skipping %s: %s", candidate, exc)
                    continue
                self.apply_session(session)
                return True
        self.window.statusBar().showMessage("No autosaved work for this scan.", 6000)
        return False

    # ---- files
    def apply_session(self, session: Session) -> None:
        """Replace the landmarks and view settings with ``session``'s (the landmarks undoable as one step)."""
        window = self.window
        assert window.state is not None  # a session is applied to the case on screen
        window.state.restore(session)
        window.apply_view_settings()
        window.statusBar().showMessage("Session restored.", 6000)

    def open_session(self, path: str) -> bool:
        """Load a session or landmarks file onto the open scan; refuse one made on another scan."""
        if self.window.state is None:
            self.window.show_error_message("No scan", "Open the scan first, then its session.")
            return False
        try:
            session = self._read_own(Path(path))
        except CbctOsteoError as exc:
            self.window.show_error_message("Cannot open the session", str(exc))
            return False
        self.apply_session(session)
        return True

    def choose_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open session or landmarks",
            str(self.window.settings.value("lastDir", "")),
            "Sessions (*.json)",
        )
        if name:
            self.open_session(name)

    def choose_save(self) -> None:
        if self.window.state is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Save session as", self.window.export_folder(), "Sessions (*.json)"
        )
        if name:
            self.save_session(name)

    def save_session(self, path: str) -> Path | None:
        try:
            written = write_session(self.window.current_session(), path)
        except CbctOsteoError as exc:
            self.window.show_error_message("Cannot save the session", str(exc))
            return None
        self.window.remember_export_folder(written)
        self.window.statusBar().showMessage(f"Session saved to {written}", 6000)
        return written

    def choose_export_landmarks(self) -> None:
        if self.window.state is None:
            return
        suggested = str(Path(self.window.export_folder()) / "landmarks.json")
        name, _ = QFileDialog.getSaveFileName(self.window, "Export landmarks", suggested, "Landmarks (*.json)")
        if name:
            self.export_landmarks(name)

    def export_landmarks(self, path: str) -> Path | None:
        """File > Export landmarks: the landmarks file the CLI reads (``cbct-osteo report --landmarks``)."""
        assert self.window.state is not None  # the menu action needs a case on screen
        try:
            written = write_landmarks(self.window.state.model.snapshot(), path)
        except (CbctOsteoError, OSError) as exc:
            self.window.show_error_message("Cannot export the landmarks", str(exc))
            return None
        self.window.remember_export_folder(written)
        self.window.statusBar().showMessage(f"Landmarks exported to {written}", 6000)
        return Path(written)
