"""``analyse_case``: measure a scan with its landmarks, score it, and record where it came from."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from cbct_osteo import __version__
from cbct_osteo.indices.catalogue import CATALOGUE_VERSION, IndexEntry, entry
from cbct_osteo.indices.scoring import CaseResult, score_case
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.measure.case import measure_case
from cbct_osteo.measure.quantity import Measurement
from cbct_osteo.volume import Volume


def analyse_case(
    volume: Volume,
    landmarks: LandmarkSet,
    refine: bool = True,
    *,
    sex: str | None = None,
    extra_indices: tuple[IndexEntry, ...] = (),
    as_placed: Collection[tuple[str, str]] = (),
) -> CaseResult:
    """Measure every catalogue input on both sides and score the indices.

    Parameters
    ----------
    volume
        The scan the landmarks were placed on (patient LPS mm geometry).
    landmarks
        The user's landmarks; any may be absent (the result then says what to place).
    refine
        Refine the cortical margins by edge detection along the measurement line (``"edge"``);
        ``False`` takes them as placed (``"manual"``).
    sex
        Patient sex for the population note; defaults to the DICOM header's PatientSex.
    extra_indices
        Entries read from definition files (``--index SITE.toml``, see
        :func:`cbct_osteo.indices.definition_file.load_index_files`) scored with the catalogue.
    as_placed
        ``(side, id)`` pairs (id in W, S, I) taken from the markers as placed although ``refine``
        is on; recorded in the provenance (``"as_placed"``) and in each measurement's ``method``.

    Returns
    -------
    CaseResult
        With ``to_json()`` (the results JSON of DESIGN.md) and ``csv_row()``.

    Notes
    -----
    BLAS is held to one thread while measuring: the edge fits solve many tiny least-squares
    problems, for which multi-threaded BLAS only adds contention (measured on the 2-core CI
    machine: 7.7 s with two BLAS threads, 1.75 s with one, for a 64x160x160 phantom).
    """
    with threadpool_limits(limits=1):
        measured = measure_case(volume, landmarks, refine=refine, as_placed=as_placed)
    entries = None
    record = provenance(volume, measured.sides, method=measured.method, refine=refine)
    if refine and as_placed:
        record["as_placed"] = sorted([str(side), str(mid)] for side, mid in as_placed)
    if extra_indices:
        from cbct_osteo.indices.definition_file import catalogue_with

        entries = catalogue_with(extra_indices)
        record["extra_indices"] = {e.id: dict(e.provenance or {}) for e in extra_indices}
        record["castro_status"] = next(e.status for e in entries if e.id == "CASTRO")
    return score_case(
        measured.sides,
        landmarks.grades,
        entries=entries,
        provenance=record,
        landmarks=landmarks,
        refined_points=measured.refined_points,
        sex=sex if sex is not None else (volume.meta.patient_sex or None),
    )


def provenance(
    volume: Volume, measurements: Mapping[str, Mapping[str, Measurement]], *, method: str, refine: bool
) -> dict[str, Any]:
    """Where a result came from: software, catalogue and Castro status, scan, voxel size, methods.

    ``voxel_mm`` is in the volume's (z, y, x) axis order, like :attr:`Volume.spacing`.
    """
    return {
        "software": f"cbct-osteo {__version__}",
        "catalogue": CATALOGUE_VERSION,
        "castro_status": entry("CASTRO").status,
        "series_uid": volume.meta.series_uid,
        "volume_fingerprint": volume.fingerprint(),
        "voxel_mm": [float(s) for s in volume.spacing],
        "voxel_axes": "z,y,x",
        "gray_units": volume.meta.units,
        "load_warnings": list(volume.meta.warnings),
        "cortical_method": method,
        "refine": refine,
        "methods": {side: {k: m.method for k, m in by_id.items()} for side, by_id in measurements.items()},
        "analysed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def check_landmarks_match(volume: Volume, landmarks: LandmarkSet, source: str | Path) -> None:
    """Refuse landmarks that were placed on a different scan.

    A landmarks file records the series UID and the volume fingerprint it was placed on
    (DESIGN.md: a session is never applied to the wrong scan). Empty fields (hand-written
    files) are not checked.

    Raises
    ------
    LoadError
        Naming the landmarks file, both identities, and the ``--force`` way out.
    """
    if landmarks.series_uid and volume.meta.series_uid and landmarks.series_uid != volume.meta.series_uid:
        raise LoadError(
            source,
            f"was placed on series {landmarks.series_uid}, but the volume is series {volume.meta.series_uid}",
            "open the scan the landmarks belong to, or use --force to measure anyway",
        )
    if landmarks.volume_fingerprint:
        actual = volume.fingerprint()
        if landmarks.volume_fingerprint != actual:
            raise LoadError(
                source,
                f"was placed on a different volume (fingerprint {landmarks.volume_fingerprint}, this volume {actual})",
                "open the scan the landmarks belong to, or use --force to measure anyway",
            )
