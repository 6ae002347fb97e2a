"""Landmarks with undo, and the measurements made from them (cortical width, S, I, trabecular).

Public API (no Qt): :class:`LandmarkModel`, :func:`validate_landmarks`,
:func:`measure_case` returning :class:`CaseMeasurements`, and :class:`Measurement`.
"""

from cbct_osteo.measure.case import MEASUREMENT_IDS, CaseMeasurements, measure_case
from cbct_osteo.measure.landmark_model import ChangeEvent, LandmarkModel
from cbct_osteo.measure.quantity import Measurement, decimals_for, format_value
from cbct_osteo.measure.validation import Issue, validate_landmarks

__all__ = [
    "MEASUREMENT_IDS",
    "CaseMeasurements",
    "ChangeEvent",
    "Issue",
    "LandmarkModel",
    "Measurement",
    "decimals_for",
    "format_value",
    "measure_case",
    "validate_landmarks",
]
