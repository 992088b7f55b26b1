"""Weather files as they arrive from elsewhere (:mod:`geo.pv.weather`): the name they are known
by, their file type, and text encodings other than plain UTF-8."""

from __future__ import annotations

import pytest

from geo.errors import ValidationError
from geo.pv.weather import SUFFIXES, check_suffix, read_weather


@pytest.mark.parametrize("name", ["723170TYA.CSV", "x.epw", "miami.TM2", "pvgis.json", "a.b.csv"])
def test_the_file_types_read_are_taken(name):
    assert check_suffix(name) in SUFFIXES


@pytest.mark.parametrize(("name", "words"), [("weather.txt", "weather.txt: the file type '.txt'"),
                                             ("weather", "weather: a name without a file type"),
                                             ("dem.tif", "dem.tif: the file type '.tif'")])
def test_other_file_types_are_refused_naming_those_taken(name, words):
    with pytest.raises(ValidationError) as error:
        check_suffix(name)
    assert str(error.value).startswith(words)
    assert all(f"({ending})" in str(error.value) for ending in SUFFIXES)


def test_messages_and_the_source_use_the_name_given(tmy3_path, tmp_path):
    weather = read_weather(tmy3_path, name="格林斯伯勒.csv")
    assert weather.source == "格林斯伯勒.csv" and "格林斯伯勒.csv" in weather.label
    short = tmp_path / "copy.csv"
    short.write_bytes(b"".join(tmy3_path.read_bytes().splitlines(keepends=True)[:100]))
    with pytest.raises(ValidationError, match=r"^weather file upload\.csv holds 98 time steps") as error:
        read_weather(short, name="upload.csv")
    assert str(short) not in str(error.value)


def test_a_utf8_byte_order_mark_is_read_past(tmy3_path, pvgis_csv_path, tmp_path):
    for path in (tmy3_path, pvgis_csv_path):
        marked = tmp_path / path.name
        marked.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        plain, read = read_weather(path), read_weather(marked)
        assert read.format == plain.format and read.data.equals(plain.data)
        assert read.latitude == pytest.approx(plain.latitude)


def test_a_byte_order_mark_the_reader_refuses_is_named(pvgis_json_path, tmp_path):
    marked = tmp_path / "pvgis.json"
    marked.write_bytes(b"\xef\xbb\xbf" + pvgis_json_path.read_bytes())
    with pytest.raises(ValidationError, match="starts with a byte-order mark: save it as UTF-8 without BOM"):
        read_weather(marked)


def test_text_in_other_encodings_is_refused_saying_which(tmy3_path, tmp_path):
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(b"".join(tmy3_path.read_bytes().splitlines(keepends=True)[:50]).decode("ascii").encode("utf-16"))
    with pytest.raises(ValidationError, match=r"utf16\.csv is UTF-16 text; save it as UTF-8"):
        read_weather(utf16)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(tmy3_path.read_bytes().replace(b'"GREENSBORO PIEDMONT TRIAD INT"', "格林斯伯勒".encode("gbk")))
    with pytest.raises(ValidationError, match=r"gbk\.csv is not UTF-8 text \(byte 0x[0-9a-f]{2} cannot be decoded\)"):
        read_weather(gbk)


def test_a_missing_field_of_the_layout_is_named(tmp_path):
    broken = tmp_path / "station.epw"
    broken.write_text("LOCATION,Shapotou\nnot the rest of an EPW file\n")
    with pytest.raises(ValidationError, match=r"could not be read as epw \(no '\w+' field where the layout has one\)"):
        read_weather(broken)
