"""Reading a DICOMDIR with pydicom's File-set reader, the standard's own view of its record tree.

:func:`fileset_references` is the first reader discovery tries for a DICOMDIR; when pydicom
cannot make a File-set of it (broken or missing record offsets, records out of order, a
non-conformant root), discovery falls back to its own tolerant walk of the records. Both give
the same answer on a well-formed DICOMDIR (tests/io/test_cross_checks.py checks this on every
DICOMDIR of the shared data).
"""

from __future__ import annotations

import warnings
from typing import Any

from pydicom.dataset import Dataset
from pydicom.fileset import FileSet

#: (ReferencedFileID value as stored, SeriesInstanceUID of the SERIES record above it, or "").
#: The value is unvalidated (a str, a MultiValue of str, or whatever a damaged record holds): Any.
FileReference = tuple[Any, str]


def fileset_references(dicomdir: Dataset) -> list[FileReference] | None:
    """Every file the DICOMDIR references, with its series, in the File-set's record order.

    Files that are missing on disk are included (pydicom leaves them out of the File-set's
    instances but keeps their records), so the caller can say which series lost a file.

    Returns
    -------
    list of (ReferencedFileID, SeriesInstanceUID), or None
        None when pydicom cannot read the DICOMDIR as a File-set, or it references no file;
        the caller then walks the records itself.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "referenced SOP Instance ... does not exist": the caller reports it
            file_set = FileSet(dicomdir)
            present = list(file_set)
    except Exception:  # noqa: BLE001 - any failure of the strict reader means: use the tolerant walk
        return None
    if not present:
        return None
    references: list[FileReference] = []
    for node in present[0].node.root:  # all records, including those whose file is missing
        instance = node.instance
        if instance is None:  # a PATIENT, STUDY or SERIES record
            continue
        series_uid = str(instance["SeriesInstanceUID"].value) if "SeriesInstanceUID" in instance else ""
        references.append((instance["ReferencedFileID"].value, series_uid))
    return references
