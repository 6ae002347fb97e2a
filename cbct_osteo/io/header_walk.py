"""Walk a DICOM header's element lengths before any C++ parser sees the file.

GDCM's Scanner (see :mod:`~cbct_osteo.io.scanner`) trusts every element length it reads: one
flipped length byte (0x0012 -> 0x0412) shifts the parse into the middle of a value, the next
"length" is four bytes of text, and GDCM allocates it - 0.3 to 5.6 GB for a 40-250 KB file.
So every file is first walked here, element by element, on a memory map (nothing is copied):
each length must fit inside the file (and inside its enclosing item or sequence), every VR must
be one DICOM defines, tags must ascend, nesting is bounded. The walk stops at the pixel data.

Three outcomes (:class:`Walk`):

* ``ok``: the header is consistent; GDCM may scan it (any length it reads lies inside the file).
* ``unusual``: legal but not for the fast path (no preamble, deflated, no transfer syntax):
  pydicom reads it, with ``defer_size`` so large values are never loaded.
* ``corrupt``: a length runs past the end of its item or the file, an unknown VR, tags out of
  order: pydicom still tries (it tolerates some real-world damage); when it finds no image
  either, the file is skipped with this reason (see :func:`~cbct_osteo.io.scanner.scan_headers`).

Cost: about 1 microsecond per element, 50-150 microseconds for a classic CT slice header.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass

from cbct_osteo.io import limits

#: Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_SHORT_VRS = frozenset(
    {
        b"AE",
        b"AS",
        b"AT",
        b"CS",
        b"DA",
        b"DS",
        b"DT",
        b"FL",
        b"FD",
        b"IS",
        b"LO",
        b"LT",
        b"PN",
        b"SH",
        b"SL",
        b"SS",
        b"ST",
        b"TM",
        b"UI",
        b"UL",
        b"US",
    }
)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_IMPLICIT_LE, _EXPLICIT_BE = b"1.2.840.10008.1.2", b"1.2.840.10008.1.2.2"
_DEFLATED = b"1.2.840.10008.1.2.1.99"
_EXPLICIT_LE, _EXPLICIT_BE_HEAD = struct.Struct("<HH2sH"), struct.Struct(">HH2sH")
_IMPLICIT, _IMPLICIT_BE_HEAD = struct.Struct("<HHI"), struct.Struct(">HHI")
_U32_LE, _U32_BE = struct.Struct("<I"), struct.Struct(">I")


@dataclass(frozen=True)
class Walk:
    """Result of :func:`walk_header`: ``status`` is "ok", "unusual" or "corrupt"; ``reason`` says why."""

    status: str
    reason: str = ""


class _Stop(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.walk = Walk(status, reason)


def walk_header(path: str) -> Walk:
    """Check the element lengths of ``path``'s header against the file (see the module notes)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < 132:
                return Walk("unusual", "shorter than a DICOM preamble")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _walk(data, size)
    except OSError as exc:
        return Walk("unusual", f"cannot map the file: {exc.strerror or exc}")
    except _Stop as stop:
        return stop.walk


def _walk(data: mmap.mmap, size: int) -> Walk:
    if data[128:132] != b"DICM":
        return Walk("unusual", "no DICM preamble")
    walker = _Walker(data, size)
    pos, syntax = walker.file_meta(132)
    if syntax == _DEFLATED:
        return Walk("unusual", "deflated dataset")
    walker.explicit = syntax != _IMPLICIT_LE
    walker.little = syntax != _EXPLICIT_BE
    walker.dataset(pos, size, 0, top=True)
    return Walk("ok")


class _Walker:
    def __init__(self, data: mmap.mmap, size: int) -> None:
        self.data, self.size = data, size
        self.explicit, self.little = True, True
        self.elements = 0

    # -- element headers -------------------------------------------------------------------

    def _element(self, pos: int, end: int, explicit: bool, little: bool) -> tuple[int, bytes, int, int]:
        """(tag, VR or b"", value length, header length) of the element at ``pos``."""
        if pos + 8 > end:
            raise _Stop("corrupt", f"an element header at byte {pos} runs past the end of its item or the file")
        if explicit:
            group, element, vr, short = (_EXPLICIT_LE if little else _EXPLICIT_BE_HEAD).unpack_from(self.data, pos)
            if group != 0xFFFE:
                if vr in _SHORT_VRS:
                    return (group << 16) | element, vr, short, 8
                if vr in _LONG_VRS:
                    if pos + 12 > end:
                        raise _Stop(
                            "corrupt", f"the element header at byte {pos} runs past the end of its item or the file"
                        )
                    return (
                        (group << 16) | element,
                        vr,
                        (_U32_LE if little else _U32_BE).unpack_from(self.data, pos + 8)[0],
                        12,
                    )
                raise _Stop(
                    "corrupt",
                    f"element ({group:04X},{element:04X}) at byte {pos} has an unknown VR (bytes {vr.hex(' ')}): "
                    "the header is damaged before this point",
                )
        group, element, length = (_IMPLICIT if little else _IMPLICIT_BE_HEAD).unpack_from(self.data, pos)
        return (group << 16) | element, b"", length, 8

    def _count(self) -> None:
        self.elements += 1
        if self.elements > limits.MAX_HEADER_ELEMENTS:
            raise _Stop("corrupt", f"the header holds more than {limits.MAX_HEADER_ELEMENTS} elements")

    # -- structure -------------------------------------------------------------------------

    def file_meta(self, pos: int) -> tuple[int, bytes]:
        """Walk group 0002 (always explicit VR little endian); returns (end, TransferSyntaxUID)."""
        syntax = b""
        while pos + 8 <= self.size and struct.unpack_from("<H", self.data, pos)[0] == 0x0002:
            tag, vr, length, head = self._element(pos, self.size, True, True)
            start = pos + head
            if length == _UNDEFINED or start + length > self.size:
                raise _Stop(
                    "corrupt",
                    f"file meta element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares "
                    f"{length} bytes past the end of the file ({self.size} bytes)",
                )
            if tag == 0x00020010:
                syntax = bytes(self.data[start : start + length]).rstrip(b"\x00 ")
            pos = start + length
        if not syntax:
            raise _Stop("unusual", "no TransferSyntaxUID in the file meta")
        return pos, syntax

    def dataset(self, pos: int, end: int, depth: int, top: bool = False) -> int:
        """Walk elements in [pos, end) (or up to an item delimiter when ``end`` is open); returns the end."""
        if depth > limits.MAX_SEQUENCE_DEPTH:
            raise _Stop("corrupt", f"sequences nested deeper than {limits.MAX_SEQUENCE_DEPTH} levels")
        previous = -1
        fast = self.explicit and self.little
        data, unpack = self.data, _EXPLICIT_LE.unpack_from
        while pos < end:
            if fast and pos + 8 <= end:  # the common element, inline: explicit VR LE, 2-byte length, in order
                group, element, vr, short = unpack(data, pos)
                tag = (group << 16) | element
                if vr in _SHORT_VRS and previous < tag < 0x7FE00000 and group != 0xFFFE and pos + 8 + short <= end:
                    previous = tag
                    pos += 8 + short
                    continue
            tag, vr, length, head = self._element(pos, end, self.explicit, self.little)
            self._count()
            if tag == _ITEM_END:
                return pos + 8
            if top and tag in _PIXEL_TAGS:
                self.pixel_data(pos, pos + head, length, end, depth)
                return end
            if top and tag >= 0x7FE00000:
                return end  # trailing padding after the pixel data
            if tag <= previous:
                raise _Stop("corrupt", f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos} is out of order")
            previous = tag
            start = pos + head
            if length == _UNDEFINED:
                if self.explicit and vr not in (b"SQ", b"UN", b"OB", b"OW"):
                    raise _Stop(
                        "corrupt",
                        f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos} has "
                        "an undefined length its VR does not allow",
                    )
                kind = "fragments" if vr in (b"OB", b"OW") else "implicit" if vr == b"UN" else "items"
                pos = self.sequence(start, end, depth + 1, kind)
                continue
            if start + length > end:
                raise _Stop(
                    "corrupt",
                    f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos} declares "
                    f"{length} bytes but only {max(0, end - start)} remain in its item or the file",
                )
            if vr == b"SQ" and length:
                self.sequence(start, start + length, depth + 1)
            pos = start + length
        return pos

    def pixel_data(self, pos: int, start: int, length: int, end: int, depth: int) -> None:
        """The pixel data element: its length, or its fragments' lengths, must fit the file.

        GDCM's scanner reads encapsulated fragments too, so a damaged fragment length costs as
        much as a damaged header length. A short native element (a truncated file) goes to pydicom,
        and decoding then reports the truncation.
        """
        if length == _UNDEFINED:
            self.sequence(start, end, depth + 1, "fragments")
        elif start + length > end:
            raise _Stop(
                "corrupt",
                f"the pixel data at byte {pos} declares {length} bytes but only "
                f"{max(0, end - start)} remain (truncated file or damaged length)",
            )

    def sequence(self, pos: int, end: int, depth: int, kind: str = "items") -> int:
        """Walk the items of a sequence in [pos, end).

        ``kind``: "items" (datasets), "implicit" (datasets in implicit VR: an UN of undefined
        length, PS3.5 6.2.2) or "fragments" (encapsulated pixel data: raw bytes, lengths only).
        """
        if depth > limits.MAX_SEQUENCE_DEPTH:
            raise _Stop("corrupt", f"sequences nested deeper than {limits.MAX_SEQUENCE_DEPTH} levels")
        saved = (self.explicit, self.little)
        while pos < end:
            tag, _, length, head = self._element(pos, end, False, self.little)
            self._count()
            if tag == _SEQUENCE_END:
                return pos + 8
            if tag != _ITEM:
                raise _Stop(
                    "corrupt", f"expected a sequence item at byte {pos}, found ({tag >> 16:04X},{tag & 0xFFFF:04X})"
                )
            start = pos + head
            if kind == "fragments":
                if length == _UNDEFINED or start + length > end:
                    raise _Stop("corrupt", f"a pixel data fragment at byte {pos} runs past the end of the file")
                pos = start + length
                continue
            if kind == "implicit":
                self.explicit = False
            try:
                if length == _UNDEFINED:
                    pos = self.dataset(start, end, depth)
                    continue
                if start + length > end:
                    raise _Stop(
                        "corrupt",
                        f"a sequence item at byte {pos} declares {length} bytes but only {max(0, end - start)} remain",
                    )
                self.dataset(start, start + length, depth)
                pos = start + length
            finally:
                self.explicit, self.little = saved
        return pos


def count_fragments(path: str, element_offset: int) -> int | None:
    """Fragments of the encapsulated pixel data element at ``element_offset`` (the Basic Offset Table item
    not counted), or None when the element is not encapsulated or its items are damaged.

    Each frame is encoded in one or more fragments (PS3.5 A.4), so a file holds at most this many
    frames: the bound that keeps a corrupt NumberOfFrames from sizing a volume its pixel data
    cannot fill. Encapsulated syntaxes are explicit VR little endian; only the 8-byte item headers
    are read (on a memory map), so the cost is one step per fragment.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if element_offset + 12 > size:
                return None
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                if data[element_offset + 4 : element_offset + 6] not in (b"OB", b"OW"):
                    return None
                if _U32_LE.unpack_from(data, element_offset + 8)[0] != _UNDEFINED:
                    return None  # a defined length: native pixel data
                pos, items = element_offset + 12, 0
                while pos + 8 <= size:
                    group, element, length = _IMPLICIT.unpack_from(data, pos)
                    tag = (group << 16) | element
                    if tag == _SEQUENCE_END:
                        return max(0, items - 1)
                    if tag != _ITEM or length == _UNDEFINED or pos + 8 + length > size:
                        return None
                    items += 1
                    pos += 8 + length
                return None  # no sequence delimiter before the end of the file
    except (OSError, ValueError):
        return None
