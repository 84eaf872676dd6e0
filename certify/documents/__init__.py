"""Uploaded documents, pure Python: what a file is by its content, and whether it is safe to open."""
from certify.documents.inspect import (
    MAX_IMAGE_PIXELS,
    MAX_PDF_OBJECTS,
    MAX_PDF_PAGES,
    MAX_ROWS,
    MAX_TEXT_CHARS,
    MAX_XLSX_ENTRIES,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    DeadlinePassed,
    Inspection,
    inspect_document,
    read_ahead,
)
from certify.documents.sniff import ACCEPTED_MEDIA_TYPES, safe_filename_label, sniff_media_type

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "DeadlinePassed",
    "MAX_IMAGE_PIXELS",
    "MAX_PDF_OBJECTS",
    "MAX_PDF_PAGES",
    "MAX_ROWS",
    "MAX_TEXT_CHARS",
    "MAX_XLSX_ENTRIES",
    "MAX_XLSX_UNCOMPRESSED_BYTES",
    "Inspection",
    "inspect_document",
    "read_ahead",
    "safe_filename_label",
    "sniff_media_type",
]
