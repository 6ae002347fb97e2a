"""The mutators of the fuzz campaign (see :mod:`fuzz.harness`): seeds and how each mutant is made.

Seeds are real files from the shared corpus (../shared/data) and small phantom series
(``cbct_osteo.phantom.write_phantom``, classic and Enhanced). Each mutator takes a seeded
``random.Random``, the seeds and an output folder, writes one mutant there and returns the path
to load (a file, a folder or a DICOMDIR).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_ROBUST = SHARED / "robustness"
_CORNER = _ROBUST / "cornerstone_ct_transfer_syntaxes"
SEED_FILES = (
    _CORNER / "CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm",
    _CORNER / "CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm",
    _CORNER / "CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm",
    _CORNER / "CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm",
    _CORNER / "CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm",
    _CORNER / "CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm",
    _CORNER / "CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm",
    _CORNER / "CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm",
    _CORNER / "CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
    _CORNER / "CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm",
    _ROBUST / "pydicom_data" / "emri_small.dcm",
    _ROBUST / "pydicom_data" / "emri_small_RLE.dcm",
    _ROBUST / "pydicom_test_files" / "MR_small_RLE.dcm",
    _ROBUST / "pydicom_test_files" / "CT_small.dcm",
    SHARED / "real_volumes" / "head_ct_gantry_tilt_ge" / "01.dcm",
    SHARED / "real_volumes" / "vhp_male_head_mandible" / "J.001",
)
#: Consecutive slices of the real head CT used as a series seed.
VHP_SLICES = tuple(SHARED / "real_volumes" / "vhp_male_head_mandible" / f"J.{k:03d}" for k in range(60, 64))


@dataclass
class Seeds:
    """Seed inputs on disk: single files and series folders."""

    files: list[Path]
    series: list[Path]


def prepare_seeds(work: Path) -> Seeds:
    """Collect the real seed files and write the phantom series seeds under ``work``."""
    from cbct_osteo.phantom import write_phantom

    files = [p for p in SEED_FILES if p.is_file()]
    series = []
    vhp = [p for p in VHP_SLICES if p.is_file()]
    if vhp:
        folder = work / "seed_vhp"
        folder.mkdir(parents=True, exist_ok=True)
        for path in vhp:
            shutil.copy(path, folder / path.name)
        series.append(folder)
    for name, multiframe in (("seed_phantom", False), ("seed_phantom_enhanced", True)):
        out = write_phantom(work / name, shape=(8, 40, 40), voxel_mm=1.0, seed=0, multiframe=multiframe)
        series.append(out / "DICOM")
    files.append(next((work / "seed_phantom_enhanced" / "DICOM").iterdir()))
    return Seeds(files, series)


# -- mutators: each writes one mutant under ``out`` and returns the path to load ---------------------


def _copy_file(source: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / source.name
    shutil.copy(source, target)
    return target


def _copy_series(folder: Path, out: Path) -> list[Path]:
    shutil.copytree(folder, out)
    return sorted(p for p in out.iterdir() if p.is_file())


def _header_end(data: bytes) -> int:
    index = data.find(b"\xe0\x7f\x10\x00")
    return index if index > 0 else min(len(data), 4096)


def byte_flips(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    path = _copy_file(rng.choice(seeds.files), out)
    data = bytearray(path.read_bytes())
    end = _header_end(data) if rng.random() < 0.8 else len(data)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(0, end)] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    return path


def truncation(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    path = _copy_file(rng.choice(seeds.files), out)
    data = path.read_bytes()
    cut = rng.choice([rng.randrange(0, _header_end(data) + 1), rng.randrange(0, len(data) + 1)])
    path.write_bytes(data[:cut])
    return path


def _length_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of the element length fields of the explicit VR little endian top level."""
    fields, pos = [], 132
    while pos + 8 <= len(data):
        group = struct.unpack_from("<H", data, pos)[0]
        vr = data[pos + 4 : pos + 6]
        if group == 0x7FE0:
            break
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV", b"SV", b"UV"):
            if pos + 12 > len(data):
                break
            length, field_at, head = struct.unpack_from("<I", data, pos + 8)[0], (pos + 8, 4), 12
        else:
            length, field_at, head = struct.unpack_from("<H", data, pos + 6)[0], (pos + 6, 2), 8
        fields.append(field_at)
        if length == 0xFFFFFFFF:
            break
        pos += head + length
    return fields


def length_fields(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    explicit = [p for p in seeds.files if b"1.2.840.10008.1.2\x00" not in p.read_bytes()[:400]]
    path = _copy_file(rng.choice(explicit), out)
    data = bytearray(path.read_bytes())
    fields = _length_fields(bytes(data))
    if fields:
        offset, size = rng.choice(fields)
        old = int.from_bytes(data[offset : offset + size], "little")
        new = rng.choice(
            [
                old ^ (1 << rng.randrange(8 * size)),
                old + 0x400,
                old | 0x4000,
                (1 << (8 * size)) - 1,
                rng.randrange(1 << (8 * size)),
                old ^ 0x0400,
            ]
        )
        data[offset : offset + size] = (new % (1 << (8 * size))).to_bytes(size, "little")
    path.write_bytes(bytes(data))
    return path


def _edit(path: Path, change: Callable) -> None:
    from pydicom import dcmread

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, force=True)
        change(ds)
        ds.save_as(path, enforce_file_format=False)


#: Counts stored as US (unsigned 16 bit): a mutant value above 65535 could not be written.
_US_COUNTS = ("Rows", "Columns", "BitsAllocated", "BitsStored", "SamplesPerPixel", "HighBit", "PixelRepresentation")


def huge_counts(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    source = rng.choice(seeds.files)
    path = _copy_file(source, out)
    keyword = rng.choice(["NumberOfFrames", *_US_COUNTS])
    value = rng.choice([0, 1, 7, 17, 255, 4095, 16385, 65535, 1_000_000, 2**31 - 1])
    if keyword in _US_COUNTS:
        value = min(value, 65535)

    def change(ds) -> None:
        setattr(ds, keyword, str(value) if keyword == "NumberOfFrames" else value)

    with contextlib.suppress(Exception):  # the seed's syntax cannot be rewritten by pydicom: keep the copy
        _edit(path, change)
    return path


_GEOMETRY_VALUES = (float("nan"), float("inf"), -float("inf"), 1e300, 1e9, 1e6, -1e6, 0.0, 1e-9)


def _series_edit(
    rng: random.Random,
    seeds: Seeds,
    out: Path,
    change: Callable[[object, random.Random], None],
    how_many: int | None = None,
) -> Path:
    paths = _copy_series(rng.choice(seeds.series), out / "series")
    targets = rng.sample(paths, how_many or rng.randint(1, len(paths)))
    for path in targets:
        _edit(path, lambda ds: change(ds, rng))
    return out / "series"


def _set_geometry(ds, rng: random.Random) -> None:
    value = rng.choice(_GEOMETRY_VALUES)
    groups = ds.get("PerFrameFunctionalGroupsSequence")
    target = ds
    if groups:
        item = rng.choice(list(groups))
        target = item.PlanePositionSequence[0] if rng.random() < 0.7 and "PlanePositionSequence" in item else item
    keyword = rng.choice(
        ["ImagePositionPatient", "PixelSpacing", "SliceThickness", "ImageOrientationPatient", "SpacingBetweenSlices"]
    )
    if keyword == "ImagePositionPatient" or target is not ds:
        position = list(getattr(target, "ImagePositionPatient", [0.0, 0.0, 0.0]))
        position[rng.randrange(3)] = value if rng.random() < 0.5 else float(position[2]) + value
        target.ImagePositionPatient = [repr(float(v))[:16] for v in position]
    elif keyword == "PixelSpacing":
        ds.PixelSpacing = [repr(value)[:16], repr(value)[:16]] if rng.random() < 0.5 else ["0.5", repr(value)[:16]]
    elif keyword == "ImageOrientationPatient":
        ds.ImageOrientationPatient = [repr(rng.choice([value, 0.0, 1.0]))[:16] for _ in range(6)]
    else:
        setattr(ds, keyword, repr(value)[:16])


def geometry(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    return _series_edit(rng, seeds, out, _set_geometry)


def _set_rescale(ds, rng: random.Random) -> None:
    slope = rng.choice(["1e300", "1e20", "-1e12", "0", "nan", "inf", "1", "0.5", "65536"])
    intercept = rng.choice(["1e300", "-1e20", "1e12", "nan", "-1024", "0"])
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept


def rescale(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    return _series_edit(rng, seeds, out, _set_rescale)


def _mix(ds, rng: random.Random) -> None:
    change = rng.choice(
        [
            "bits_stored",
            "bits_allocated",
            "rows",
            "photometric",
            "signed",
            "localizer",
            "secondary_capture",
            "series_uid",
            "no_position",
            "duplicate_position",
        ]
    )
    if change == "bits_stored":
        ds.BitsStored = rng.choice([8, 12, 13, 15, 16])
        ds.HighBit = ds.BitsStored - 1
    elif change == "bits_allocated":
        ds.BitsAllocated = rng.choice([8, 32])
    elif change == "rows":
        ds.Rows = int(ds.Rows) + rng.choice([-1, 1, 16])
    elif change == "photometric":
        ds.PhotometricInterpretation = rng.choice(["MONOCHROME1", "RGB", "PALETTE COLOR"])
    elif change == "signed":
        ds.PixelRepresentation = 1 - int(ds.get("PixelRepresentation", 0))
    elif change == "localizer":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    elif change == "secondary_capture":
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    elif change == "series_uid":
        ds.SeriesInstanceUID = ds.SeriesInstanceUID + ".9"
    elif change == "no_position":
        if "ImagePositionPatient" in ds:
            del ds.ImagePositionPatient
    elif change == "duplicate_position":
        ds.ImagePositionPatient = ["0", "0", "0"]


def mixed_series(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    return _series_edit(rng, seeds, out, _mix, how_many=1 if rng.random() < 0.7 else None)


def special_files(rng: random.Random, seeds: Seeds, out: Path) -> Path | list[Path]:
    folder = out / "series"
    _copy_series(rng.choice(seeds.series), folder)
    kind = rng.choice(["fifo", "socket", "broken_link", "device_link", "empty", "dir_link", "fifo_dicomdir"])
    special = (
        folder
        / {
            "fifo": "zz_fifo",
            "fifo_dicomdir": "DICOMDIR",
            "socket": "zz_socket",
            "broken_link": "zz_broken",
            "device_link": "zz_zero",
            "dir_link": "zz_loop",
            "empty": "zz_empty",
        }[kind]
    )
    if kind in ("fifo", "fifo_dicomdir"):
        os.mkfifo(special)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(special))
        sock.close()
    elif kind == "broken_link":
        os.symlink(folder / "does-not-exist", special)
    elif kind == "device_link":
        os.symlink("/dev/zero", special)
    elif kind == "dir_link":
        os.symlink(folder, special)
    else:
        special.write_bytes(b"")
    # Mostly the folder (the special file must be skipped), sometimes the special file itself
    # (refused), or a list of files that includes it (refused, naming it).
    choice = rng.random()
    if choice < 0.7:
        return folder
    if choice < 0.85:
        return special
    return [*sorted(p for p in folder.iterdir() if p != special)[:2], special]


def pixel_data(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    compressed = [
        p for p in seeds.files if any(t in p.name for t in ("4.50", "4.51", "4.70", "4.80", "4.90", "1.2.5", "RLE"))
    ]
    path = _copy_file(rng.choice(compressed or seeds.files), out)
    data = bytearray(path.read_bytes())
    start = _header_end(data)
    for _ in range(rng.randint(1, 16)):
        data[rng.randrange(start, len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))
    return path


DICOMDIR_SEED = _ROBUST / "pydicom_test_files" / "dicomdirtests"


def dicomdir(rng: random.Random, seeds: Seeds, out: Path) -> Path:
    """A DICOMDIR with its images (pydicom's test set), the index file damaged; load it or its folder."""
    folder = out / "dicomdir"
    shutil.copytree(DICOMDIR_SEED, folder)
    index = folder / "DICOMDIR"
    data = bytearray(index.read_bytes())
    fields = _length_fields(bytes(data))
    for _ in range(rng.randint(1, 4)):
        if fields and rng.random() < 0.5:
            offset, size = rng.choice(fields)
            data[offset + rng.randrange(size)] ^= 1 << rng.randrange(8)
        else:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    if rng.random() < 0.2:
        data = data[: rng.randrange(len(data))]
    index.write_bytes(bytes(data))
    return index if rng.random() < 0.6 else folder


MUTATORS: dict[str, Callable[[random.Random, Seeds, Path], Path]] = {
    "byte flips": byte_flips,
    "truncation": truncation,
    "length fields": length_fields,
    "huge counts": huge_counts,
    "geometry (NaN/inf/gaps)": geometry,
    "rescale": rescale,
    "mixed series": mixed_series,
    "special files": special_files,
    "compressed pixel data": pixel_data,
    "DICOMDIR": dicomdir,
}
