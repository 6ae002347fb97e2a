"""What the program proposes on a scan before the user places anything: the landmarks-file form.

``cbct-osteo propose`` writes it and the GUI's Auto arch applies it, so both give the same
arch for the same scan. The proposal is a landmarks file (../shared/DESIGN.md) with the arch
marked ``"proposed": true`` and a ``"mandible"`` entry: ``found``, ``bbox_mm`` (patient LPS
``[[xmin, ymin, zmin], [xmax, ymax, zmax]]``, body, symphysis and rami) and ``reason``. A scan
without a mandibular body gives an empty arch and ``found: false`` with the reason: that is a
result, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.locate import MandibleLocation, cached_location
from cbct_osteo.reformat.arch_estimate import estimate_arch
from cbct_osteo.volume import Volume

#: Points of the proposed arch: enough to follow a mandible, few enough to drag.
PROPOSED_ARCH_POINTS = 12


@dataclass(frozen=True)
class Proposal:
    """The proposed landmarks and the location they come from."""

    landmarks: LandmarkSet
    location: MandibleLocation


def propose(volume: Volume) -> Proposal:
    """The proposal for ``volume``: arch through the located mandibular body, or none with the reason."""
    location = cached_location(volume)
    landmarks = LandmarkSet(series_uid=volume.meta.series_uid, volume_fingerprint=volume.fingerprint())
    if location.found:
        arch = estimate_arch(volume, n_points=PROPOSED_ARCH_POINTS, location=location)
        landmarks.arch_points = [
            (round(float(x), 3), round(float(y), 3), round(float(z), 3)) for x, y, z in arch.to_points()
        ]
        landmarks.arch_extra = {"proposed": True}
    landmarks.extra["mandible"] = mandible_entry(location)
    return Proposal(landmarks, location)


def mandible_entry(location: MandibleLocation) -> dict[str, Any]:
    """The landmarks file's ``"mandible"`` object for a location."""
    box = None if location.bbox_mm is None else [[round(float(v), 2) for v in row] for row in location.bbox_mm]
    return {"found": bool(location.found), "bbox_mm": box, "reason": location.reason}
