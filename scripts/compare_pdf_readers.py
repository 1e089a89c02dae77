"""Why pdfminer.six reads PDFs: reading order of pypdf and pdfminer.six on the two-column test page.

    pip install pypdf==7.1.0   # only for this comparison; not a dependency
    python scripts/compare_pdf_readers.py

Prints, for the page drawn line by line across both columns and for the page drawn right
column first, whether each library reads the left column before the right one, and whether a
hyphenated line end survives (neither repairs it; rag/ingest/formats/pdf.py does).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.formats.test_pdf import LEFT, RIGHT, press_release  # noqa: E402


def _pypdf(data: bytes) -> str:
    import pypdf

    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


def _pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data), page_numbers=[0])


def main() -> None:
    for layout, interleaved in (("lines interleaved", True), ("right column first", False)):
        data = press_release(interleaved)
        for name, read in (("pypdf", _pypdf), ("pdfminer.six", _pdfminer)):
            text = " ".join(read(data).split())
            left, right = text.find(LEFT[1][:30]), text.find(RIGHT[0][:30])
            columns = " ".join(" ".join(LEFT).split()) in text and " ".join(" ".join(RIGHT).split()) in text
            order = "left then right, columns intact" if 0 <= left < right and columns else "columns mixed or reversed"
            print(f"{layout:18} {name:13} {order}; hyphen kept: {'fin- ished' in text}")


if __name__ == "__main__":
    main()
