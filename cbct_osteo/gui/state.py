"""The case on screen as one Qt-free object: landmarks plus every view setting, saved and restored as one.

Modelled on 3D Slicer's parameter node: the widgets and controllers read and write this state,
and a session file is exactly :meth:`CaseState.session` (restored by :meth:`CaseState.restore`).
Nothing here imports Qt, so a session's round trip is testable without a window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.io.session_file import Session
from cbct_osteo.measure.landmark_model import LandmarkModel
from cbct_osteo.measure.margin_method import MarginMethod

#: Window layouts of the view area (see cbct_osteo.gui.view_area).
LAYOUTS: tuple[str, ...] = ("1x3", "2x2", "panoramic")
#: Panoramic slab thickness range (mm) offered to the user; 0 = a thin curved plane.
SLAB_RANGE_MM = (0.0, 20.0)
#: Focal-trough (arch offset) range (mm along the buccal normal; negative = lingual).
OFFSET_RANGE_MM = (-10.0, 10.0)
#: Default vertical field of the panoramic (mm): the mandibular band with a margin, not the whole scan.
PANORAMIC_HEIGHT_MM = 60.0


@dataclass
class ViewSettings:
    """Everything about how the case is shown that a session must bring back.

    Units: window/level and ``threshold`` in the scan's gray values (HU on calibrated CT);
    positions and sizes in mm; ``slices`` maps plane name to slice index.
    """

    window: float = 1.0
    level: float = 0.5
    #: How the current window was chosen, stated in the view (e.g. "bone window (HU)").
    window_name: str = ""
    slices: dict[str, int] = field(default_factory=dict)
    cross_section_s_mm: float = 0.0
    cross_section_centre_z_mm: float | None = None
    arch_step_mm: float = 0.5
    #: Bone threshold of the 3D surface; None = the scan's default.
    threshold: float | None = None
    clip: bool = True
    slab_mm: float = 0.0
    arch_offset_mm: float = 0.0
    panoramic_height_mm: float = PANORAMIC_HEIGHT_MM
    #: Cortical margins: edge-refined (True) or as placed (False).
    refine: bool = True
    #: With ``refine``: the (side, id) measurements (id in W, S, I) the user takes as placed.
    as_placed: tuple[tuple[str, str], ...] = ()
    layout: str = "2x2"
    #: (side, kind) of the active guided step, side "" for the arch; None = no step active.
    active_step: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["active_step"] = list(self.active_step) if self.active_step else None
        document["as_placed"] = [list(pair) for pair in self.as_placed]
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any], default: ViewSettings | None = None) -> ViewSettings:
        """Settings from a session's ``settings``; absent or malformed keys keep ``default``'s value."""
        base = default or cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            current = getattr(base, f.name)
            raw = document.get(f.name, current)
            values[f.name] = _coerce(raw, current)
        if "active_step" in document:
            step = document.get("active_step")
            values["active_step"] = (
                (str(step[0]), str(step[1])) if isinstance(step, (list, tuple)) and len(step) == 2 else None
            )
        # the margin choice is read as the command line reads a session (one rule for both)
        saved = MarginMethod.from_settings(document)
        values["refine"] = saved.refine if "refine" in document else base.refine
        values["as_placed"] = saved.as_placed if "as_placed" in document else base.as_placed
        if values["layout"] not in LAYOUTS:
            values["layout"] = base.layout
        return cls(**values)


def _coerce(raw: Any, current: Any) -> Any:
    """``raw`` in the type of ``current`` (a session is user-editable JSON); ``current`` when it does not fit."""
    try:
        if isinstance(current, bool):
            return bool(raw)
        if isinstance(current, float) or (
            current is None and isinstance(raw, (int, float)) and not isinstance(raw, bool)
        ):
            return None if raw is None else float(raw)
        if isinstance(current, str):
            return str(raw)
        if isinstance(current, dict):
            return {str(k): int(v) for k, v in dict(raw).items()}
    except (TypeError, ValueError):
        return current
    return raw


@dataclass
class CaseState:
    """One scan's case: the undoable landmarks and the view settings, tied to the scan's identity."""

    model: LandmarkModel
    view: ViewSettings
    series_uid: str = ""
    fingerprint: str = ""
    source: str = ""

    @classmethod
    def new(cls, series_uid: str, fingerprint: str, source: str = "", view: ViewSettings | None = None) -> CaseState:
        landmarks = LandmarkSet(series_uid=series_uid, volume_fingerprint=fingerprint)
        return cls(LandmarkModel(landmarks), view or ViewSettings(), series_uid, fingerprint, source)

    @property
    def landmarks(self) -> LandmarkSet:
        return self.model.landmarks

    def session(self) -> Session:
        """The whole state as a session (landmarks + settings + scan identity)."""
        return Session(
            landmarks=self.model.snapshot(),
            settings=self.view.to_json(),
            series_uid=self.series_uid,
            volume_fingerprint=self.fingerprint,
            source=self.source,
        )

    def restore(self, session: Session) -> None:
        """Take ``session``'s landmarks (one undo step) and view settings; the scan identity stays this one's."""
        landmarks = session.landmarks.copy()
        landmarks.series_uid, landmarks.volume_fingerprint = self.series_uid, self.fingerprint
        self.model.reset(landmarks)
        # After the reset: observers may have updated the view meanwhile (the cross-section position
        # of a new arch); the session's own settings win, the others keep those updates.
        self.view = ViewSettings.from_json(session.settings, self.view)
