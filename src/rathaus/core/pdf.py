"""PDF documents from typst templates, as PDF/A-3b (archivable; unlike PDF/A-2 it may carry the
data it shows as an attached file) and tagged PDF/UA-1 (title, language, structure for screen
readers).

A template gets everything it shows as data: one JSON document in ``sys.inputs.data``, never
spliced into template source, so an answer such as ``#read("/etc/passwd")`` is printed as those
characters. Only the fonts built into typst are used (no system fonts), so a document looks the
same on every machine, and the template's folder is the only place it may read from.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typst


class PdfError(Exception):
    """A template could not be compiled (a bug in the template, not in the data)."""


def render_pdf(template: Path, *, data: dict[str, Any], created: datetime | None = None) -> bytes:
    """The PDF of ``template`` with ``data``; ``created`` is the document date in its metadata
    (the same data and date give the same document)."""
    try:
        return bytes(
            typst.compile(
                str(template),
                root=str(template.parent),
                sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
                ignore_system_fonts=True,
                pdf_standards=["a-3b", "ua-1"],
                timestamp=int(created.timestamp()) if created else None,
            )
        )
    except RuntimeError as exc:  # typst reports compile errors as RuntimeError
        raise PdfError(f"{template.name}: {exc}") from exc
