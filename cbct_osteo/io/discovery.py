"""Find the image series under a path: a folder, a DICOMDIR, one file or a list of files.

What CBCT machines and PACS export is rarely tidy: extensionless files in nested folders,
a DICOMDIR that names files that are not there, several series in one folder, a scout or a
stray reference image inside the series of interest, README or thumbnail files next to the
images. Discovery reads every header once (never the pixels), groups frames by
SeriesInstanceUID (0020,000E) and, within a series, by orientation and image size, so only
a geometrically consistent stack is offered; everything else is reported, not loaded.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cbct_osteo.io.dicom_header import MEDIA_STORAGE_DIRECTORY, FileHeader, FrameRef, quiet_pydicom
from cbct_osteo.io.errors import LoadCancelled, LoadError, describe
from cbct_osteo.io.geometry import StackPlan, orientation_key, plan_stack
from cbct_osteo.io.scanner import scan_headers

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

logger = logging.getLogger("cbct_osteo.io")

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
PathInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


@dataclass
class SeriesInfo:
    """One candidate series: what ``cbct-osteo info`` lists and what the loader loads.

    Attributes
    ----------
    uid
        SeriesInstanceUID (0020,000E).
    description, modality
        SeriesDescription (0008,103E), Modality (0008,0060).
    rows, columns
        Image size in pixels (y, x).
    n_slices
        Slices of the loadable stack (after resampling when the spacing is uneven).
    spacing
        Voxel size (z, y, x) in mm of the stack as it will load.
    transfer_syntax
        TransferSyntaxUID of the stack's files (the first one when they differ).
    files
        Files of the stack, in slice order (a multi-frame file appears once).
    problems
        Sentences about what was found: excluded images, gaps, tilt, missing files, ...
    """

    uid: str
    description: str
    modality: str
    rows: int
    columns: int
    n_slices: int
    spacing: tuple[float, float, float]
    transfer_syntax: str
    files: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    series_number: str = ""
    image_type: tuple[str, ...] = ()
    plan: StackPlan | None = field(default=None, repr=False)
    headers: dict[str, FileHeader] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (for ``cbct-osteo info --json``)."""
        return {
            "uid": self.uid,
            "series_number": self.series_number,
            "description": self.description,
            "modality": self.modality,
            "rows": self.rows,
            "columns": self.columns,
            "n_slices": self.n_slices,
            "spacing_mm": list(self.spacing),
            "transfer_syntax": self.transfer_syntax,
            "n_files": len(self.files),
            "problems": list(self.problems),
        }


class SeriesList(list[SeriesInfo]):
    """The series found (a plain list of :class:`SeriesInfo`) plus what was skipped on the way.

    Attributes
    ----------
    root
        The path that was searched.
    skipped
        (file, reason) for every file that is not a readable DICOM image.
    notes
        Sentences about the search as a whole (counts of skipped files, DICOMDIR problems).
    """

    def __init__(self, items: Iterable[SeriesInfo] = (), root: str = "") -> None:
        super().__init__(items)
        self.root = root
        self.skipped: list[tuple[str, str]] = []
        self.notes: list[str] = []


def discover_series(path: PathInput, progress: Progress | None = None, cancel: Cancel | None = None) -> SeriesList:
    """List the image series under ``path``, largest stack first.

    Parameters
    ----------
    path
        A folder (searched recursively; files need no extension), a DICOMDIR file, one
        (multi-frame) DICOM file, or a list of files.
    progress
        Called as ``progress(done, total)`` with the number of headers read.
    cancel
        Polled between files; returning True raises :class:`LoadCancelled`.

    Returns
    -------
    SeriesList
        One :class:`SeriesInfo` per SeriesInstanceUID holding images (plus series a DICOMDIR
        names whose files are all missing, with ``n_slices`` 0), sorted by slice count.

    Raises
    ------
    LoadError
        When ``path`` does not exist, or a DICOMDIR cannot be read.
    """
    with quiet_pydicom():
        return _discover(path, progress, cancel)


def _discover(path: PathInput, progress: Progress | None, cancel: Cancel | None) -> SeriesList:
    root, files, missing = _collect_files(path)
    result = SeriesList(root=root)
    headers: list[FileHeader] = []
    counts: Counter[str] = Counter()
    for name, header in scan_headers(files, progress, cancel):
        if isinstance(header, LoadError):
            kind = "not DICOM" if "not a DICOM file" in header.problem else "unreadable"
            counts[kind] += 1
            result.skipped.append((name, header.problem))
            continue
        reason = _not_an_image(header)
        if reason:
            counts[reason] += 1
            result.skipped.append((name, reason))
        else:
            headers.append(header)
    if cancel is not None and cancel():
        raise LoadCancelled(root)
    for kind, count in sorted(counts.items()):
        result.notes.append(f"skipped {count} file(s): {kind}")
        logger.info("%s: skipped %d file(s): %s", root, count, kind)
    result.notes.extend(problem for _, problem in missing)

    series = _group(headers)
    for uid, refs in missing_by_series(missing).items():
        if uid in series:
            series[uid].problems.extend(refs)
        else:
            series[uid] = SeriesInfo(uid, "", "", 0, 0, 0, (0.0, 0.0, 0.0), "", (), list(refs))
    result.extend(sorted(series.values(), key=_rank))
    return result


def _rank(info: SeriesInfo) -> tuple[bool, bool, bool, int, float, str]:
    """Sort key: real stacks first, localizers and derived reformats after originals, then size.

    A CT study's coronal reformat often has more images than the axial original it was
    computed from; the original is what should open by default. A series whose images are all
    DERIVED (as many CBCT exports are) still ranks by its slice count.
    """
    image_type = {str(v).upper() for v in (info.image_type or ())}
    return (
        info.n_slices < 2,
        "LOCALIZER" in image_type,
        "DERIVED" in image_type,
        -info.n_slices,
        _number(info.series_number),
        info.uid,
    )


def missing_by_series(missing: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Group DICOMDIR problems by the SeriesInstanceUID of the record that named the file."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for uid, problem in missing:
        if uid:
            grouped[uid].append(problem)
    return grouped


def _not_an_image(header: FileHeader) -> str:
    """Why a readable DICOM file is not a grayscale image we can stack ("" when it is)."""
    if header.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
        return "DICOMDIR index file"
    if header.pixel_tag is None or header.rows <= 0 or header.columns <= 0:
        return "DICOM without an image (no pixel data or no Rows/Columns)"
    return ""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


# -- finding the files --------------------------------------------------------------------


def _collect_files(path: PathInput) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(root shown in messages, candidate files, DICOMDIR problems as (series uid, sentence))."""
    if isinstance(path, (list, tuple)):
        files = []
        for item in path:
            kind = _special_kind(item)
            if kind:
                raise LoadError(item, "no such file" if kind == "missing" else f"not a regular file ({kind})")
            files.append(str(item))
        if not files:
            raise LoadError(None, "an empty list of files was given")
        return str(os.path.commonpath([os.path.abspath(f) for f in files])), files, []
    if not isinstance(path, (str, os.PathLike)):  # what os.fspath would say, for a sequence that is not a list
        raise TypeError(f"expected str, bytes or os.PathLike object, not {type(path).__name__}")
    name = os.fspath(path)
    if "\x00" in name:
        raise LoadError(name.replace("\x00", "\\0"), "the path contains a NUL character")
    if os.path.isdir(name):
        files, missing, special = [], [], 0
        for folder, subfolders, filenames in os.walk(name):
            subfolders.sort()
            for filename in sorted(filenames):
                full = os.path.join(folder, filename)
                if _special_kind(full):
                    special += 1  # a FIFO, socket or device would block or never end: never opened
                    continue
                if filename.upper() == "DICOMDIR":
                    try:
                        missing.extend(_dicomdir_references(full)[1])
                    except LoadError as exc:  # the images of the folder are read anyway
                        missing.append(("", f"{exc} (the folder's files were read without it)"))
                files.append(full)
        if special:
            missing.append(("", f"{name}: skipped {special} special file(s) (FIFO, socket, device or broken link)"))
        return name, files, missing
    kind = _special_kind(name)
    if kind == "missing":
        raise LoadError(name, "no such file or folder")
    if kind:
        raise LoadError(name, f"not a regular file or folder ({kind}): it is not opened")
    if _is_dicomdir(name):
        files, missing = _dicomdir_references(name)
        if not files:
            raise LoadError(name, "the DICOMDIR references no image file that exists", "open the folder instead")
        return name, files, missing
    return name, [name], []


def _special_kind(path: str | os.PathLike[str]) -> str:
    """ "" for a regular file (after symlinks), else what it is ("FIFO", "socket", "device", "missing")."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return "missing"
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "directory" if stat.S_ISDIR(mode) else "special file"


def _is_dicomdir(name: str) -> bool:
    if Path(name).name.upper() == "DICOMDIR":
        return True
    try:
        with open(name, "rb") as handle:
            head = handle.read(400)
    except OSError:
        return False
    return MEDIA_STORAGE_DIRECTORY.encode() in head


def _dicomdir_references(name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Existing files a DICOMDIR references, and problems (missing files, paths leaving its folder).

    The DICOMDIR's records form a tree linked by byte offsets (PATIENT > STUDY > SERIES >
    IMAGE); walking it tells which series a missing file belonged to. pydicom's File-set
    reader (:mod:`cbct_osteo.io.fileset`) walks it first; when it refuses the DICOMDIR (offsets
    absent or broken), records are taken in file order, the usual depth-first layout.
    """
    from pydicom import dcmread

    from cbct_osteo.io.fileset import fileset_references

    try:
        dicomdir = dcmread(name, force=True, defer_size="1 MB")
        records = list(dicomdir.get("DirectoryRecordSequence") or [])
    except Exception as exc:
        raise LoadError(name, f"unreadable DICOMDIR: {describe(exc)}") from exc
    root = os.path.realpath(os.path.dirname(os.path.abspath(name)))
    files: list[str] = []
    problems: list[tuple[str, str]] = []
    references = fileset_references(dicomdir)  # pydicom's File-set reader first
    if references is None:  # not a conformant File-set: walk the records ourselves, tolerantly
        try:
            walked = _records_with_series(dicomdir, records)
        except Exception as exc:  # damaged records (values pydicom cannot convert)
            raise LoadError(name, f"unreadable DICOMDIR records: {describe(exc)}") from exc
        references = []
        for record, walked_uid in walked:
            try:
                references.append((record.get("ReferencedFileID"), walked_uid))
            except Exception as exc:  # noqa: BLE001 - a value pydicom cannot convert: this record only
                problems.append((walked_uid, f"{name}: a damaged DICOMDIR record was ignored ({describe(exc)})"))
    for file_id, series_uid in references:
        if not file_id:
            continue
        parts = [str(p) for p in (file_id if not isinstance(file_id, str) else [file_id])]
        relative = "/".join(parts)
        if any(ord(c) < 32 for c in relative):
            shown = relative.encode("unicode_escape").decode("ascii")
            problems.append((series_uid, f"{name}: DICOMDIR reference {shown!r} holds control characters (ignored)"))
            continue
        target = os.path.realpath(os.path.join(root, *parts))
        if any(p in ("..", "") or os.path.isabs(p) for p in parts) or os.path.commonpath([root, target]) != root:
            problems.append(
                (series_uid, f"{name}: DICOMDIR reference {relative!r} points outside its folder (ignored)")
            )
        elif _special_kind(target) == "missing":
            problems.append((series_uid, f"{name}: DICOMDIR references {relative} but the file is missing"))
        elif _special_kind(target):
            problems.append((series_uid, f"{name}: DICOMDIR reference {relative} is not a regular file (ignored)"))
        else:
            files.append(target)
    return files, problems


def _offset(dataset: Dataset, keyword: str) -> int | None:
    """A DICOMDIR record offset (UL) as an int, None when absent or damaged (several values, text)."""
    try:
        value = dataset.get(keyword)
    except Exception:  # noqa: BLE001 - any failure to read the offset means: damaged, treat as absent
        return None
    return value if isinstance(value, int) else None


def _records_with_series(dicomdir: Dataset, records: list[Dataset]) -> list[tuple[Dataset, str]]:
    by_offset = {getattr(r, "seq_item_tell", None): r for r in records}
    start = _offset(dicomdir, "OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity")
    walked: list[tuple[Dataset, str]] = []
    if start and start in by_offset:
        seen: set[int] = set()
        stack: list[tuple[int, str]] = [(start, "")]
        offset: int | None
        while stack:
            offset, series_uid = stack.pop()
            while offset and offset in by_offset and offset not in seen:
                seen.add(offset)
                record = by_offset[offset]
                uid = (
                    str(record.get("SeriesInstanceUID", "") or series_uid)
                    if record.get("DirectoryRecordType") == "SERIES"
                    else series_uid
                )
                walked.append((record, uid))
                lower = _offset(record, "OffsetOfReferencedLowerLevelDirectoryEntity")
                if lower:
                    stack.append((lower, uid))
                offset = _offset(record, "OffsetOfTheNextDirectoryRecord")
        if len(walked) == len(records):
            return walked
    walked, series_uid = [], ""
    for record in records:
        if record.get("DirectoryRecordType") == "SERIES":
            series_uid = str(record.get("SeriesInstanceUID", "") or "")
        walked.append((record, series_uid))
    return walked


# -- grouping into series -------------------------------------------------------------------


def _group(headers: list[FileHeader]) -> dict[str, SeriesInfo]:
    """One SeriesInfo per SeriesInstanceUID; its stack is the largest (orientation, size) group."""
    by_series: dict[str, list[FileHeader]] = defaultdict(list)
    for header in headers:
        by_series[header.series_uid or f"(no SeriesInstanceUID) {header.path}"].append(header)
    series: dict[str, SeriesInfo] = {}
    for uid, all_members in by_series.items():
        members, problems = _set_apart(all_members)
        stacks: dict[tuple[tuple[float, ...] | None, int, int], list[FrameRef]] = defaultdict(list)
        for header in members:
            for frame in header.frames:
                stacks[(orientation_key(frame.orientation), header.rows, header.columns)].append(frame)
        ranked = sorted(stacks.items(), key=lambda item: -len(item[1]))
        (_, frames), others = ranked[0], ranked[1:]
        for (orientation, rows, cols), excluded in others:
            names = ", ".join(sorted({Path(f.path).name for f in excluded})[:3])
            shape = f"{rows}x{cols}, orientation {list(orientation) if orientation else 'missing'}"
            problems.append(f"excluded {len(excluded)} image(s) that do not fit the stack ({shape}): {names}")
        plan = plan_stack(frames)
        problems.extend(plan.problems)
        if plan.refusal:
            problems.append(f"cannot load: {plan.refusal}")
        used = {f.path for f in plan.frames}
        by_path = {h.path: h for h in all_members}
        first = by_path[plan.frames[0].path]
        syntaxes = {by_path[p].transfer_syntax for p in used}
        if first.samples_per_pixel != 1 or first.photometric not in ("MONOCHROME1", "MONOCHROME2"):
            problems.append(f"cannot load: {first.photometric or 'unknown'} images are not grayscale")
        if len(syntaxes) > 1:
            problems.append(f"files use {len(syntaxes)} different transfer syntaxes")
        series[uid] = SeriesInfo(
            uid=uid,
            description=first.series_description,
            modality=first.modality,
            rows=first.rows,
            columns=first.columns,
            n_slices=plan.n_slices,
            spacing=plan.spacing,
            transfer_syntax=first.transfer_syntax,
            files=tuple(dict.fromkeys(f.path for f in plan.frames)),
            problems=problems,
            series_number=first.series_number,
            image_type=first.image_type,
            plan=plan,
            headers={p: by_path[p] for p in used},
        )
    return series


#: Image storage classes that are never slices of a CT volume when they sit in a CT series.
_OTHER_KINDS = {
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture (e.g. a dose screen or a screenshot)",
    "1.2.840.10008.5.1.4.1.1.7.1": "Multi-frame Single Bit Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture",
}


def _set_apart(members: list[FileHeader]) -> tuple[list[FileHeader], list[str]]:
    """Leave out images of a series that are not slices of its volume, with a note for each kind.

    Real exports put a scout/localizer, a dose screen (Secondary Capture) or an image without a
    position into the same series as the slices. They are set apart when the series also holds
    images that are none of these (a series made only of them still loads, as it is).
    """
    notes: list[str] = []

    def split(members: list[FileHeader], is_other: Callable[[FileHeader], bool], label: str) -> list[FileHeader]:
        others = [h for h in members if is_other(h)]
        if not others or len(others) == len(members):
            return members
        names = ", ".join(sorted(Path(h.path).name for h in others)[:3])
        notes.append(f"excluded {len(others)} {label} from the stack: {names}")
        return [h for h in members if not is_other(h)]

    members = split(members, lambda h: "LOCALIZER" in {v.upper() for v in h.image_type}, "localizer/scout image(s)")
    classes = Counter(h.sop_class_uid for h in members for _ in h.frames)
    main_class = classes.most_common(1)[0][0] if classes else ""
    for uid in sorted(set(classes) - {main_class}):

        def of_class(h: FileHeader, uid: str = uid) -> bool:
            return h.sop_class_uid == uid

        members = split(
            members,
            of_class,
            f"image(s) of another kind ({_OTHER_KINDS.get(uid, 'SOP Class ' + uid)})",
        )
    members = split(
        members,
        lambda h: main_class not in _OTHER_KINDS and h.sop_class_uid in _OTHER_KINDS,
        "secondary capture image(s)",
    )
    members = split(
        members,
        lambda h: all(f.position is None for f in h.frames),
        "image(s) without ImagePositionPatient (0020,0032)",
    )
    return members, notes
