"""The submission CSV: write it, validate it, score it against an answer key.

The contract
------------
A submission is a UTF-8 (or plain ASCII) text file with

- exactly one header line, ``id,emotion``;
- one row per test id (every id of ``test.csv``, each once, in any order);
- ``emotion`` an integer 0-6 in the canonical order of :data:`fercourse.labels.EMOTIONS`
  (0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral).

Decisions (the same parser validates and scores, so "valid" always means "scorable"):

- **Class names are rejected** (``happy`` instead of ``3``): one unambiguous format, and no
  chance of mixing the alphabetical folder order with the canonical order. The message
  names the integer to write. :func:`write_submission` accepts names and writes integers.
- **Spaces around values, CRLF line endings and blank lines are tolerated** (stripped or
  skipped), because they cannot change the meaning of a row.
- **A byte-order mark (BOM) is a problem**: ``to_csv(..., encoding="utf-8-sig")`` and Excel's
  "CSV UTF-8" add one, and many tools then read the first column as ``\\ufeffid``.
- ``3.0``, ``nan``, an empty label or any other non-integer is a problem, as is a label
  outside 0-6, a duplicate, missing or unknown id, a wrong or missing header (including the
  extra index column ``to_csv`` writes without ``index=False``), extra columns, another
  delimiter (``;``, tab, ``|``), an empty file, text that is not UTF-8, and a file over
  :data:`MAX_BYTES` (not read at all).

Every problem is reported, one message per kind with the first few line numbers, so the
list stays short even for a file with thousands of bad rows.
"""

from fercourse.errors import SubmissionError
from fercourse.submission.contract import (
    HEADER,
    MAX_BYTES,
    Checked,
    check_submission_bytes,
    read_bounded,
    read_ids,
    validate_submission,
    write_submission,
)
from fercourse.submission.score import (
    AnswerKey,
    format_score,
    score_checked,
    score_predictions,
    score_submission,
)

__all__ = ["HEADER", "MAX_BYTES", "AnswerKey", "Checked", "SubmissionError", "check_submission_bytes",
           "format_score", "read_bounded", "read_ids", "score_checked", "score_predictions",
           "score_submission", "validate_submission", "write_submission"]
