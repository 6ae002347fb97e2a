"""The results CSV of a batch: created or resumed, appended one durable row at a time.

Rows are written as cases finish (flushed and fsynced), so an interrupted run keeps every
finished case; a resumed run keeps the ``ok`` rows and drops a half-written last line. Text
cells go through :func:`cbct_osteo.io.csv_cells.escape_cell`, so a case id such as
``=HYPERLINK(...)`` opens as text in a spreadsheet. A full disk or a lost folder stops the run
with a :class:`~cbct_osteo.errors.WriteError` naming the file; the rows already written stay.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
from pathlib import Path

from cbct_osteo.errors import WriteError
from cbct_osteo.io.atomic import write_bytes_atomic
from cbct_osteo.io.csv_cells import escape_row, unescape_cell
from cbct_osteo.io.errors import LoadError
from cbct_osteo.io.user_files import read_user_text


def read_results(path: Path, columns: list[str]) -> list[dict[str, str]]:
    """Rows of an earlier run (cells unescaped); a truncated last line (interrupted write) is dropped."""
    text = read_user_text(path, "results file", max_bytes=None)
    try:
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None:
            return []
        if list(reader.fieldnames) != columns:
            raise LoadError(
                path,
                "was written with different columns (another cbct-osteo catalogue version)",
                "write to a new --out file",
            )
        rows = []
        for row in reader:
            if None in row or any(v is None for v in row.values()) or row.get("status") not in ("ok", "error"):
                continue
            rows.append({k: unescape_cell(v) for k, v in row.items()})
    except csv.Error as exc:
        raise LoadError(path, f"is not a readable results CSV ({exc})", "write to a new --out file") from None
    return rows


def prepare_output(out: Path, columns: list[str], resume: bool) -> set[str]:
    """Create or rewrite the results file; return the case ids already finished (status ok)."""
    try:
        info = out.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(out, f"cannot be used as the results file: {exc.strerror or exc}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise WriteError(out, "is not a regular file (a folder, device or pipe)", "choose a file name for --out")
    exists = info is not None and info.st_size > 0
    if exists and not resume:
        raise LoadError(out, "already exists", "use --resume to continue that run, or choose another --out")
    kept: list[dict[str, str]] = []
    if exists:
        seen: set[str] = set()
        for row in read_results(out, columns):
            if row["status"] == "ok" and row["case_id"] not in seen:
                kept.append(row)
                seen.add(row["case_id"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(escape_row(row) for row in kept)
    write_bytes_atomic(out, buffer.getvalue().encode("utf-8"))
    return {row["case_id"] for row in kept}


class RowWriter:
    """Appends one row at a time and makes it durable before the next one."""

    def __init__(self, out: Path, columns: list[str]) -> None:
        self.out = out
        try:
            self.handle = open(out, "a", encoding="utf-8", newline="")  # noqa: SIM115 - kept open across rows; close()
        except OSError as exc:
            raise WriteError(out, f"cannot be opened for writing: {exc.strerror or exc}") from None
        self.writer = csv.DictWriter(self.handle, fieldnames=columns, lineterminator="\n", extrasaction="ignore")

    def write(self, row: dict[str, str]) -> None:
        try:
            self.writer.writerow(escape_row(row))
            self.handle.flush()
            os.fsync(self.handle.fileno())
        except OSError as exc:
            raise WriteError(
                self.out,
                f"could not be written: {exc.strerror or exc}",
                "the rows before this one are kept: free some space, then run again with --resume",
            ) from None

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the write that failed already said so
            self.handle.close()
