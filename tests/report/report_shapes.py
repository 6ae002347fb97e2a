"""Scans of awkward shapes for the report-layout tests, written as real DICOM series (test helper).

Each is cut or padded from the phantom in patient space (its landmarks stay valid) and written
as an axial CT series with RescaleType "US" (uncalibrated gray values, as CBCT exports are).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from cbct_osteo.volume import Volume


def resampled(
    volume: Volume, stride: tuple[int, int, int], pad: tuple[int, int, int] = (0, 0, 0), fill: float | None = None
) -> Volume:
    """Every ``stride``-th voxel, padded by ``pad`` voxels on both sides of each axis with ``fill``."""
    voxels = volume.voxels[:: stride[0], :: stride[1], :: stride[2]]
    value = float(np.percentile(voxels, 1)) if fill is None else fill
    voxels = np.pad(voxels, [(p, p) for p in pad], constant_values=value)
    affine = volume.affine.copy()
    affine[:3, :3] = volume.affine[:3, :3] * np.asarray(stride, float)
    affine[:3, 3] = volume.affine[:3, 3] - affine[:3, :3] @ np.asarray(pad, float)
    spacing = tuple(float(s * k) for s, k in zip(volume.spacing, stride, strict=True))
    return Volume(np.ascontiguousarray(voxels), spacing, affine, volume.meta)


def cut(volume: Volume, centre_xyz, half_mm: tuple[float, float, float]) -> Volume:
    """The box of half sizes ``half_mm`` (z, y, x) around a patient point."""
    centre = volume.patient_to_index(np.asarray(centre_xyz, float))
    half = np.asarray(half_mm) / np.asarray(volume.spacing)
    start = np.clip(np.round(centre - half).astype(int), 0, np.asarray(volume.shape) - 1)
    stop = np.clip(np.round(centre + half).astype(int), start + 2, np.asarray(volume.shape))
    voxels = volume.voxels[start[0] : stop[0], start[1] : stop[1], start[2] : stop[2]]
    affine = volume.affine.copy()
    affine[:3, 3] = volume.index_to_patient(start.astype(float))
    return Volume(np.ascontiguousarray(voxels), volume.spacing, affine, volume.meta)


def write_axial_series(volume: Volume, folder: Path) -> Path:
    """Write an axis-aligned axial ``volume`` as one CT file per slice; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    rows, cols = volume.shape[1:]
    for k in range(volume.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "Shape^Test", "SHAPE-1"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [float(v) for v in volume.index_to_patient([k, 0, 0])]
        ds.PixelSpacing = [volume.spacing[1], volume.spacing[2]]
        ds.SliceThickness = volume.spacing[0]
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, 0, "US"
        ds.PixelData = np.clip(np.rint(volume.voxels[k]), -32768, 32767).astype("<i2").tobytes()
        ds.save_as(folder / f"slice{k:04d}.dcm", enforce_file_format=True)
    return folder
