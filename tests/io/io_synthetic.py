"""Small synthetic DICOM series written with pydicom, with known values and geometry (test helper)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def slice_values(k: int, rows: int, cols: int) -> np.ndarray:
    """Stored values of slice k: unique per slice and pixel, so any mix-up shows."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    return (100 * k + 3 * yy + xx).astype(np.int32)


def write_series(
    folder: Path,
    n: int = 6,
    rows: int = 8,
    cols: int = 10,
    step_mm: float = 1.5,
    positions: list[tuple[float, float, float]] | None = None,
    orientation: tuple[float, ...] = (1, 0, 0, 0, 1, 0),
    names: list[str] | None = None,
    values: Callable[[int], np.ndarray] | None = None,
    dtype: str = "int16",
    bits_stored: int | None = None,
    series_uid: str | None = None,
    **tags,
) -> list[Path]:
    """Write ``n`` CT slices; returns the paths in slice order (index k = position k).

    ``positions`` default to a regular axial stack ``(0, 0, k * step_mm)``; ``names`` to
    shuffled extensionless names; ``values(k)`` gives slice k's stored values; ``tags`` are
    set on every file (e.g. RescaleSlope, PixelPaddingValue, PhotometricInterpretation).
    """
    folder.mkdir(parents=True, exist_ok=True)
    positions = positions or [(0.0, 0.0, k * step_mm) for k in range(n)]
    order = np.random.default_rng(1).permutation(len(positions))
    names = names or [f"img{order[k]:03d}" for k in range(len(positions))]
    uid = series_uid or generate_uid()
    study, frame = generate_uid(), generate_uid()
    array_dtype = np.dtype(dtype)
    paths = []
    for k, position in enumerate(positions):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID, ds.StudyDate = "CT", "Test^Patient", "T1", "20240101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, uid, frame
        ds.SeriesNumber, ds.InstanceNumber = 5, len(positions) - k  # deliberately reversed
        ds.ImageOrientationPatient = list(orientation)
        ds.ImagePositionPatient = list(position)
        ds.PixelSpacing = [0.5, 0.25]
        ds.SliceThickness = step_mm
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = array_dtype.itemsize * 8
        ds.BitsStored = bits_stored or ds.BitsAllocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if array_dtype.kind == "i" else 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        for key, value in tags.items():
            setattr(ds, key, value)
        stored = (values or (lambda i: slice_values(i, rows, cols)))(k)
        ds.PixelData = np.asarray(stored).astype(array_dtype).tobytes()
        path = folder / names[k]
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
