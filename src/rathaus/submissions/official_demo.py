"""The demo city's official-style PDF form for the dog tax registration ("Anmeldung eines
Hundes zur Hundesteuer"), made by us with AcroForm text fields, so that the official-form
filling can be shown and tested with a real AcroForm. Built with pypdf's object model (one
page, Helvetica, WinAnsi); ``DOG_TAX_MAPPING`` maps its fields to the "hund-anmelden" form."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

TITLE = "Anmeldung eines Hundes zur Hundesteuer"
# (PDF field name, label, x, y, width, height, multi-line)
FIELDS = (
    ("Halter_Vorname", "Vorname", 50, 680, 230, 20, False),
    ("Halter_Name", "Familienname", 300, 680, 245, 20, False),
    ("Halter_Strasse", "Straße und Hausnummer", 50, 630, 300, 20, False),
    ("Halter_PLZ", "Postleitzahl", 370, 630, 70, 20, False),
    ("Halter_Ort", "Ort", 450, 630, 95, 20, False),
    ("Hund_Name", "Name des Hundes", 50, 560, 230, 20, False),
    ("Hund_Rasse", "Rasse", 300, 560, 245, 20, False),
    ("Hund_seit", "Gehalten seit", 50, 510, 120, 20, False),
    ("Hund_gefaehrlich", "Gefährlicher Hund", 190, 510, 90, 20, False),
    ("Weitere_Hunde", "Weitere Hunde", 50, 400, 495, 60, True),
    ("Lastschrift_IBAN", "IBAN für die Lastschrift", 50, 330, 300, 20, False),
)
DOG_TAX_MAPPING = {
    "Halter_Vorname": "vorname",
    "Halter_Name": "familienname",
    "Halter_Strasse": "strasse",
    "Halter_PLZ": "plz",
    "Halter_Ort": "ort",
    "Hund_Name": "hundename",
    "Hund_Rasse": "rasse",
    "Hund_seit": "gehalten_seit",
    "Hund_gefaehrlich": "gefaehrlich",
    "Weitere_Hunde": "weitere_hunde",
    "Lastschrift_IBAN": "iban",
}


def _text(x: float, y: float, size: int, text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /Helv %d Tf %.1f %.1f Td (" % (size, x, y) + escaped.encode("cp1252") + b") Tj ET\n"


def make_dog_tax_form() -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = writer._add_object(  # noqa: SLF001 - pypdf's way to add an indirect object
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    fonts = DictionaryObject({NameObject("/Helv"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    content = _text(50, 780, 16, TITLE) + _text(
        50,
        760,
        9,
        "Stadt Leipzig · Steueramt · Muster für die Demo-Stadt (kein amtliches Formular)",
    )
    content += _text(50, 720, 11, "1. Halterin / Halter") + _text(50, 590, 11, "2. Hund")
    content += _text(50, 470, 11, "3. Weitere Hunde im Haushalt")
    content += _text(50, 370, 11, "4. SEPA-Lastschrift")
    content += _text(50, 200, 9, "Ort, Datum, Unterschrift: ________________________________")
    widgets = ArrayObject()
    for name, label, x, y, width, height, multiline in FIELDS:
        content += _text(x, y + height + 3, 8, label)
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject(name),
                NameObject("/TU"): TextStringObject(label),  # the name screen readers say
                NameObject("/Rect"): ArrayObject(
                    [
                        FloatObject(x),
                        FloatObject(y),
                        FloatObject(x + width),
                        FloatObject(y + height),
                    ]
                ),
                NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
                NameObject("/F"): NumberObject(4),
                NameObject("/Ff"): NumberObject(4096 if multiline else 0),
                NameObject("/P"): page.indirect_reference,
                NameObject("/MK"): DictionaryObject(
                    {NameObject("/BC"): ArrayObject([FloatObject(0.4)] * 3)}
                ),
            }
        )
        widgets.append(writer._add_object(widget))  # noqa: SLF001
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)  # noqa: SLF001
    page[NameObject("/Annots")] = widgets
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(  # noqa: SLF001
        {
            NameObject("/Fields"): ArrayObject(widgets),
            NameObject("/DR"): DictionaryObject({NameObject("/Font"): fonts}),
            NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
            NameObject("/NeedAppearances"): BooleanObject(True),
        }
    )
    writer.add_metadata({"/Title": TITLE, "/Author": "Stadt Leipzig (Demo)"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
