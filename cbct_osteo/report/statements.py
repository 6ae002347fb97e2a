"""The fixed sentences every report must carry (INDICES.md, "Screening result").

They live in one place so the PDF, the DICOM SR and the tests use the same words, and so a
reviewer can check the program's honesty statements without reading layout code.
"""

from __future__ import annotations

TITLE = "Mandibular bone screening on dental CBCT"

#: The gray-value limit of an uncalibrated scan (CBCT): the default, and the word of caution.
GRAY_VALUES_UNCALIBRATED = (
    "CBCT gray values are not calibrated Hounsfield units: the trabecular gray-value statistics depend on "
    "the device, the field of view and the exposure, and are not bone mineral density."
)
#: The gray-value limit of a scan calibrated in Hounsfield units (a CT).
GRAY_VALUES_HU = (
    "This scan's gray values are calibrated Hounsfield units (CT), but the trabecular gray-value statistics "
    "still depend on the scanner and protocol and are not bone mineral density."
)

#: Shown under the screening result, always (INDICES.md "Screening result"); the gray-value
#: sentence is the uncalibrated one, see :func:`limits` for a scan's own.
LIMITS: tuple[str, ...] = (
    "This is a screening aid, not a diagnosis of osteoporosis. It can point to a patient who should have "
    "their bone density measured; it cannot rule osteoporosis in or out.",
    "The cutoffs come from the cited study populations, mostly postmenopausal women, scanned on particular "
    "devices; they may not apply to men, younger patients or other scanners. Indices without a validated "
    "CBCT cutoff are reported as values only.",
    GRAY_VALUES_UNCALIBRATED,
    "Dual-energy X-ray absorptiometry (DXA) is the reference standard for bone mineral density. WHO "
    "definitions: T-score ≤ −2.5 osteoporosis; T-score between −1 and −2.5 osteopenia (low bone mass).",
    "All values depend on the landmarks placed by the user; they should be reviewed on the images above "
    "before the report is signed.",
)

#: Category words as printed (results JSON ``category`` -> report wording).
CATEGORY_WORDS: dict[str, str] = {
    "low": "low",
    "normal": "normal",
    "no validated cutoff": "no validated cutoff",
    "not computable": "not computable",
    "definition pending verification": "definition pending verification",
}

SIGNATURE_LINES: tuple[str, ...] = ("Reviewing clinician (name, signature)", "Date")

#: The legend under the figures (colours match cbct_osteo.report.figures).
IMAGING_NOTE = (
    "Cross-sections are perpendicular to the dental arch through each mental foramen. Red: inferior cortical "
    "width W; dashed white: the measurement line from the foramen centre and the inferior border tangent; "
    "yellow: foramen centre and margins; dashed orange: the foramen's wall as the image shows it (the check of "
    "the margins, which lie at or just outside it); cyan: trabecular region of interest."
)


def limits(calibrated_hu: bool) -> tuple[str, ...]:
    """:data:`LIMITS` with the gray-value sentence that fits the scan (HU or not calibrated)."""
    if not calibrated_hu:
        return LIMITS
    return tuple(GRAY_VALUES_HU if text == GRAY_VALUES_UNCALIBRATED else text for text in LIMITS)
