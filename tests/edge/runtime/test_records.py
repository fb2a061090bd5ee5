"""Reading what the device's command line is given (edge/runtime/records.py): a bundle's config,
and inputs as (id, input) records in each format, with bad input refused in one InputError."""
from __future__ import annotations

import pytest

from edge.runtime.records import InputError, load_config, parse_inputs, parse_records, read_input


def test_lines_are_one_input_each_and_pairs_split_at_the_first_tab():
    assert parse_records(b"first essay\nsecond\tessay\n") == [(0, "first essay"), (1, "second\tessay")]
    assert parse_inputs(b"q one\ta one\tstill a\nq two\ta two\n", pairs=True) == [
        ("q one", "a one\tstill a"), ("q two", "a two")]


def test_lines_split_at_newlines_only_never_at_unicode_separators():
    nel, ls = "\u0085", "\u2028"          # str.splitlines would split at both
    data = f"Topic with {nel}inside\r\nSecond {ls}topic\n".encode()
    assert parse_records(data) == [(0, f"Topic with {nel}inside"), (1, f"Second {ls}topic")]
    line = f'{{"id": "x", "topic": "one{ls}two"}}\n'.encode()         # valid JSON written with ensure_ascii=False
    assert parse_records(line, "jsonl", columns=("topic",)) == [("x", f"one{ls}two")]
    assert parse_records(b"id,text\n7,hello\n\n\n", "csv") == [("7", "hello")]     # an editor's blank lines at the end


def test_jsonl_keeps_ids_and_reads_the_bundles_own_keys_first():
    data = b'{"id": "e7", "topic": "cats", "text": "ignored"}\n"plain string"\n'
    assert parse_records(data, "jsonl", columns=("topic",)) == [("e7", "cats"), (1, "plain string")]
    assert parse_records(b'["q", "a"]\n', "jsonl", pairs=True) == [(0, ("q", "a"))]


def test_csv_reads_kaggle_columns_with_ids_and_quoted_newlines():
    data = b'id,Question,Response,extra\n5,"Why?","Because\nof this",x\n6,How?,So,y\n'
    assert parse_records(data, "csv", pairs=True) == [("5", ("Why?", "Because\nof this")), ("6", ("How?", "So"))]
    # no known column: the only one besides id (ids by row without an id column), never the id itself
    assert parse_records(b"body\nhello\n", "csv") == [(0, "hello")]
    assert parse_records(b"id,a,b\n4,x,y\n", "csv", pairs=True) == [("4", ("x", "y"))]
    assert parse_records(b"ID,prompt\n4,a\n", "csv") == [("4", "a")]


def test_a_byte_order_mark_is_dropped_so_the_id_column_keeps_its_name():
    bom = "\ufeff".encode()
    assert parse_records(bom + b"id,text\n7,hello\n", "csv") == [("7", "hello")]    # not (0, "hello")
    assert parse_records(bom + b"first\nsecond\n") == [(0, "first"), (1, "second")]


@pytest.mark.parametrize("data, fmt, pairs, message", [
    (b"", "lines", False, "input is empty"),
    (b"one\n\nthree\n", "lines", False, "line 2 is blank"),
    (b"\xff\xfe bad", "lines", False, "not valid UTF-8"),
    (b"no tab here\n", "lines", True, "line 1 holds no text pair"),
    (b"{not json\n", "jsonl", False, "line 1 is not valid JSON"),
    (b'{"text": ""}\n', "jsonl", False, "line 1 holds no text"),
    (b"text\n", "csv", False, "needs a header line and at least one row"),
    (b"text,text_pair\na,b,c\n", "csv", True, "CSV line 2 has 3 fields"),
    (b"text\nonly one\n", "csv", True, "needs 2 column(s)"),
    (b"id\n0\n1\n", "csv", False, "needs 1 column.s. besides id"),
    (b"id,body\n0,x\n", "csv", True, "needs 2 column.s. besides id"),
    # more unknown columns than inputs: which is the text? refused, never the first one guessed
    (b"body,other\nhello,1\n", "csv", False, "no text column in the header (body, other); name it so"),
    (b"id,original_text,rewritten_text\n4,a,b\n", "csv", False, "give only 1 column besides id"),
    (b"foo,bar,baz\n1,2,3\n", "csv", True, "no text,text_pair columns in the header (foo, bar, baz); name them so, or give only 2 columns"),
])
def test_bad_input_is_one_input_error(data, fmt, pairs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_records(data, fmt, pairs)


def test_a_file_over_the_cap_is_refused_before_reading_and_a_missing_one_named(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    with pytest.raises(InputError, match="100 bytes, over the --max-bytes cap of 10"):
        read_input(str(big), 10)
    assert read_input(str(big), 100) == b"x" * 100
    with pytest.raises(InputError, match="cannot read input file: .*nope.txt \\(No such file or directory\\)"):
        read_input(str(tmp_path / "nope.txt"), 10)
    with pytest.raises(InputError, match="cannot read input file: .* \\(Is a directory\\)"):
        read_input(str(tmp_path), 1 << 20)


def test_a_closed_stdin_is_one_input_error(monkeypatch):
    monkeypatch.setattr("sys.stdin", None)        # what python gives a program started with <&-
    with pytest.raises(InputError, match="stdin is closed: give the inputs on stdin or with --file"):
        read_input(None, 10)


def test_a_folder_without_config_is_not_a_bundle(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        load_config(tmp_path)
    (tmp_path / "config.json").write_text('{"labels": ["a", "b"]}', encoding="utf-8")
    assert load_config(tmp_path) == {"labels": ["a", "b"]}


def test_csv_rows_read_as_the_host_reads_them_and_errors_name_the_file_line():
    text = 'id,text\r\n7,"two\r\nlines"\r\n\r\n,\r\n9,three\r\n'
    assert parse_records(text.encode(), "csv") == [("7", "two\nlines"), ("9", "three")]   # blank rows skipped
    with pytest.raises(InputError, match="CSV line 5 has 3 fields, the header has 2"):
        parse_records(b'id,text\n7,"an essay\nof two lines"\n\n8,a,b\n', "csv")
    with pytest.raises(InputError, match="CSV line 4: text is empty"):
        parse_records(b'id,text\n7,"one\nmore"\n8, \n', "csv")
    with pytest.raises(InputError, match="CSV line 2: Response is empty"):
        parse_records(b"id,Question,Response\n1,Why?,\n", "csv", pairs=True)


def test_an_unclosed_quote_or_a_huge_field_is_read_as_the_host_reads_it():
    merged = b'id,text\n1,"first essay\n2,second essay\n3,third essay\n'
    with pytest.raises(InputError, match="CSV line 2: a quote that opens a field here is never closed"):
        parse_records(merged, "csv")                     # the lenient reader made one input of all three
    essay = "word " * 40_000                              # 200 kB: over csv's own 128 kB field limit
    assert parse_records(f'id,text\n1,"{essay}"\n'.encode(), "csv") == [("1", essay)]
