"""The resource policy of the loader: the most any single input may cost before it is refused.

One place for every bound the io layer enforces, so the documentation (docs/developer-guide.md,
"Resource policy", and the user guide's troubleshooting section) and the code cannot drift apart.
Every count read from a file (NumberOfFrames, Rows, Columns, element lengths, slice positions)
is checked against these bounds and against the file's actual length *before* anything is
allocated or looped over, so a hostile or corrupt input costs at most:

* **memory**: the volume it declares, if that is at most :data:`MAX_VOLUME_BYTES` (and the
  memory currently available) and no more than its files hold (uncompressed),
  :data:`MAX_COMPRESSION_RATIO` times their size (deflated) or one fragment per frame
  (encapsulated), plus :data:`FIXED_OVERHEAD_BYTES`
  and :data:`HEADER_OVERHEAD_BYTES` of tables per file; a decoder
  run in a guarded child process gets at most :data:`DECODER_CHILD_BYTES` of address space;
* **time**: linear in the bytes on disk (headers are walked once, element by element, lengths
  checked), and at most :data:`DECODER_CHILD_TIMEOUT_S` seconds for one file's decode in a
  guarded child.
"""

from __future__ import annotations

#: Largest volume accepted (voxel bytes after the modality transform), unless ``max_bytes`` says otherwise.
MAX_VOLUME_BYTES = 4 * 1024**3
#: Header tables the loader keeps per file (FrameRef records, dictionaries): a bound used in the
#: docs and checked by the fuzz harness, not an allocation.
HEADER_OVERHEAD_BYTES = 64 * 1024
#: Frames one file may declare (NumberOfFrames). Far above any CT/CBCT (<= 2,000 slices); a file
#: also never gets more frames than its pixel data can hold.
MAX_FRAMES_PER_FILE = 65_536
#: Rows or Columns of one image (DICOM's US limit is 65,535; CBCT detectors reach ~1,000).
MAX_IMAGE_SIDE = 16_384
#: A deflated file may declare at most this many times its own size in pixel bytes (lossless CT
#: compresses 2-3 x, lossy JPEG 2000 10-50 x); an uncompressed file no more than it holds.
MAX_COMPRESSION_RATIO = 1000
#: Memory the loader itself needs beyond the volume (interpreter, numpy, GDCM, pydicom, tables):
#: what the fuzz harness allows an input above the volume it declares.
FIXED_OVERHEAD_BYTES = 256 * 1024**2
#: Nesting of DICOM sequences walked in a header before the file is refused.
MAX_SEQUENCE_DEPTH = 16
#: Elements a header may hold before the walk stops (an Enhanced CT of 2,000 frames has ~100,000).
MAX_HEADER_ELEMENTS = 2_000_000

#: A slice position coordinate beyond this (mm, 1 km) is not a position in a scanner.
MAX_ABS_POSITION_MM = 1.0e6
#: Pixel spacing or slice step (mm) above this is not a tomographic image (CT slices are <= 10 mm).
MAX_VOXEL_MM = 100.0
#: Pixel spacing (mm) below this is not a CT/CBCT pixel (micro-CT voxels are >= 0.001 mm).
MIN_VOXEL_MM = 1.0e-4
#: Output slices a stack may have after resampling (bounds the resampling grid before it is built).
MAX_SLICES = 65_536
#: Values after the modality transform (|HU| or gray value) above this are refused: no CT quantity
#: comes near it, and it keeps every result finite in float32 and exact in int64.
MAX_ABS_VALUE = 1.0e9

#: Address space of a guarded decoder child (bytes): the largest frame times a margin.
DECODER_CHILD_BYTES = 3 * 1024**3
#: Time one file's decode may take in a guarded child before it is killed (s).
DECODER_CHILD_TIMEOUT_S = 120.0
