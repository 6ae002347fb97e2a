"""cbct-osteo: opportunistic osteoporosis screening on dental cone-beam CT.

The package is layered (see docs/developer-guide.md): ``io`` and ``volume`` at the bottom,
then ``reformat``, ``measure``, ``indices``, ``report`` and, on top, ``gui``. Everything
outside ``gui`` is free of Qt and runs headless.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cbct_osteo.volume import Volume


def load(path: str | Path | Sequence[str | Path], series: str | None = None) -> Volume:
    """Load one CT/CBCT series as a :class:`~cbct_osteo.volume.Volume`.

    Parameters
    ----------
    path
        A folder (searched recursively), a DICOMDIR, one (multi-frame) DICOM file, or a list of files.
    series
        SeriesInstanceUID to load when the path holds several series. ``None`` picks the most
        plausible stack: real 3D stacks before localizers and single images, ORIGINAL before
        DERIVED (reformats), then the most slices.

    Raises
    ------
    cbct_osteo.io.errors.LoadError
        With a message that names the file and the problem.
    """
    from cbct_osteo.io.dicom_loader import load_series

    return load_series(path, series=series)


__all__ = ["__version__", "load"]
