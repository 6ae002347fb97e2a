"""Copy a folder of DICOM files into a compressed transfer syntax, losslessly, with GDCM.

The smoke test (packaging/smoke_test.sh) runs this with the build environment's Python to
make compressed copies of the phantom, then asks the *bundle* to measure each copy: the
bundle's decoders (pylibjpeg, its plugins found through package metadata, GDCM) are the
part of a frozen program most easily lost, and real CBCT often arrives JPEG-compressed.
Lossless coding keeps the voxels, hence the volume fingerprint, so the phantom's own
landmarks apply and the results must equal those of the uncompressed series.

Usage: python packaging/transcode.py SRC_DIR OUT_DIR {rle,jpeg-lossless,jpeg-ls,jpeg2000}
"""

from __future__ import annotations

import sys
from pathlib import Path

import gdcm

SYNTAXES = {
    "rle": gdcm.TransferSyntax.RLELossless,
    "jpeg-lossless": gdcm.TransferSyntax.JPEGLosslessProcess14_1,
    "jpeg-ls": gdcm.TransferSyntax.JPEGLSLossless,
    "jpeg2000": gdcm.TransferSyntax.JPEG2000Lossless,
}


def transcode(source: Path, target: Path, syntax: str) -> int:
    """Write every DICOM image file under ``source`` to ``target`` in ``syntax``; returns the count."""
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        reader = gdcm.ImageReader()
        reader.SetFileName(str(path))
        if not reader.Read():
            continue  # truth.json, landmarks.json and anything else that is not a DICOM image
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(SYNTAXES[syntax]))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise RuntimeError(f"{path}: GDCM could not encode it as {syntax}")
        writer = gdcm.ImageWriter()
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        writer.SetFileName(str(target / path.name))
        if not writer.Write():
            raise RuntimeError(f"{target / path.name}: cannot write")
        count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in SYNTAXES:
        sys.exit(f"usage: {sys.argv[0]} SRC_DIR OUT_DIR {{{','.join(SYNTAXES)}}}")
    n = transcode(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
    if n == 0:
        sys.exit(f"{sys.argv[1]}: no DICOM image found")
    print(f"{n} file(s) written as {sys.argv[3]} to {sys.argv[2]}")
