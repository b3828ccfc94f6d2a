"""Reading an export file's bytes: UTF-8, cp1252, cp1251, cp1250 and ISO-8859-2, and a UTF-8 file with a few cp1252
bytes pasted into it."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from models.contract import DataContractError
from pipelines.crm_export.read import footer_note, read_export

HEADER = "Lead ID;Firma;Ort;Notiz\n"
ROWS = ["L-1;Müller GmbH;Köln;Rückruf\n", "L-2;Weiß & Söhne;Düsseldorf;Angebot\n", "L-3;Jäger KG;Göttingen;\n"]


def _write(tmp_path: Path, content: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _sheet(tmp_path: Path, rows: list[list[object]], name: str = "board.xlsx") -> Path:
    """A workbook of one sheet holding ``rows`` as they are (no header of pandas' own)."""
    path = tmp_path / name
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
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


def test_a_cyrillic_windows_1251_export_is_read_as_cp1251(tmp_path: Path) -> None:
    # Bitrix24, amoCRM and 1C export so in a Russian locale; read as cp1252 the names were "Îòðàñëü"
    content = "ID;Отрасль;Стадия;Ёмкость\n1;Производство;Успешный;ёлка\n2;Розничная торговля;Провален;\n"

    export = read_export(_write(tmp_path, content.encode("cp1251")))

    assert export.encoding == "cp1251"
    assert export.frame.columns.tolist() == ["ID", "Отрасль", "Стадия", "Ёмкость"]
    assert export.frame["Отрасль"].tolist() == ["Производство", "Розничная торговля"]


@pytest.mark.parametrize(
    "rows",
    [
        ["Cidade;Situação\n", "São Paulo;Ações e promoções\n", "Brasília;Não\n"],  # two such bytes side by side
        ["Ville;Créée\n", "Orléans;Créée à Île-de-France\n", "Besançon;Déjà\n"],
        ["Ort;Größe\n", "Köln;GRÖßE\n", "Düsseldorf;weiß\n"],
    ],
)
def test_western_european_cp1252_exports_are_not_taken_for_cyrillic(rows: list[str], tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "".join(rows * 4).encode("cp1252")))

    assert export.encoding == "cp1252"
    assert export.frame.columns.tolist() == rows[0].strip().split(";")


# Central European exports as a CRM writes them in a Windows locale (Freshsales, Pipedrive, Raynet, MiniCRM): read as
# cp1252 their headers were "W³aœciciel", "Pøíjmení", "Megjegyzés" with "Gyõr"
POLISH = (
    "Identyfikator;Imię;Źródło;Właściciel;Branża;Stanowisko\n"
    "1;Małgorzata;Polecenie;Paweł Dąbrowski;Usługi finansowe;Asystentka zarządu\n"
    "2;Jędrzej;Strona internetowa;Michał Kozłowski;Przemysł;Kierownik sprzedaży\n"
    "3;Łucja;Targi;Paweł Dąbrowski;Handel;Dyrektor handlowy\n"
)
CZECH = (
    "ID;Příjmení;Jméno;Město;Vlastník;Poznámka\n"
    "1;Dvořák;Jiří;Plzeň;Kateřina Procházková;Zavolat příští týden\n"
    "2;Černý;Tomáš;České Budějovice;Petr Kučera;Děkuje za nabídku\n"
    "3;Němcová;Lucie;Ústí nad Labem;Kateřina Procházková;Obchodní ředitelka\n"
)
HUNGARIAN = (
    "Azonosító;Név;Város;Tulajdonos;Megjegyzés\n"
    "1;Kovács Péter;Győr;Szűcs Anna;Érdeklődő, könyvelő\n"
    "2;Tóth Ödön;Székesfehérvár;Szűcs Anna;Ügyvezető, visszahívás csütörtökön\n"
    "3;Németh Júlia;Kőszeg;Farkas Gábor;Üzletkötő\n"
)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [(POLISH, "cp1250"), (CZECH, "cp1250"), (HUNGARIAN, "cp1250"), (POLISH, "iso-8859-2"), (CZECH, "iso-8859-2")],
)
def test_a_central_european_export_is_read_in_its_encoding_without_a_note(
    content: str, encoding: str, tmp_path: Path
) -> None:
    export = read_export(_write(tmp_path, content.encode(encoding)))

    assert export.encoding == encoding
    assert export.frame.columns.tolist() == content.split("\n")[0].split(";")
    assert export.frame.iloc[:, 1:].to_numpy().tolist() == [line.split(";")[1:] for line in content.split("\n")[1:-1]]
    assert export.warnings == ()


WESTERN = [
    "Firma;Größe;Ort\nMüller GmbH;groß;Köln\nWeiß & Söhne;klein;Düsseldorf\nJäger KG;mittel;Göttingen\n",
    "Société;Créée;Ville\nCrédit Agricole;déjà;Orléans\nPère & Fils;très intéressé;Besançon\nLefèvre;à voir;Nîmes\n",
    "Compañía;Año;Teléfono\nTelefónica;2024;Señor García\nMuñoz e Ibáñez;2025;Logroño\nPeña;2023;Cádiz\n",
    "Città;Attività;Note\nForlì;Sì, è possibile;Più tardi\nCantù;Società di qualità;Perché no\nMilano;Novità;lunedì\n",
    "Ação;Situação;Cidade\nInformações;Não;São Paulo\nSoluções;Ações;Brasília\nGonçalves;Conceição;Maceió\n",
    "Bedrijf;Notitie;Plaats\nCafé België;geïnteresseerd;Één\nCoöperatie;reünie;Zeeën\nFinanciële;geëxporteerd;idee\n",
    "Navn;By;Kunde\nSøren Jørgensen;København;Købmand\nÅse Nørgaard;Århus;Forhandler\nMøller;Næstved;Brøndby\n",
]


@pytest.mark.parametrize("content", WESTERN)
def test_western_european_cp1252_exports_read_as_before_without_a_note(content: str, tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, content.encode("cp1252")))

    assert export.encoding == "cp1252"
    assert export.frame.columns.tolist() == content.split("\n")[0].split(";")
    assert export.frame.to_numpy().tolist() == [line.split(";") for line in content.split("\n")[1:-1]]
    assert export.warnings == ()


def test_an_encoding_the_letters_leave_open_is_read_as_cp1252_with_a_note_naming_the_other(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Slovenian surnames whose only letter the encodings read apart is č: cp1252's è is as good a guess (French)
    content = "ID;Priimek;Mesto\n1;Kovačič;Ljubljana\n2;Zupančič;Maribor\n3;Potočnik;Celje\n".encode("cp1250")

    with caplog.at_level(logging.WARNING, logger="pipelines.crm_export.read"):
        export = read_export(_write(tmp_path, content))

    assert export.encoding == "cp1252"
    [note] = export.warnings
    assert note.startswith("export.csv: not UTF-8; read as cp1252 (Western European), a guess")
    assert "cp1250 (Central European) would read otherwise" in note
    assert "save the file as UTF-8" in note
    assert "Kova" not in note  # how the file was read, never a cell
    assert [record.getMessage() for record in caplog.records] == [note]


def test_bytes_cp1252_leaves_unassigned_are_read_as_latin1_with_a_note(tmp_path: Path) -> None:
    content = b"ID;Notiz\n1;M\xfcller \x81\n2;K\xf6ln\n3;G\xf6ttingen\n"  # 0x81: no character in cp1252 nor cp1250

    export = read_export(_write(tmp_path, content))

    assert export.encoding == "latin-1"
    assert export.frame["Notiz"].tolist() == ["Müller \x81", "Köln", "Göttingen"]
    [note] = export.warnings
    assert "read as latin-1 (Western European, ISO-8859-1)" in note
    assert "cp1250 (Central European)" in note


def test_one_umlaut_in_utf8_outweighs_one_stray_byte(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, b"Lead ID;Firma\nL-1;M\xc3\xbcller\nL-2;A\x96B\n"))

    assert export.frame["Firma"].tolist() == ["Müller", "A–B"]
    assert len(export.warnings) == 1


def test_a_clean_utf8_export_has_no_warning(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "".join([HEADER, *ROWS]).encode("utf-8")))

    assert (export.encoding, export.warnings) == ("utf-8-sig", ())
    assert export.frame.loc[0, "Firma"] == "Müller GmbH"


SALESFORCE_REPORT = (
    '"Lead ID","Lead Owner","Company"\n"00Q1","Eva","Acme"\n"00Q2","Max","Beta"\n"00Q3","",""\n'
    '""\n""\n"Leads with converted lead info"\n"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
    '"Generated By:  Jane Admin  4/15/2025 9:14 AM"\n'
)


def test_a_report_footer_after_a_blank_line_is_no_lead(tmp_path: Path) -> None:
    path = tmp_path / "report1713187200000.csv"
    path.write_text(SALESFORCE_REPORT, encoding="utf-8")

    export = read_export(path)

    # the last lead keeps its row though only its id is filled: no blank line before it
    assert export.frame["Lead ID"].tolist() == ["00Q1", "00Q2", "00Q3"]
    [note] = export.warnings
    assert "the last 5 lines are a report footer" in note
    assert "Jane" not in note  # the footer's words are not repeated


@pytest.mark.parametrize(
    "closing", ["Report generated 2026-11-27 by Kim Lee", "Exported on 27.11.2026", "Erstellt am 27.11.2026 von Max"]
)
def test_a_closing_line_saying_when_or_by_whom_the_report_was_made_is_no_lead(tmp_path: Path, closing: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f'"Lead ID","Company"\n"L1","Acme"\n"L2","Beta"\n"{closing}"\n', encoding="utf-8")

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2"]
    [note] = export.warnings
    assert "the last line is a report footer" in note


@pytest.mark.parametrize("separator", [",", ";"])
def test_a_reports_title_lines_above_the_header_are_left_out_with_a_note(tmp_path: Path, separator: str) -> None:
    rows = "".join(f"L{i}{separator}Acme {i}{separator}{i * 10}{separator}1\n" for i in range(30))
    title = "Lead report - November 2026\nFilter: all open leads, created this month\n\n"
    path = tmp_path / "report.csv"
    path.write_text(f"{title}Lead ID{separator}Company{separator}Visits{separator}Converted\n{rows}", encoding="utf-8")

    export = read_export(path)

    assert list(export.frame.columns) == ["Lead ID", "Company", "Visits", "Converted"]
    assert (len(export.frame), export.separator) == (30, separator)
    [note] = export.warnings
    assert note == "report.csv: the column names are on line 4; the 3 line(s) above them, a title, left out"


_SEMICOLON_ROWS = "".join(f"L{i};Acme {i};{i * 10};1\n" for i in range(30))


@pytest.mark.parametrize(
    ("title", "rows", "separator"),
    [
        ("Lead report, November 2026\n\n", _SEMICOLON_ROWS, ";"),
        ("Leads by status: Open, Working, Nurture\n\n", _SEMICOLON_ROWS, ";"),  # a title with three commas
        ("Lead report\nFilter: Owner = Max, Status = Open, Region = DACH\n\n", _SEMICOLON_ROWS, ";"),
        ("Report, Leads, 2026\n\n", _SEMICOLON_ROWS.replace(";", "\t"), "\t"),
        ("Lead report\n\n", "L1;Acme;3;1\n", ";"),  # one lead below the header
        ("Lead report\n\n", _SEMICOLON_ROWS.replace(";", ",").replace("\n", ",\n"), ","),  # rows end in a comma
    ],
)
def test_a_title_above_the_header_is_left_out_whatever_its_separators(
    tmp_path: Path, title: str, rows: str, separator: str
) -> None:
    header = separator.join(["Lead ID", "Company", "Visits", "Converted"])
    path = tmp_path / "report.csv"
    path.write_text(f"{title}{header}\n{rows}", encoding="utf-8")

    export = read_export(path)

    assert (list(export.frame.columns), export.separator) == (["Lead ID", "Company", "Visits", "Converted"], separator)
    assert export.frame["Lead ID"].iloc[0] == rows.split(separator)[0]


@pytest.mark.parametrize("title", ["", "Lead report, November 2026\n\n"])
def test_lines_ended_by_bare_carriage_returns_are_read_as_lines(tmp_path: Path, title: str) -> None:
    # classic Mac OS line ends: the file holds no line feed at all, and read as one line it had no rows
    rows = "".join(f"L{i},Acme {i},{i * 10},1\n" for i in range(5))
    path = tmp_path / "leads.csv"
    path.write_bytes(f"{title}Lead ID,Company,Visits,Converted\n{rows}".replace("\n", "\r").encode("utf-8"))

    export = read_export(path)

    assert list(export.frame.columns) == ["Lead ID", "Company", "Visits", "Converted"]
    assert export.frame["Visits"].tolist() == ["0", "10", "20", "30", "40"]


def test_a_line_feed_typed_in_a_cell_of_a_file_whose_lines_end_in_carriage_returns_stays_in_the_cell(
    tmp_path: Path,
) -> None:
    # Excel for Mac: rows end in CR, a line break typed inside a cell is an LF
    path = tmp_path / "leads.csv"
    path.write_bytes(b'Lead ID,Notes,Visits\rL1,"first\nsecond",3\rL2,plain,4\rL3,x,5\r')

    export = read_export(path)

    assert export.frame["Notes"].tolist() == ["first\nsecond", "plain", "x"]
    assert export.frame["Visits"].tolist() == ["3", "4", "5"]


def test_a_carriage_return_inside_a_cell_of_a_file_with_line_feeds_stays_in_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b'Lead ID,Notes\r\nL1,"first\rsecond"\r\nL2,plain\r\n')

    export = read_export(path)

    assert export.frame["Notes"].tolist() == ["first\rsecond", "plain"]


def test_a_separator_at_the_end_of_every_row_but_the_headers_is_left_out(tmp_path: Path) -> None:
    # pandas took such rows' first field for an index and shifted the rest: leadq crashed on the index
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Company,Visits\nL1,Acme,3,\nL2,Beta,5,\n\nL3,Gamma,,\n", encoding="utf-8")

    export = read_export(path)

    rows = export.frame.fillna("").to_numpy().tolist()
    assert rows == [["L1", "Acme", "3"], ["L2", "Beta", "5"], ["L3", "Gamma", ""]]


def test_a_value_in_a_field_the_header_does_not_name_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Company,Visits\nL1,Acme,3,\nL2,Beta,5,Inc.\n", encoding="utf-8")

    with pytest.raises(DataContractError) as refused:
        read_export(path)

    assert "its rows have 4 fields and the header names 3, and data row 2 holds a value" in str(refused.value)


def test_a_semicolon_export_with_decimal_commas_keeps_its_separator(tmp_path: Path) -> None:
    rows = "".join(f"L{i};1.234,5{i % 10};0,75\n" for i in range(30))
    path = tmp_path / "leads.csv"
    path.write_text(f"Lead ID;Revenue;Score\n{rows}", encoding="utf-8")

    export = read_export(path)

    assert (export.separator, export.frame.shape, export.warnings) == (";", (30, 3), ())
    assert export.frame["Revenue"].iloc[0] == "1.234,50"


def test_a_comma_export_whose_multi_select_cells_hold_semicolons_keeps_its_separator(tmp_path: Path) -> None:
    rows = "".join(f"L{i},Webinar;Ebook;Demo;Trial,{i}\n" for i in range(30))
    path = tmp_path / "leads.csv"
    path.write_text(f"Lead ID,Interests,Visits\n{rows}", encoding="utf-8")

    export = read_export(path)

    assert (export.separator, export.frame.shape, export.warnings) == (",", (30, 3), ())


def test_a_quote_never_closed_that_swallows_leads_is_refused_naming_the_cell(tmp_path: Path) -> None:
    rows = [f"L{i},Acme,{i},Call back" for i in range(20)]
    rows[5] = 'L5,Acme,5,"Said ""maybe, next week'  # a quote opened and not closed ...
    rows[15] = 'L15,Acme,15,"Demo booked"'  # ... until this note's first quote: rows 7 to 16 became the note's text
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Company,Visits,Notes\n" + "\n".join(rows) + "\n", encoding="utf-8")

    with pytest.raises(DataContractError) as refused:
        read_export(path)

    message = str(refused.value)
    assert "the value of 'Notes' in data row 6 holds" in message
    assert "a quote opened in that cell is never closed" in message


def test_notes_over_several_lines_are_no_swallowed_rows(tmp_path: Path) -> None:
    note = '"Called twice.\nWants a demo, in March.\nBudget: 20k, maybe 30k."'
    rows = "".join(f"L{i},Acme,{i},{note}\n" for i in range(10))
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Company,Visits,Notes\n" + rows, encoding="utf-8")

    assert len(read_export(path).frame) == 10


def test_a_pipe_separated_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "leads.txt"
    path.write_text("Lead ID|Company|Visits\n" + "".join(f"L{i}|Acme, Inc.|{i}\n" for i in range(5)), encoding="utf-8")

    export = read_export(path)

    assert (export.separator, list(export.frame.columns)) == ("|", ["Lead ID", "Company", "Visits"])


def test_quoted_separators_in_values_are_no_sign_of_a_title(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Lead ID,Notes\n" + "".join(f'L{i},"a, b, c, d, e, f"\n' for i in range(30)), encoding="utf-8")

    export = read_export(path)

    assert (export.frame.shape, export.warnings) == ((30, 2), ())


def test_a_single_cell_last_row_without_a_blank_line_before_it_is_a_lead(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text('"Lead ID","Company"\n"L1","Acme"\n"L2",""\n"L3",""\n', encoding="utf-8")

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2", "L3"]
    assert export.warnings == ()


def test_a_report_footer_after_a_truly_empty_line_is_no_lead_and_blank_lines_between_leads_are_skipped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "Lead ID,Company,Converted\nL1,Acme,1\n\nL2,Beta,0\nL3,Gamma,0\n\nConfidential Information\nCopyright 2025\n",
        encoding="utf-8",
    )

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2", "L3"]
    assert list(export.frame.index) == [0, 1, 2]  # row numbers as if the blank line were not there
    [note] = export.warnings
    assert "the last 3 lines are a report footer" in note


@pytest.mark.parametrize(
    "tail",
    [
        "Grand Totals (3 records),,9\n",  # Salesforce's totals line, no blank line before it
        "Total,,9\nAverage,,3\n",  # a report's totals rows of sums
        "Summe,,9\n",
        '"Confidential Information - Do Not Distribute"\n"Copyright (c) 2000-2026 salesforce.com, inc."\n',
    ],
)
def test_a_reports_totals_and_closing_lines_are_no_leads_even_without_a_blank_line(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f"Lead ID,Company,Visits\nL1,Acme,3\nL2,Beta,5\nL3,,1\n{tail}", encoding="utf-8")

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2", "L3"]
    assert export.warnings == (footer_note("leads.csv", tail.count("\n")),)


def test_a_lead_whose_first_cell_only_begins_like_a_total_stays_a_lead(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Company,Visits\nAcme,3\nTotal Energies,5\nSummit GmbH,\n", encoding="utf-8")

    assert read_export(path).frame["Company"].tolist() == ["Acme", "Total Energies", "Summit GmbH"]


@pytest.mark.parametrize("hint", ["sep=;", '"sep=;"', "SEP=;"])
def test_excels_separator_line_names_the_separator_and_is_no_header(tmp_path: Path, hint: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f"{hint}\r\nLead ID;Company;Revenue\r\nL1;Acme, Inc.;1,5\r\n", encoding="utf-8")

    export = read_export(path)

    assert (export.separator, list(export.frame.columns)) == (";", ["Lead ID", "Company", "Revenue"])
    assert export.frame.loc[0, "Company"] == "Acme, Inc."


@pytest.mark.parametrize("name", ["leads.txt", "leads.tsv"])
def test_excels_unicode_text_is_read_as_utf16_tab_separated(tmp_path: Path, name: str) -> None:
    # Excel's "Save as Unicode Text": UTF-16 with a byte-order mark, tabs between the cells, a .txt name
    text = "Lead ID\tFirma\tOrt\r\nL-1\tMüller GmbH\tKöln\r\nL-2\tWeiß & Söhne\tDüsseldorf\r\n"
    path = _write(tmp_path, text.encode("utf-16"), name)

    export = read_export(path)

    assert (export.encoding, export.separator) == ("utf-16", "\t")
    assert list(export.frame.columns) == ["Lead ID", "Firma", "Ort"]
    assert export.frame.loc[1, "Firma"] == "Weiß & Söhne"


def test_another_file_type_is_refused_naming_the_types_read(tmp_path: Path) -> None:
    path = _write(tmp_path, b"Lead ID,Company\nL1,Acme\n", "leads.json")

    with pytest.raises(DataContractError, match=r"unsupported file type '\.json'; expected \.csv \(or \.tsv, \.txt\)"):
        read_export(path)


def test_a_workbooks_title_rows_are_left_out_and_its_other_sheets_named(tmp_path: Path) -> None:
    # a formatted report: its title and a blank line above the column names, a summary on a second sheet
    path = tmp_path / "leads_report.xlsx"
    leads = pd.DataFrame(
        {"Lead ID": ["L1", "L2", "L3"], "Company": ["Acme", "", "Gamma"], "Converted": ["1", "0", "0"]}
    )
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame([["Leads Report - All Leads"], ["Generated by Admin"]]).to_excel(
            workbook, sheet_name="Leads", header=False, index=False
        )
        leads.to_excel(workbook, sheet_name="Leads", index=False, startrow=3)
        pd.DataFrame({"Metric": ["Total"], "Value": [3]}).to_excel(workbook, sheet_name="Summary", index=False)

    export = read_export(path)

    assert list(export.frame.columns) == ["Lead ID", "Company", "Converted"]
    assert export.frame["Lead ID"].tolist() == ["L1", "L2", "L3"]
    assert export.warnings == (
        "leads_report.xlsx: read the sheet 'Leads' (7 rows, named for the leads); the workbook also has 'Summary' "
        "(2 rows) (to read another, save it as its own file)",
        "leads_report.xlsx: the column names are on row 4; the 3 rows above, a title, left out",
    )


def test_a_grouped_boards_repeated_column_names_and_section_titles_are_no_leads(tmp_path: Path) -> None:
    # monday.com's workbook: the board's name, then per group its title, the column names again and its items
    # (fuzz22: 5,006 "leads" from 5,000 items, the repeats scored as leads)
    rows: list[list[object]] = [
        ["Leads pipeline", "", ""],
        ["New Leads", "", ""],
        ["Name", "Status", "Created"],
        ["Acme", "New Lead", "2026-01-02"],
        ["", "", ""],
        ["Won", "", ""],
        ["Name", "Status", "Created"],
        ["Gamma", "Won", "2026-01-05"],
        ["Delta", "Won", "2026-01-06"],
    ]
    path = _sheet(tmp_path, rows)

    export = read_export(path)

    assert export.frame["Name"].tolist() == ["Acme", "Gamma", "Delta"]
    # the groups are the pipeline's stages here, and no other column says them
    assert export.frame["Group"].tolist() == ["New Leads", "Won", "Won"]
    assert export.warnings[-1] == (
        "board.xlsx: 1 row(s) repeat the column names and 2 section title(s) head the sections ('New Leads', "
        "'Won'), as a grouped board's do: left out, no lead; each row's section kept as the column 'Group'"
    )


def test_a_board_whose_first_section_has_no_title_keeps_no_section_column(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Name", "Status", "Created"],
        ["Acme", "New Lead", "2026-01-02"],
        ["Won", "", ""],
        ["Name", "Status", "Created"],
        ["Gamma", "Won", "2026-01-05"],
    ]
    path = _sheet(tmp_path, rows)

    export = read_export(path)

    assert list(export.frame.columns) == ["Name", "Status", "Created"]  # half the rows without a section: no column
    assert export.frame["Name"].tolist() == ["Acme", "Gamma"]
    assert "the section a row sat in is not kept" in export.warnings[-1]


def test_a_csv_whose_header_comes_again_reads_it_as_no_lead(tmp_path: Path) -> None:
    # two exports pasted one below the other
    path = _write(tmp_path, b"Lead ID,Company,Converted\nL1,Acme,1\nLead ID,Company,Converted\nL2,Beta,0\n")

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2"]
    assert "1 row(s) repeat the column names, as a grouped board's sections do" in export.warnings[-1]


def test_a_workbook_is_read_from_its_largest_sheet_when_a_summary_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame({"Metric": ["Total", "Won"], "Value": [3, 1]}).to_excel(
            workbook, sheet_name="Summary", index=False
        )
        pd.DataFrame({"Lead ID": ["L1", "L2", "L3"], "Converted": ["1", "0", "0"]}).to_excel(
            workbook, sheet_name="Leads", index=False
        )

    export = read_export(path)

    assert export.frame["Lead ID"].tolist() == ["L1", "L2", "L3"]
    assert "read the sheet 'Leads' (4 rows, named for the leads); the workbook also has 'Summary'" in export.warnings[0]


def test_a_sheet_named_for_the_leads_is_read_before_a_larger_activity_log(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame({"Activity": ["call"] * 9, "Lead ID": ["L1"] * 9}).to_excel(
            workbook, sheet_name="Activities", index=False
        )
        pd.DataFrame({"Lead ID": ["L1", "L2"], "Status": ["Won", "Lost"]}).to_excel(
            workbook, sheet_name="Leads", index=False
        )

    export = read_export(path)

    assert list(export.frame.columns) == ["Lead ID", "Status"]
    assert "read the sheet 'Leads' (3 rows, named for the leads)" in export.warnings[0]
    assert "'Activities' (10 rows)" in export.warnings[0]


def test_a_plain_workbook_is_read_from_its_first_row_without_a_note(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    pd.DataFrame({"Lead ID": ["L1", "L2"], "Notes": ["", "call"], "Converted": ["1", "0"]}).to_excel(path, index=False)

    export = read_export(path)

    assert export.frame.to_dict("list") == {"Lead ID": ["L1", "L2"], "Notes": ["", "call"], "Converted": ["1", "0"]}
    assert export.warnings == ()


def test_a_column_named_twice_is_kept_under_its_own_name_with_a_note(tmp_path: Path) -> None:
    path = _write(tmp_path, b"Lead ID,Industry,Industry,Converted\nL1,IT,Software,1\nL2,Retail,Shops,0\n")

    export = read_export(path)

    assert list(export.frame.columns) == ["Lead ID", "Industry", "Industry.1", "Converted"]
    assert export.warnings == (
        "export.csv: columns named more than once, each kept under its own name: 'Industry' (again as 'Industry.1')",
    )


@pytest.mark.parametrize(("hint", "line"), [("", 5), ("sep=,\n", 6)])
def test_rows_with_more_fields_than_the_header_are_refused_naming_the_first_line_and_the_likely_cause(
    tmp_path: Path, hint: str, line: int
) -> None:
    # an unquoted comma in a company name; a quoted line break before it makes line and row numbers differ
    path = tmp_path / "leads.csv"
    path.write_text(
        f'{hint}Lead ID,Company,Visits\nL1,Acme,3\nL2,"Beta\nGroup",5\nL3,Gamma, Inc.,1\nL4,Delta,2\n'
        "L5,Epsilon, Ltd,4\n",
        encoding="utf-8",
    )

    with pytest.raises(DataContractError) as refused:
        read_export(path)

    message = str(refused.value)
    assert "2 row(s) have more fields than the header's 3 (separator ',')" in message
    assert f"the first, line {line} of the file" in message
    assert "(data row 3), has 4" in message
    assert "not in quotes" in message


@pytest.mark.parametrize(
    ("text", "first_column", "footer_lines"),
    [
        ("Owner,Company,Amount\nEva,Acme,3\nMax,Beta,4\n,Total,7\n", ["Eva", "Max"], 1),  # the total in column 2
        ("Last,First,Visits\nLee,Ann,2\nSum,Kit,2\n", ["Lee", "Sum"], 0),  # Mr Sum: his first name is no number
        ("Id,Company\r\nL1,Acme\r\n\r\n,\r\n", ["L1"], 0),  # blank lines at the end are no footer
        ('Id,Company,Amount\nL1,Acme,3\nL2,Beta,4\nTotal,,"$1,234.00"\n', ["L1", "L2"], 1),  # a currency sum
        ('Id,Amount,Margin\nL1,3,1\nL2,4,2\nTotal,"(1,234)",-\n', ["L1", "L2"], 1),  # accounting's negative and zero
    ],
)
def test_a_totals_row_needs_numbers_beside_its_word(
    tmp_path: Path, text: str, first_column: list[str], footer_lines: int
) -> None:
    path = tmp_path / "report.csv"
    path.write_text(text, encoding="utf-8")

    export = read_export(path)

    assert export.frame.iloc[:, 0].fillna("").tolist() == first_column
    assert export.warnings == ((footer_note("report.csv", footer_lines),) if footer_lines else ())


def test_a_data_or_export_sheet_is_no_leads_sheet(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame({"Lead ID": [f"L{n}" for n in range(9)], "Status": ["Won"] * 9}).to_excel(
            workbook, sheet_name="Sheet1", index=False
        )
        pd.DataFrame({"Field": ["Status"], "Meaning": ["the outcome"]}).to_excel(
            workbook, sheet_name="Data Dictionary", index=False
        )

    assert len(read_export(path).frame) == 9  # the largest sheet, as no sheet is named for the leads


def test_a_formatted_reports_group_totals_are_no_leads_and_its_group_column_is_carried_down(tmp_path: Path) -> None:
    # Salesforce's "Formatted Report" grouped by Lead Status: the title block, each group's value on its first row
    # only, a "Subtotal" and a "Record Count" after each group, and the grand totals (fuzz28: 10 of them scored)
    header: list[object] = ["Lead Status", "Company", "Employees", "Amount"]
    rows: list[list[object]] = [["Leads with converted lead information", "", "", ""], ["", "", "", ""], header]
    for status, companies in (
        ("Closed - Converted", ["Acme", "Beta", "Gamma", "Delta", "Eps"]),
        ("Open", ["Zeta"] * 6),
    ):
        rows += [[status if i == 0 else "", company, "50", "1000"] for i, company in enumerate(companies)]
        rows += [["Subtotal", "", "", "5000"], ["Record Count", str(len(companies)), "", ""]]
    rows += [["Grand Totals", "", "", "5000"], ["Record Count", "11", "", ""]]
    path = _sheet(tmp_path, rows, "Leads report.xlsx")

    export = read_export(path)

    assert export.frame["Company"].tolist() == ["Acme", "Beta", "Gamma", "Delta", "Eps", *["Zeta"] * 6]
    assert export.frame["Lead Status"].tolist() == ["Closed - Converted"] * 5 + ["Open"] * 6
    assert any("row(s) inside the table total a group" in note for note in export.warnings)
    assert any("'Lead Status' is filled on each group's first row only" in note for note in export.warnings)


def test_a_lead_named_total_with_text_beside_it_stays_a_lead(tmp_path: Path) -> None:
    path = _write(tmp_path, b"Company,Industry,Employees\nTotal,Energy,500\nAcme,Retail,20\nBeta,IT,30\n")

    export = read_export(path)

    assert export.frame["Company"].tolist() == ["Total", "Acme", "Beta"]  # "Energy" is no number: no totals row


def test_a_sparse_first_column_of_a_sheet_kept_by_hand_is_not_carried_down(tmp_path: Path) -> None:
    # a "Won" column marked "x" on some rows, the first among them: no group (review H1: all 200 had become "x")
    rows: list[list[object]] = [["Won", "Company", "Industry"]]
    rows += [["x" if i % 7 == 0 else "", f"Company {i}", "Retail"] for i in range(200)]
    path = _sheet(tmp_path, rows, "leads.xlsx")

    export = read_export(path)

    assert int((export.frame["Won"].fillna("") == "x").sum()) == 29
    assert not any("carried down" in note for note in export.warnings)
