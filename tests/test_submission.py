"""The submission contract: writer, validator (every problem kind), scorer and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.cli import main
from fercourse.labels import EMOTIONS
from fercourse.submission import (
    MAX_BYTES,
    AnswerKey,
    SubmissionError,
    check_submission_bytes,
    read_ids,
    score_predictions,
    score_submission,
    validate_submission,
    write_submission,
)

IDS = ["a1", "b2", "c3", "d4"]


@pytest.fixture()
def test_csv(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("id,pixels\n" + "".join(f"{i},{' '.join(['0'] * 4)}\n" for i in IDS))
    return path


@pytest.fixture()
def key_csv(tmp_path):
    path = tmp_path / "answer_key.csv"
    path.write_text("id,emotion\na1,3\nb2,6\nc3,0\nd4,3\n")
    return path


def check(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return check_submission_bytes(data, IDS, "s.csv").problems


def test_write_then_validate_round_trip(tmp_path, test_csv):
    path = write_submission(tmp_path / "submission.csv", np.array(IDS), [3, "neutral", np.int64(0), "Happy"])
    assert path.read_text() == "id,emotion\na1,3\nb2,6\nc3,0\nd4,3\n"
    assert validate_submission(path, test_csv) == []


def test_write_submission_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="got 2 ids and 1 labels"):
        write_submission(tmp_path / "s.csv", ["a", "b"], [1])
    with pytest.raises(ValueError, match="ids repeat"):
        write_submission(tmp_path / "s.csv", ["a", "a"], [1, 2])
    with pytest.raises(ValueError, match="out of range"):
        write_submission(tmp_path / "s.csv", ["a"], [7])
    with pytest.raises(ValueError, match=r"position 0 \('a,b'\)"):
        write_submission(tmp_path / "s.csv", ["a,b"], [1])


def test_valid_variants_are_tolerated():
    # any row order, CRLF, spaces around values, blank lines, quoted values
    assert check("id,emotion\r\nd4, 3\r\n\r\n a1 ,3\nb2,6\n\"c3\",\"0\"\n\n") == []


def test_every_problem_kind_is_listed_at_once():
    text = "id,emotion\na1,happy\na1,3\nb2,7\nc3,nan\nzz,1\nyy,2,5\n,4\n"
    problems = check(text)
    assert problems == [
        "s.csv: 1 row with a class name instead of its integer label (class names are not accepted) "
        "(line 2: 'happy': write 3)",
        "s.csv: 1 row repeating an id (line 3: 'a1' first on line 2)",
        "s.csv: 1 row with a label outside 0-6 (line 4: '7')",
        "s.csv: 1 row with a label that is not an integer 0-6 (line 5: 'nan')",
        "s.csv: 1 row with 3 values instead of 2 (line 7)",
        "s.csv: 1 row with an empty id (line 8)",
        "s.csv: 1 test id is missing (d4)",
        "s.csv: 1 id is not in the test set (zz)",
    ]


def test_many_bad_rows_give_one_bounded_message():
    text = "id,emotion\n" + "".join(f"x{i},3.0\n" for i in range(1000))
    problems = check(text)
    assert problems[0].startswith("s.csv: 1000 rows with a label that is not an integer 0-6 (line 2: '3.0'; ")
    assert problems[0].endswith("and 995 more)")
    assert problems[1] == "s.csv: 4 test ids are missing (a1, b2, c3, d4)"
    assert problems[2].startswith("s.csv: 1000 ids are not in the test set (x0, x1, x2, x3, x4 and 995 more)")


@pytest.mark.parametrize("text, expected", [
    ("", "s.csv: the file is empty: expected the header 'id,emotion' and one row per test id"),
    ("\n\n  \n", "s.csv: the file is empty: expected the header 'id,emotion' and one row per test id"),
    ("id,emotion\n", "s.csv: the file has a header but no rows: expected one row per test id"),
    ("id;emotion\na1;3\n", "s.csv, line 1: values are separated by semicolons: expected commas "
                           "(header 'id,emotion'; in pandas to_csv(path, index=False))"),
    ("id\temotion\na1\t3\n", "s.csv, line 1: values are separated by tabs: expected commas "
                             "(header 'id,emotion'; in pandas to_csv(path, index=False))"),
    ("ID,Emotion\na1,3\nb2,6\nc3,0\nd4,3\n",
     "s.csv, line 1: header is 'ID,Emotion': expected exactly 'id,emotion'"),
    ("image,label\na1,3\n", "s.csv, line 1: header is 'image,label': expected exactly 'id,emotion'"),
    ("a1,3\nb2,6\nc3,0\nd4,3\n", "s.csv, line 1: no header: expected the first line to be 'id,emotion'"),
])
def test_file_level_problems(text, expected):
    assert check(text)[0] == expected


def test_missing_header_still_checks_rows():
    assert check("a1,3\nb2,6\nc3,0\nd4,3\n") == [
        "s.csv, line 1: no header: expected the first line to be 'id,emotion'"]


def test_pandas_index_column_and_extra_columns():
    problems = check(",id,emotion\n0,a1,3\n1,b2,6\n2,c3,0\n3,d4,3\n")
    assert problems == ["s.csv, line 1: header ',id,emotion' has an extra index column: expected exactly "
                        "'id,emotion' (in pandas write with index=False)"]
    problems = check("id,emotion,confidence\na1,3,0.9\nb2,6,0.1\nc3,0,1\nd4,3,1\n")
    assert problems == ["s.csv, line 1: header is 'id,emotion,confidence': expected exactly 'id,emotion'"]


def test_bom_and_encodings():
    assert check(b"\xef\xbb\xbfid,emotion\na1,3\nb2,6\nc3,0\nd4,3\n") == [
        "s.csv: the file starts with a byte-order mark (BOM): expected plain UTF-8 without one "
        "(in pandas drop encoding='utf-8-sig'; in Excel save as 'CSV', not 'CSV UTF-8')"]
    utf16 = "id,emotion\na1,3\n".encode("utf-16")
    assert check(utf16) == ["s.csv: the file is UTF-16 text: expected UTF-8 or plain ASCII (in pandas: "
                            "to_csv(path, index=False))"]
    problems = check(b"id,emotion\na1,3\nb2,6\nc3,0\nd4,\xff\n")
    assert problems[0] == "s.csv: byte 29 is not valid UTF-8: expected plain text with ASCII ids and digits"
    assert problems[1].startswith("s.csv: 1 row with a label that is not an integer 0-6 (line 5: '\ufffd')")


def test_binary_garbage_and_giant_field_do_not_crash():
    rng = np.random.default_rng(0)
    problems = check(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert problems and all(p.startswith("s.csv") for p in problems)
    problems = check("id,emotion\n" + "a1," + "9" * 200_000 + "\n")
    assert problems[0].startswith("s.csv, line 2: cannot be read as CSV (field larger than field limit")


def test_huge_file_is_not_read(tmp_path, test_csv):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"id,emotion\n")
        handle.seek(MAX_BYTES + 10)
        handle.write(b"\n")
    assert validate_submission(path, test_csv) == [
        f"{path}: the file is {(MAX_BYTES + 11) / 1e6:.1f} MB, over the 17 MB limit: "
        "a submission has one short line per test id (a FER2013 one is about 60 kB)"]


def test_missing_file_is_one_problem(tmp_path, test_csv):
    assert validate_submission(tmp_path / "nope.csv", test_csv) == [
        f"{tmp_path / 'nope.csv'}: no such file: "
        "expected the submission CSV (id,emotion) written by your notebook"]


def test_read_ids_accepts_test_csv_and_key(test_csv, key_csv, tmp_path):
    assert read_ids(test_csv) == IDS
    assert read_ids(key_csv) == IDS
    bad = tmp_path / "bad.csv"
    bad.write_text("pixels\n1 2 3\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 1: header starts with 'pixels'"):
        read_ids(bad)


def test_score_predictions_matches_sklearn():
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 7, 500), rng.integers(0, 6, 500)
    result = score_predictions(y_true, y_pred)
    assert result["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert result["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    recalls = recall_score(y_true, y_pred, average=None, labels=range(7))
    assert list(result["per_class_recall"].values()) == pytest.approx(list(recalls))


def test_score_predictions_is_evaluate_in_plain_types():
    from fercourse.evaluate import evaluate

    y_true, y_pred = np.array([0, 0, 3, 3, 6, 6, 6]), np.array([0, 3, 3, 3, 6, 6, 0])
    result, measured = score_predictions(y_true, y_pred), evaluate(y_true, y_pred, split="test")
    assert (result["n"], result["accuracy"], result["macro_f1"]) == (measured["n"], measured["accuracy"],
                                                                     measured["macro_f1"])
    assert result["accuracy"] == 5 / 7 and result["macro_f1"] == (0.5 + 0.8 + 0.8) / 3
    assert result["per_class_recall"] == {"angry": 0.5, "disgust": None, "fear": None, "happy": 1.0,
                                          "sad": None, "surprise": None, "neutral": 2 / 3}
    assert result["per_class_support"] == dict(zip(EMOTIONS, [2, 0, 0, 2, 0, 0, 3]))
    assert all(type(value) is float for value in result["per_class_recall"].values() if value is not None)
    with pytest.raises(ValueError, match=r"y_pred\[1\] is 7: expected a label 0-6"):
        score_predictions(np.array([0, 1]), np.array([0, 7]))


def test_score_submission(tmp_path, key_csv):
    path = tmp_path / "s.csv"
    path.write_text("id,emotion\nd4,3\nc3,0\nb2,3\na1,3\n")
    result = score_submission(path, key_csv)
    assert result["accuracy"] == 0.75
    assert result["per_class_recall"] == {"angry": 1.0, "disgust": None, "fear": None, "happy": 1.0,
                                          "sad": None, "surprise": None, "neutral": 0.0}
    assert result["macro_f1"] == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    path.write_text("id,emotion\na1,3\n")
    with pytest.raises(SubmissionError) as error:
        score_submission(path, key_csv)
    assert error.value.problems == [f"{path}: 3 test ids are missing (b2, c3, d4)"]


def test_answer_key_rejects_a_bad_key():
    with pytest.raises(ValueError, match="not a valid answer key"):
        AnswerKey.from_bytes(b"id,emotion\na,9\n", "k.csv")
    key = AnswerKey.from_bytes(b"id,emotion\na,1\n")
    assert key.ids == ("a",) and key.labels.tolist() == [1] and len(key.sha256) == 64


def test_cli_validate(tmp_path, test_csv, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("id,emotion\na1,3\nb2,6\nc3,0\nd4,3\n")
    bad.write_text("id,emotion\na1,sad\nb2,6\n")
    assert main(["submission", "validate", str(good), "--test", str(test_csv)]) == 0
    assert capsys.readouterr().out == f"{good}: valid\n"
    assert main(["submission", "validate", str(bad), "--test", str(test_csv)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{bad}: 2 problems:",
        f"- {bad}: 1 row with a class name instead of its integer label (class names are not accepted) "
        "(line 2: 'sad': write 4)",
        f"- {bad}: 2 test ids are missing (c3, d4)"]


def test_cli_score(tmp_path, key_csv, capsys):
    path = tmp_path / "s.csv"
    path.write_text("id,emotion\na1,3\nb2,6\nc3,0\nd4,4\n")
    assert main(["submission", "score", str(path), "--key", str(key_csv), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == 0.75 and result["per_class_recall"]["happy"] == 0.5
    assert main(["submission", "score", str(path), "--key", str(key_csv)]) == 0
    out = capsys.readouterr().out
    assert "accuracy:  0.7500" in out and "  happy     0.5000  (2 in the key)" in out
    path.write_text("id;emotion\n")
    assert main(["submission", "score", str(path), "--key", str(key_csv)]) == 1
    assert "values are separated by semicolons" in capsys.readouterr().err
