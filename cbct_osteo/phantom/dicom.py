"""Writing the phantom as DICOM the way a CBCT device exports it.

Two layouts: a classic CT Image Storage series (one file per axial slice, the default) and one
Enhanced CT Image Storage file (multi-frame, with shared and per-frame functional groups). Both
store uint16 pixels with RescaleSlope 1 and RescaleIntercept -1024 (so ``value = stored - 1024``);
RescaleType is ``US`` (unspecified) unless the phantom is clean, because CBCT gray values are not
Hounsfield units. Slices arrive in slabs and are written as they come, so a large phantom never
sits in memory; the enhanced file's pixel data element is written last, in pieces.

UIDs are generated deterministically (``pydicom.uid.generate_uid(entropy_srcs=...)``): the study
from the seed, the series from every parameter, so the same call writes the same files.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    CTImageStorage,
    EnhancedCTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    generate_uid,
)

from cbct_osteo import __version__
from cbct_osteo.phantom.render import RESCALE_INTERCEPT
from cbct_osteo.volume import VolumeMeta

SERIES_FOLDER = "DICOM"
ENHANCED_FILE = "CT_ENHANCED.dcm"
STUDY_DATE = "20250314"
STUDY_TIME = "101500"
KVP = 90.0
TUBE_CURRENT_MA = 8.0
EXPOSURE_TIME_MS = 14000


def slice_file_name(index: int) -> str:
    """File name of slice ``index`` (0-based) in the classic layout."""
    return f"CT{index + 1:05d}.dcm"


@dataclass(frozen=True)
class SeriesIdentity:
    """The UIDs and header texts of one phantom series."""

    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    instance_root: str  # entropy for SOP instance UIDs
    description: str
    clean: bool

    @classmethod
    def create(cls, seed: int, parameters: str, description: str, clean: bool) -> SeriesIdentity:
        base = ["cbct-osteo-phantom", str(seed)]
        return cls(
            study_uid=str(generate_uid(entropy_srcs=base + ["study"])),
            series_uid=str(generate_uid(entropy_srcs=base + [parameters, "series"])),
            frame_of_reference_uid=str(generate_uid(entropy_srcs=base + ["frame-of-reference"])),
            instance_root=f"{seed}|{parameters}",
            description=description,
            clean=clean,
        )

    def instance_uid(self, index: int) -> str:
        return str(generate_uid(entropy_srcs=["cbct-osteo-phantom", self.instance_root, "instance", str(index)]))

    def meta(self, sop_class_uid: str) -> VolumeMeta:
        """What a loader of these files reports, for the in-memory phantom's :class:`VolumeMeta`."""
        return VolumeMeta(
            series_uid=self.series_uid,
            study_uid=self.study_uid,
            frame_of_reference_uid=self.frame_of_reference_uid,
            sop_class_uid=sop_class_uid,
            modality="CT",
            series_description=self.description,
            series_number="1",
            patient_name="Zanetti^Mariana",
            patient_id="PHANTOM-0001",
            patient_sex="F",
            patient_birth_date="19550612",
            study_date=STUDY_DATE,
            study_id="1",
            accession_number="PH0001",
            institution="cbct-osteo test clinic",
            manufacturer="cbct-osteo phantom",
            model="Synthetic CBCT",
            kvp=KVP,
            tube_current_ma=TUBE_CURRENT_MA,
            transfer_syntax=str(ExplicitVRLittleEndian),
            units="HU" if self.clean else "gray value",
        )


def _common(
    ds: Dataset, identity: SeriesIdentity, sop_class: str, sop_instance: str, window: tuple[float, float]
) -> None:
    """Patient, study, series, equipment and pixel-format attributes shared by both layouts."""
    meta = identity.meta(sop_class)
    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = UID(sop_class)
    file_meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    file_meta.ImplementationVersionName = f"CBCTOSTEO_{__version__}"[:16]
    ds.file_meta = file_meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = STUDY_TIME
    ds.AccessionNumber = meta.accession_number
    ds.Modality = "CT"
    ds.Manufacturer = meta.manufacturer
    ds.ManufacturerModelName = meta.model
    ds.InstitutionName = meta.institution
    ds.DeviceSerialNumber = "PH-0001"
    ds.SoftwareVersions = f"cbct-osteo {__version__}"
    ds.StudyDescription = "Dental CBCT (synthetic phantom)"
    ds.SeriesDescription = meta.series_description
    ds.PatientName = meta.patient_name
    ds.PatientID = meta.patient_id
    ds.PatientBirthDate = meta.patient_birth_date
    ds.PatientSex = meta.patient_sex
    ds.PatientAge = "069Y"
    ds.BodyPartExamined = "JAW"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = identity.study_uid
    ds.SeriesInstanceUID = identity.series_uid
    ds.StudyID = meta.study_id
    ds.SeriesNumber = 1
    ds.AcquisitionNumber = 1
    ds.FrameOfReferenceUID = identity.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.WindowCenter, ds.WindowWidth = window


def _rescale(ds: Dataset, identity: SeriesIdentity) -> None:
    ds.RescaleIntercept = RESCALE_INTERCEPT
    ds.RescaleSlope = 1
    ds.RescaleType = "HU" if identity.clean else "US"


def stored_pixels(values: np.ndarray) -> np.ndarray:
    """Volume values (int16, after rescale) to the stored little-endian uint16 pixels."""
    return (values.astype(np.int32) - RESCALE_INTERCEPT).astype("<u2")


class ClassicSeriesWriter:
    """Writes one CT Image Storage file per axial slice into ``folder``.

    ``jpeg2000`` stores each slice JPEG 2000 lossless compressed (as several vendors export), else
    uncompressed Explicit VR Little Endian.
    """

    def __init__(
        self,
        folder: Path,
        identity: SeriesIdentity,
        affine: np.ndarray,
        shape: tuple[int, int, int],
        window: tuple[float, float],
        jpeg2000: bool = False,
    ) -> None:
        self.jpeg2000 = jpeg2000
        self.folder = folder
        self.identity = identity
        self.affine = affine
        self.shape = shape
        self.window = window
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, z0: int, values: np.ndarray) -> None:
        """Write slices ``z0 .. z0 + len(values)`` (values: int16 (z, y, x) after rescale)."""
        _, rows, columns = self.shape
        spacing = float(np.linalg.norm(self.affine[:3, 0]))
        for offset, plane in enumerate(values):
            index = z0 + offset
            position = self.affine[:3, :3] @ np.array([index, 0.0, 0.0]) + self.affine[:3, 3]
            ds = Dataset()
            _common(ds, self.identity, CTImageStorage, self.identity.instance_uid(index), self.window)
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.InstanceNumber = index + 1
            ds.KVP = KVP
            ds.XRayTubeCurrent = int(TUBE_CURRENT_MA)
            ds.ExposureTime = EXPOSURE_TIME_MS
            ds.ConvolutionKernel = "STANDARD"
            ds.SliceThickness = spacing
            ds.SpacingBetweenSlices = spacing
            ds.ImagePositionPatient = [round(float(v), 6) for v in position]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.SliceLocation = round(float(position[2]), 6)
            ds.Rows, ds.Columns = rows, columns
            ds.PixelSpacing = [spacing, spacing]
            _rescale(ds, self.identity)
            ds.PixelData = stored_pixels(plane).tobytes()
            if self.jpeg2000:
                ds.compress(JPEG2000Lossless)
            pydicom.dcmwrite(self.folder / slice_file_name(index), ds, enforce_file_format=True)

    def close(self) -> None:
        """Nothing to finish: every slice is a complete file."""

    def discard(self) -> None:
        """Nothing to release: the caller deletes the partial series."""


class EnhancedSeriesWriter:
    """Writes one Enhanced CT Image Storage file; the pixel data element is appended slab by slab."""

    def __init__(
        self,
        path: Path,
        identity: SeriesIdentity,
        affine: np.ndarray,
        shape: tuple[int, int, int],
        window: tuple[float, float],
    ) -> None:
        self.path = path
        self.shape = shape
        self.written = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        ds = self._header(identity, affine, shape, window)
        # The file stays open across write() calls (one slab at a time) until close() or discard().
        self._handle: BinaryIO = open(path, "wb")  # noqa: SIM115
        pydicom.dcmwrite(self._handle, ds, enforce_file_format=True)
        n_bytes = int(np.prod(shape)) * 2
        # (7FE0,0010) Pixel Data, explicit VR little endian: tag, VR "OW", 2 reserved bytes, 4-byte length.
        self._handle.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, n_bytes))

    @staticmethod
    def _header(
        identity: SeriesIdentity, affine: np.ndarray, shape: tuple[int, int, int], window: tuple[float, float]
    ) -> Dataset:
        frames, rows, columns = shape
        spacing = float(np.linalg.norm(affine[:3, 0]))
        ds = Dataset()
        _common(ds, identity, EnhancedCTImageStorage, identity.instance_uid(0), window)
        del ds.WindowCenter, ds.WindowWidth  # in the Frame VOI LUT functional group instead
        ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
        ds.InstanceNumber = 1
        ds.AcquisitionDateTime = STUDY_DATE + STUDY_TIME
        ds.ContentQualification = "PRODUCT"
        ds.BurnedInAnnotation = "NO"
        ds.RecognizableVisualFeatures = "NO"
        ds.LossyImageCompression = "00"
        ds.PresentationLUTShape = "IDENTITY"
        ds.VolumetricProperties = "VOLUME"
        ds.VolumeBasedCalculationTechnique = "NONE"
        ds.KVP = KVP
        ds.Rows, ds.Columns = rows, columns
        ds.NumberOfFrames = frames
        organisation = str(generate_uid(entropy_srcs=["cbct-osteo-phantom", identity.instance_root, "dimensions"]))
        dim_org = Dataset()
        dim_org.DimensionOrganizationUID = organisation
        ds.DimensionOrganizationSequence = Sequence([dim_org])
        ds.DimensionOrganizationType = "3D"
        indices = []
        for pointer, label in ((0x00209056, "Stack ID"), (0x00209057, "In-Stack Position Number")):
            item = Dataset()
            item.DimensionOrganizationUID = organisation
            item.DimensionIndexPointer = pointer
            item.FunctionalGroupPointer = 0x00209111  # Frame Content Sequence
            item.DimensionDescriptionLabel = label
            indices.append(item)
        ds.DimensionIndexSequence = Sequence(indices)

        shared = Dataset()
        measures = Dataset()
        measures.PixelSpacing = [spacing, spacing]
        measures.SliceThickness = spacing
        measures.SpacingBetweenSlices = spacing
        shared.PixelMeasuresSequence = Sequence([measures])
        orientation = Dataset()
        orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        shared.PlaneOrientationSequence = Sequence([orientation])
        transform = Dataset()
        _rescale(transform, identity)
        shared.PixelValueTransformationSequence = Sequence([transform])
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = window
        shared.FrameVOILUTSequence = Sequence([voi])
        frame_type = Dataset()
        frame_type.FrameType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
        frame_type.PixelPresentation = "MONOCHROME"
        frame_type.VolumetricProperties = "VOLUME"
        frame_type.VolumeBasedCalculationTechnique = "NONE"
        shared.CTImageFrameTypeSequence = Sequence([frame_type])
        xray = Dataset()
        xray.KVP = KVP
        shared.CTXRayDetailsSequence = Sequence([xray])
        exposure = Dataset()
        exposure.XRayTubeCurrentInmA = TUBE_CURRENT_MA
        exposure.ExposureTimeInms = float(EXPOSURE_TIME_MS)
        shared.CTExposureSequence = Sequence([exposure])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])

        per_frame = []
        for index in range(frames):
            position = affine[:3, :3] @ np.array([index, 0.0, 0.0]) + affine[:3, 3]
            item = Dataset()
            content = Dataset()
            content.StackID = "1"
            content.InStackPositionNumber = index + 1
            content.DimensionIndexValues = [1, index + 1]
            item.FrameContentSequence = Sequence([content])
            plane = Dataset()
            plane.ImagePositionPatient = [round(float(v), 6) for v in position]
            item.PlanePositionSequence = Sequence([plane])
            per_frame.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
        return ds

    def write(self, z0: int, values: np.ndarray) -> None:
        """Append frames ``z0 .. z0 + len(values)``; frames must arrive in order."""
        if z0 != self.written:
            raise ValueError(f"frames must be written in order: expected frame {self.written}, got {z0}")
        self._handle.write(stored_pixels(values).tobytes())
        self.written += len(values)

    def close(self) -> None:
        """Close the file; it is complete only when every frame was written."""
        self._handle.close()
        if self.written != self.shape[0]:
            raise ValueError(f"{self.path}: only {self.written} of {self.shape[0]} frames were written")

    def discard(self) -> None:
        """Close the incomplete file after a failure (the caller deletes it)."""
        self._handle.close()
