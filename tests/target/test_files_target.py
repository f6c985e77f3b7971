"""CSV and JSON Lines specifics: file names, partitions, append, all-or-nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from target_support import USER, CsvBackend, JsonlBackend, Table, expected, run, user_rows

from datastorm_core.errors import SourceError, TargetError
from datastorm_core.target import CsvTarget, JsonlTarget, open_target
from datastorm_core.target.files import file_name

USERS = user_rows(25)


@pytest.fixture(params=["csv", "jsonl"])
def files(request: pytest.FixtureRequest, tmp_path: Path) -> CsvBackend | JsonlBackend:
    cls = CsvBackend if request.param == "csv" else JsonlBackend
    return cls(str(tmp_path / "out"))


def test_file_names() -> None:
    assert file_name("user", "csv", 0, 1) == "user.csv"
    assert file_name("user", "csv", 3, 16) == "user.part-00003-of-00016.csv"


def test_partitions_write_their_own_files(files: CsvBackend | JsonlBackend) -> None:
    for index, rows, first in [(0, USERS[:12], 0), (1, USERS[12:], 12)]:
        run(files.open(partition=(index, 2)), [Table(USER, rows, first_row=first)])
    rerun = user_rows(13, seed=99, start=12)
    run(files.open(partition=(1, 2)), [Table(USER, rerun, first_row=12)])  # a retry

    assert sorted(os.listdir(files.directory)) == [
        f"user.part-00000-of-00002.{files.extension}",
        f"user.part-00001-of-00002.{files.extension}",
    ]
    assert files.read(USER, ".part-00000-of-00002") == expected(USER, USERS[:12], files)
    assert files.read(USER, ".part-00001-of-00002") == expected(USER, rerun, files)


def test_append_extends_the_file_without_a_second_header(files: CsvBackend | JsonlBackend
                                                         ) -> None:
    run(files.open(), [Table(USER, USERS[:10])])
    run(files.open(mode="append"), [Table(USER, USERS[10:], first_row=10)])

    assert files.read(USER) == expected(USER, USERS, files)


def test_append_to_a_file_of_other_columns_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "user.csv").write_text("id,something_else\n1,x\n", encoding="utf-8")
    with pytest.raises(TargetError, match="header"):
        run(open_target(f"csv:///{out}", mode="append"), [Table(USER, USERS)])

    assert (out / "user.csv").read_text(encoding="utf-8") == "id,something_else\n1,x\n"
    assert os.listdir(out) == ["user.csv"]


def test_a_failed_run_leaves_no_file_and_no_new_directory(files: CsvBackend | JsonlBackend
                                                          ) -> None:
    with pytest.raises(SourceError):
        run(files.open(), [Table(USER, USERS, fail_at=2)])

    assert not os.path.exists(files.directory)
    assert os.listdir(os.path.dirname(files.directory)) == []


def test_a_failed_append_keeps_the_old_file(files: CsvBackend | JsonlBackend) -> None:
    run(files.open(), [Table(USER, USERS[:10])])
    path = files.path("user")
    before = Path(path).read_bytes()

    with pytest.raises(SourceError):
        run(files.open(mode="append"), [Table(USER, USERS[10:], first_row=10, fail_at=1)])

    assert Path(path).read_bytes() == before
    assert os.listdir(files.directory) == [os.path.basename(path)]


def test_csv_keeps_null_and_empty_string_apart(tmp_path: Path) -> None:
    rows = [(1, "a@x", "", None, None, None, None, USERS[0][7], None),
            (2, "b@x", None, None, None, None, None, USERS[0][7], None)]
    run(open_target(f"csv:///{tmp_path}"), [Table(USER, rows)])

    lines = (tmp_path / "user.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].split(",")[:3] == ["1", "a@x", '""']
    assert lines[2].split(",")[:3] == ["2", "b@x", ""]


def test_jsonl_writes_decimals_as_strings_and_keys_in_order(tmp_path: Path) -> None:
    run(open_target(f"jsonl:///{tmp_path}"), [Table(USER, USERS[:5])])

    for line, row in zip((tmp_path / "user.jsonl").read_text(encoding="utf-8").splitlines(),
                         USERS[:5], strict=True):
        obj = json.loads(line)
        assert list(obj) == list(USER.column_names)
        assert obj["balance"] == (None if row[4] is None else str(row[4]))
        assert obj["created"] == row[7].isoformat()


def test_url_forms(tmp_path: Path) -> None:
    assert isinstance(open_target("csv:///out/dir"), CsvTarget)
    assert open_target("csv:///out/dir").directory == "out/dir"
    target = open_target(f"jsonl:///{tmp_path}")
    assert isinstance(target, JsonlTarget)
    assert target.directory == str(tmp_path)


def test_files_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        run(open_target(f"csv:///{tmp_path}"), [Table(USER, USERS[:2])])
    finally:
        os.umask(old)
    assert (tmp_path / "user.csv").stat().st_mode & 0o777 == 0o644
