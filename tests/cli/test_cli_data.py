"""``fercourse data``: each command's happy path and its failure messages, run as a user would."""

import csv
import json
import subprocess
import sys

import pytest

from fercourse.cli import main
from fercourse.data import load


def pixel_set(images):
    return {image.tobytes() for image in images}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fercourse", *args], capture_output=True, text=True,
                          timeout=300)


def test_help_lists_the_data_commands():
    result = run_cli("data", "--help")
    assert result.returncode == 0
    for command in ("info", "convert", "prepare", "sample"):
        assert command in result.stdout


def test_info_json_on_the_sample(capsys):
    assert main(["data", "info", "sample", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["train"]["n"] == 10_000 and info["splits"]["test"]["n"] == 2_000
    assert set(info["splits"]["train"]["classes"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise",
                                                      "neutral"}
    assert info["splits"]["test"]["duplicates_in_train"] == 0


def test_sample_convert_and_info_table(tmp_path, capsys):
    assert main(["data", "sample", str(tmp_path / "course"), "--n-train", "35", "--n-test", "14"]) == 0
    assert main(["data", "convert", str(tmp_path / "course" / "train.csv"), str(tmp_path / "kaggle"),
                 "--format", "kaggle-csv"]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(tmp_path / "kaggle" / "fer2013.csv")]) == 0
    table = capsys.readouterr().out
    assert "disgust" in table and "total" in table and "35" in table and "14" in table


def test_prepare_prints_summary_and_writes_three_files(tmp_path, capsys):
    assert main(["data", "sample", str(tmp_path / "src"), "--format", "folders", "--n-train", "35",
                 "--n-test", "14"]) == 0
    assert main(["data", "prepare", str(tmp_path / "src"), "--out", str(tmp_path / "course")]) == 0
    out = capsys.readouterr().out
    assert "answer key sha256" in out and "never release" in out
    with open(tmp_path / "course" / "release" / "test.csv", newline="") as handle:
        assert next(csv.reader(handle)) == ["id", "pixels"]
    assert (tmp_path / "course" / "instructor" / "answer_key.csv").is_file()
    assert "public/private split:  " in out and "(7 public, 7 private test ids" in out
    assert (tmp_path / "course" / "instructor" / "answer_key.split.json").is_file()  # next to the key
    # The released test faces are the source's, unchanged (no disguise: the labels are public anyway).
    source = load(tmp_path / "src", cache=False).test.images
    released = load(tmp_path / "course" / "release" / "train.csv", cache=False).test.images
    assert pixel_set(released) == pixel_set(source)


def test_bad_pixel_row_exits_1_with_file_and_line(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("emotion,pixels,Usage\n0," + " ".join(["1"] * 2303) + ",Training\n")
    result = run_cli("data", "info", str(bad))
    assert result.returncode == 1
    assert "broken.csv, line 2: found 2303 pixels: expected 2304" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_source_exits_1(capsys):
    assert main(["data", "info", "/nonexistent/fer.csv"]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_unknown_format_is_rejected_by_argparse():
    result = run_cli("data", "convert", "sample", "/tmp/x", "--format", "parquet")
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.parametrize("args", [["data"], []])
def test_bare_commands_print_help(args, capsys):
    assert main(args) == 2
    assert "usage" in capsys.readouterr().out.lower()
