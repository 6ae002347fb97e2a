"""Turn a case's results, volume and landmarks into the report's content (text, rows, images).

Reads only the documented shape of the results JSON (../shared/DESIGN.md): ``sides.<side>``
``.measurements`` / ``.indices`` entries with ``value``, ``unit``, ``uncertainty``, ``cutoff``,
``category``, ``status``; ``mean.indices``; ``screening``; ``provenance``. Names, citations and
status notes come from the index catalogue, the one source of truth for the science.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from cbct_osteo.io.landmarks_file import LandmarkSet
from cbct_osteo.report.figures import Figure, cross_section_figure, panoramic_figure
from cbct_osteo.report.header import ReportHeader
from cbct_osteo.report.layout import ReportContent
from cbct_osteo.report.screening_text import screening_text
from cbct_osteo.report.table import IndexInfo, index_rows, measurement_rows
from cbct_osteo.volume import Volume

#: Citations the report always lists, for its own statements (not tied to one index).
WHO_1994 = (
    "WHO Study Group. Assessment of fracture risk and its application to screening for postmenopausal "
    "osteoporosis. WHO Technical Report Series 843. Geneva: World Health Organization; 1994."
)
TREECE_2010 = (
    "Treece GM, Gee AH, Mayhew PM, Poole KES. High resolution cortical bone thickness measurement "
    "from clinical CT data. Med Image Anal. 2010;14(3):276-290."
)


@dataclass
class ReportSources:
    """What the figures are drawn from."""

    volume: Volume
    landmarks: LandmarkSet
    view3d: Image.Image | None = None
    render_3d: bool = True


def results_document(case_result_or_json: Any) -> dict[str, Any]:
    """The results JSON of a ``CaseResult`` (its ``to_json()``) or the document itself."""
    if isinstance(case_result_or_json, Mapping):
        return dict(case_result_or_json)
    to_json = getattr(case_result_or_json, "to_json", None)
    if callable(to_json):
        return dict(to_json())
    raise TypeError(f"expected a CaseResult or its results JSON dict, got {type(case_result_or_json).__name__}")


def catalogue_info() -> tuple[dict[str, IndexInfo], dict[str, str]]:
    """Per index: display name, citations and the status note; plus measurement display names."""
    from cbct_osteo.indices import MEASUREMENTS, all_entries

    info = {}
    for entry in all_entries():
        info[entry.id] = IndexInfo(name=entry.name, citations=tuple(entry.citations), status=status_note(entry))
    return info, {m.id: m.name for m in MEASUREMENTS}


def status_note(entry: Any) -> str:
    """The words INDICES.md requires next to an index: where its cutoff comes from, or that it has none."""
    if entry.kind == "definition file" and entry.status != "confirmed":
        return (
            "Castro et al. 2020: definition pending verification; no category. Its measured inputs are in "
            f"the tables: {', '.join(entry.measurements)}"
        )
    if entry.kind == "grade":
        return "user grade C1–C3; C2/C3 suggest low bone mineral density"
    if entry.cutoff is None:
        return "no validated cutoff: value only"
    if entry.cutoff.status != "confirmed":
        return f"cutoff {entry.cutoff.status}: {entry.cutoff.note}"
    return f"population: {entry.cutoff.population}"


def screening_tone(results: Mapping[str, Any]) -> str:
    """``"low"``, ``"normal"`` or ``"other"`` (incomplete): the colour of the screening box."""
    code = str((results.get("screening") or {}).get("code") or "")
    return code if code in ("low", "normal") else "other"


def build_content(
    results: Mapping[str, Any],
    header: ReportHeader,
    sources: ReportSources,
    on_step: Callable[[], None] = lambda: None,
) -> ReportContent:
    """Assemble the report's content; ``on_step()`` is called after each figure (progress/cancel)."""
    info, measurement_names = catalogue_info()
    rows = index_rows(results, info)
    citations: list[str] = []
    numbers: dict[str, list[int]] = {}
    for row in rows:
        for text in info.get(row.id, IndexInfo(row.id)).citations:
            if text not in citations:
                citations.append(text)
            numbers.setdefault(row.id, []).append(citations.index(text) + 1)
    methods = {
        str(m.get("method"))
        for side in (results.get("sides") or {}).values()
        for m in ((side or {}).get("measurements") or {}).values()
        if isinstance(m, Mapping)
    }
    method_note = ""
    if "edge" in methods:
        method_note = (
            f"Cortical margins refined by edge detection along the measurement line [{len(citations) + 1}]; "
            "“manual” = taken as placed."
        )
        citations.append(TREECE_2010)
    citations.append(WHO_1994)

    panoramic, sections = _figures(results, sources, on_step)
    view3d = sources.view3d
    if view3d is None and sources.render_3d:
        from cbct_osteo.report.render3d import render_mandible

        view3d = render_mandible(sources.volume, sources.landmarks)
    on_step()
    words = screening_text(results)
    return ReportContent(
        header=header,
        screening={"result": words.result, "explanation": words.finding, "recommendation": words.recommendation},
        screening_caveats=words.caveats,
        tone=screening_tone(results),
        index_rows=rows,
        measurement_rows=measurement_rows(results, exclude={row.id for row in rows}),
        citation_numbers={k: tuple(v) for k, v in numbers.items()},
        citations=citations,
        panoramic=panoramic,
        cross_sections=sections,
        view3d=view3d,
        method_note=method_note,
        measurement_names=measurement_names,
        calibrated_hu=sources.volume.meta.units == "HU",
        scan_limits=scan_limit_sentences(sources.volume),
    )


def scan_limit_sentences(volume: Volume) -> tuple[str, ...]:
    """The scan's warnings for the limits section; calibration is said by the gray-value sentence already."""
    from cbct_osteo.io.scan_warnings import scan_warnings

    return tuple(w.message for w in scan_warnings(volume) if w.code != "uncalibrated")


def measured_points(results: Mapping[str, Any], side: str) -> dict[str, Any]:
    """The border points W was actually measured between: W's ``edges_mm`` (edge-refined or as placed).

    Older results without ``edges_mm`` fall back on ``refined_points``.
    """
    side_doc = (results.get("sides") or {}).get(side) or {}
    edges = (((side_doc.get("measurements") or {}).get("W") or {}).get("edges_mm")) or {}
    points = {"border_outer": edges.get("outer"), "border_inner": edges.get("inner")} if edges else {}
    points = points or side_doc.get("refined_points") or {}
    return {k: v for k, v in points.items() if isinstance(v, (list, tuple)) and len(v) == 3}


def image_wall_points(results: Mapping[str, Any], side: str) -> list[list[float]]:
    """The foramen walls the image shows near ``side``'s placed margins (S and I's ``margin_check.image_wall_mm``)."""
    measurements = (((results.get("sides") or {}).get(side) or {}).get("measurements")) or {}
    walls = []
    for mid in ("S", "I"):
        point = (((measurements.get(mid) or {}).get("details") or {}).get("margin_check") or {}).get("image_wall_mm")
        if isinstance(point, (list, tuple)) and len(point) == 3:
            walls.append([float(v) for v in point])
    return walls


def report_figures(results: Mapping[str, Any], volume: Volume, landmarks: LandmarkSet) -> list[Figure]:
    """The annotated 2D views of the report (panoramic, right and left cross-sections) that exist.

    For exports that want the same images as the PDF (DICOM Secondary Capture).
    """
    panoramic, sections = _figures(results, ReportSources(volume, landmarks), lambda: None)
    return [f for f in (panoramic, sections["right"], sections["left"]) if f is not None]


def _figures(
    results: Mapping[str, Any], sources: ReportSources, on_step: Callable[[], None]
) -> tuple[Figure | None, dict[str, Figure | None]]:
    from cbct_osteo.reformat import ArchCurve

    landmarks = sources.landmarks
    arch = ArchCurve.from_points(landmarks.arch_points) if len(landmarks.arch_points) >= 3 else None
    panoramic: Figure | None = None
    if arch is not None:
        panoramic = panoramic_figure(sources.volume, arch, landmarks)
    on_step()
    sections: dict[str, Figure | None] = {}
    for side in ("right", "left"):
        sections[side] = None
        if arch is not None:
            sections[side] = cross_section_figure(
                sources.volume,
                arch,
                landmarks,
                side,
                measured_points=measured_points(results, side),
                image_walls=image_wall_points(results, side),
            )
        on_step()
    return panoramic, sections
