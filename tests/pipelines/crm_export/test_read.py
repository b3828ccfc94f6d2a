"""Reading an export file's bytes: UTF-8, cp1252, and a UTF-8 file with a few cp1252 bytes pasted into it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines.crm_export.read import read_export

HEADER = "Lead ID;Firma;Ort;Notiz\n"
ROWS = ["L-1;Müller GmbH;Köln;Rückruf\n", "L-2;Weiß & Söhne;Düsseldorf;Angebot\n", "L-3;Jäger KG;Göttingen;\n"]


def _write(tmp_path: Path, content: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _utf8_with(stray: bytes, row: int = 1, bom: bytes = b"") -> bytes:
    """The rows in UTF-8, with ``stray`` (bytes in cp1252) ending the note of ``row``."""
    lines = [line.encode("utf-8") for line in [HEADER, *ROWS]]
    lines[row + 1] = lines[row + 1].rstrip(b"\n") + stray + b"\n"
    return bom + b"".join(lines)


def test_a_utf8_export_with_one_cp1252_byte_is_read_as_utf8_with_a_warning_naming_file_and_byte(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = _utf8_with(" – bitte".encode("cp1252"))  # an en dash typed in a cp1252 program: the byte 0x96
    path = _write(tmp_path, content)
    offset = content.index(b"\x96")

    with caplog.at_level(logging.WARNING, logger="pipelines.crm_export.read"):
        export = read_export(path)

    assert export.frame["Firma"].tolist() == ["Müller GmbH", "Weiß & Söhne", "Jäger KG"]  # not Ã¼ (read as cp1252)
    assert export.frame.loc[1, "Notiz"] == "Angebot – bitte"
    assert export.encoding == "utf-8-sig"
    [warning] = export.warnings
    assert str(path) in warning
    assert f"byte offset {offset} (line 3: 0x96, read as '–')" in warning
    assert "Angebot" not in warning  # the position, never the cell
    assert "Weiß" not in warning
    assert [record.getMessage() for record in caplog.records] == [warning]


def test_the_byte_offset_counts_a_byte_order_mark_and_more_stray_bytes_are_counted(tmp_path: Path) -> None:
    stray = "".join(f" {char}" for char in "äöüßé€’").encode("cp1252")  # seven cp1252 bytes, none valid UTF-8
    content = _utf8_with(stray, row=0, bom=b"\xef\xbb\xbf")

    export = read_export(_write(tmp_path, content))

    assert export.frame.loc[0, "Notiz"] == "Rückruf ä ö ü ß é € ’"
    [warning] = export.warnings
    assert "UTF-8 with 7 byte(s) that are not UTF-8" in warning
    assert f"byte offset {content.index(stray[1:2])} (line 2: 0xe4, read as 'ä')" in warning
    assert "and 2 more" in warning


def test_a_cp1252_export_is_read_as_cp1252_without_a_warning(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "".join([HEADER, *ROWS]).encode("cp1252")))

    assert export.encoding == "cp1252"
    assert export.frame["Ort"].tolist() == ["Köln", "Düsseldorf", "Göttingen"]
    assert export.warnings == ()


def test_one_umlaut_in_utf8_outweighs_one_stray_byte(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, b"Lead ID;Firma\nL-1;M\xc3\xbcller\nL-2;A\x96B\n"))

    assert export.frame["Firma"].tolist() == ["Müller", "A–B"]
    assert len(export.warnings) == 1


def test_a_clean_utf8_export_has_no_warning(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "".join([HEADER, *ROWS]).encode("utf-8")))

    assert (export.encoding, export.warnings) == ("utf-8-sig", ())
    assert export.frame.loc[0, "Firma"] == "Müller GmbH"
