"""The 3D view's surface: the one Qt-free pipeline of :mod:`cbct_osteo.report.surface`, cropped.

The main window builds its surface through these names in a worker thread. The volume is
cropped here to the located mandible (:func:`cbct_osteo.locate.cached_location`), so the view
shows the jaw at fine detail and never the spine or skull base; the threshold rule, the
occlusal clip and the meshing are the report's own, so the screen and the printed 3D figure agree.
"""

from __future__ import annotations

from cbct_osteo.locate import bone_threshold, cached_location
from cbct_osteo.report.surface import OCCLUSAL_REACH_MM, SURFACE_MM, Progress, mandible_region, occlusal_cut_height
from cbct_osteo.report.surface import build_surface as _build_cropped
from cbct_osteo.volume import Volume

__all__ = ["OCCLUSAL_REACH_MM", "build_surface", "default_bone_threshold", "occlusal_cut_height"]


def default_bone_threshold(volume: Volume) -> float:
    """The program's bone threshold for ``volume`` (:func:`cbct_osteo.locate.bone_threshold`)."""
    return bone_threshold(volume)


def build_surface(
    volume: Volume,
    threshold: float,
    target_mm: float = SURFACE_MM,
    progress: Progress | None = None,
    cut_height_mm: float | None = None,
):
    """The surface of ``volume`` at ``threshold`` inside the located mandible's crop (whole volume when none).

    See :func:`cbct_osteo.report.surface.build_surface` for ``target_mm``, ``progress`` and ``cut_height_mm``.
    """
    region = mandible_region(volume, cached_location(volume))
    return _build_cropped(region, threshold, target_mm=target_mm, progress=progress, cut_height_mm=cut_height_mm)
