"""Navigation keys go to the view under the cursor, as in Slicer and the dental viewers.

PgUp/PgDn/arrows/R scroll or reset the 2D view the mouse is over, whichever widget has the
keyboard focus (the step list, a button): otherwise ten PgDn after clicking the step list would
silently change the active step. Text fields and spin boxes keep their keys.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCursor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QTextEdit,
    QWidget,
)

from cbct_osteo.gui.canvas import ImageCanvas

NAVIGATION_KEYS = frozenset(
    {
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_R,
    }
)
_TEXT_INPUTS = (QLineEdit, QTextEdit, QAbstractSpinBox, QComboBox)
#: Controls whose own arrow keys win unless the pointer is right over a view.
_NAVIGABLE = (QAbstractSlider, QAbstractItemView)


def canvas_under_cursor(views: tuple[ImageCanvas, ...], fallback: bool = True) -> ImageCanvas | None:
    """The visible 2D view under the mouse pointer, else (``fallback``) the one it last moved over."""
    widget = QApplication.widgetAt(QCursor.pos())
    while widget is not None:
        if widget in views:
            return widget
        widget = widget.parentWidget()
    last = ImageCanvas.last_hovered
    return last if fallback and last in views and last.isVisible() else None


class KeysToViewUnderCursor(QObject):
    """An application event filter; ``views`` are the canvases keys may be sent to."""

    def __init__(self, views: tuple[ImageCanvas, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views = views

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        # a KeyPress event is a QKeyEvent; the stubs type an event filter's argument as QEvent
        key_event = cast(QKeyEvent, event)
        if key_event.key() not in NAVIGATION_KEYS or key_event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if not isinstance(obj, QWidget) or obj in self.views or isinstance(obj, _TEXT_INPUTS):
            return False
        if obj.window() is not self.views[0].window():
            return False  # a dialog's own keys
        target = canvas_under_cursor(self.views, fallback=not isinstance(obj, _NAVIGABLE))
        if target is None:
            return False
        target.keyPressEvent(key_event)
        return True
