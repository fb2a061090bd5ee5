"""Reading what the device's command line is given (edge/runtime/records.py): a bundle's config,
and inputs as (id, input) records in each format, with bad input refused in one InputError."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge.runtime.records import (InputError, check_threads, load_config, manifest_problem, parse_inputs, parse_records, read_input,
                                  reading_bundle)


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
    (b"id,text,text_pair,text\n1,a,b,c\n", "csv", True, "the CSV header names text more than once"),
    (b"foo,bar,baz\n1,2,3\n", "csv", True, "no text,text_pair columns in the header (foo, bar, baz); name them so, or give only 2 columns"),
])
def test_bad_input_is_one_input_error(data, fmt, pairs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_records(data, fmt, pairs)


def test_too_few_columns_names_the_bundles_own():
    with pytest.raises(InputError, match=r"needs 2 column\(s\) besides id \(original_text,rewritten_text\), the "
                                         r"header has id, original_text$"):
        parse_records(b"id,original_text\n1,a\n", "csv", True, ("original_text", "rewritten_text"))


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


@pytest.mark.parametrize("text, said", [("{bad", "cannot read"), ("[1, 2]", "holds a JSON list, not a bundle's config"),
                                        ("\udcff", "cannot read")])
def test_a_config_that_is_not_a_json_object_is_one_input_error(tmp_path, text, said):
    (tmp_path / "config.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match=said):
        load_config(tmp_path)


def test_loading_a_damaged_bundle_is_one_input_error_naming_the_folder(tmp_path):
    import onnxruntime

    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(InputError, match=rf"^{tmp_path} holds a damaged or incomplete bundle \(InvalidArgument: .*"
                                         r"No graph was found in the protobuf.\): deploy it again$"):
        with reading_bundle(tmp_path):
            onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    with pytest.raises(InputError, match=r"\(KeyError: 'labels'\)"):
        with reading_bundle(tmp_path):
            {}["labels"]
    with pytest.raises(InputError, match="^its own words$"):    # the runtime's own refusals pass as they are
        with reading_bundle(tmp_path):
            raise InputError("its own words")


def test_thread_counts_past_four_a_core_are_refused(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    check_threads([1, 8])
    with pytest.raises(InputError, match=r"^--bench-threads 9 is more than this machine's 2 cores can use "
                                         r"\(at most 8, 4 a core\)$"):
        check_threads([1, 9], "--bench-threads")


def run_main_program(body: str) -> str:
    """A `python -c` program that loads records.py by path, as the device does, and runs
    `def main():` + body (indented lines) through records.run_main."""
    records = Path(__file__).resolve().parents[3] / "edge" / "runtime" / "records.py"
    return (f"import importlib.util, sys\nspec = importlib.util.spec_from_file_location('records', {str(records)!r})\n"
            "records = importlib.util.module_from_spec(spec); spec.loader.exec_module(records)\n"
            f"def main():\n{body}sys.exit(records.run_main(main))\n")


def test_a_reader_that_stops_early_ends_the_program_quietly_with_141(tmp_path):
    import subprocess
    import sys

    program = run_main_program("    for _ in range(100000):\n        print('x' * 100)\n    return 0\n")
    reader = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout.readline() == b"x" * 100 + b"\n"
    reader.stdout.close()                          # as `| head -1` does: 10 MB do not fit a pipe's buffer
    assert reader.wait(timeout=60) == 141 and reader.stderr.read() == b""


def test_an_answer_an_ascii_terminal_cannot_show_is_escaped_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    program = run_main_program("    print('caf\\u00e9 \\u2248 2')\n    return 0\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert (done.returncode, done.stdout, done.stderr) == (0, b"caf\\xe9 \\u2248 2\n", b"")


def test_the_manifest_names_missing_files_before_changed_ones(tmp_path):
    from edge.bundle import write_manifest

    assert manifest_problem(tmp_path) is None                              # no manifest: nothing to say
    for name in ("a.onnx", "b.json", "c.txt", "d.txt", "e.txt"):
        (tmp_path / name).write_text(name)
    write_manifest(tmp_path)
    assert manifest_problem(tmp_path) is None
    (tmp_path / "a.onnx").write_text("a.onnx, cut")
    assert manifest_problem(tmp_path) == ("a.onnx is not the file deployed: truncated or changed, its sha256 is "
                                          "not the one in MANIFEST.sha256")
    for name in ("b.json", "c.txt", "d.txt"):
        (tmp_path / name).write_text("changed")
    assert manifest_problem(tmp_path).startswith("a.onnx, b.json, c.txt and 1 more are not the files deployed: "
                                                 "truncated or changed, their sha256s are not the ones in")
    (tmp_path / "c.txt").unlink()
    (tmp_path / "e.txt").unlink()
    assert manifest_problem(tmp_path) == "c.txt, e.txt are missing"
    (tmp_path / "MANIFEST.sha256").write_text("00  ../../etc/hostname\n")
    assert manifest_problem(tmp_path) == "its MANIFEST.sha256 is damaged: it names '../../etc/hostname', outside the folder"
    (tmp_path / "MANIFEST.sha256").write_bytes(b"\xff\xfe")
    assert manifest_problem(tmp_path) is None                              # an unreadable manifest: the loader's words


def test_a_deployed_bundle_that_lost_its_config_says_so(tmp_path):
    from edge.bundle import write_manifest

    with pytest.raises(InputError, match="^no config.json in .*: not a bundle folder$"):
        load_config(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    write_manifest(tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(InputError, match=r"holds a damaged or incomplete bundle \(config.json is missing\): deploy it again$"):
        load_config(tmp_path)
