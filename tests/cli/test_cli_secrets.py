"""A password never appears in anything datastorm prints, whatever road it came by."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import SHOP, run_cli, write

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.secrets import scrub

SECRET = "Sup3rS3cret"

# URLs the old per-call-site redaction let through, each holding SECRET.
LEAKY_TARGETS = [
    f"POSTGRESQL://postgres:{SECRET}@127.0.0.1:1/nope",           # upper-case scheme
    f"postgresql://postgres:{SECRET}%zz@127.0.0.1:1/nope",        # bad percent-encoding
    f"postgresql://postgres:{SECRET}#x@127.0.0.1:1/nope",         # '#' in the password
    f"postgresql://postgres:{SECRET}?x@127.0.0.1:1/nope",         # '?'
    f"postgresql://postgres:{SECRET}/x@127.0.0.1:1/nope",         # '/'
    f"postgresql://postgres@127.0.0.1:1/nope?password={SECRET}",  # query parameter
    f"host=127.0.0.1 port=1 password={SECRET} dbname=nope",        # libpq key/value
    f"kafka://user:{SECRET}@127.0.0.1:1",                         # a broker's user info
]


@pytest.mark.parametrize("url", LEAKY_TARGETS)
@pytest.mark.parametrize("command", ["run", "plan", "validate"])
def test_no_command_prints_the_password_of_a_bad_or_unreachable_url(
        capsys: pytest.CaptureFixture[str], url: str, command: str) -> None:
    for debug in ([], ["--debug"]):
        result = run_cli(capsys, command, str(SHOP), "--target", url, *debug)
        assert SECRET not in result.both, (command, url, result.both)
        if command == "run":
            assert result.code in (1, 2), result.both


def test_target_for_without_a_name_does_not_echo_the_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", str(SHOP), "--target-for",
                     f"postgresql://u:{SECRET}@h/db")
    assert result.code == 2 and "--target-for takes NAME=URL" in result.err
    assert SECRET not in result.both


def test_import_of_a_bad_url_does_not_print_the_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "import", f"POSTGRESQL://u:{SECRET}@127.0.0.1:1/x", "--debug")
    assert result.code in (1, 2) and SECRET not in result.both


@pytest.mark.postgres
def test_a_working_url_with_a_password_is_never_printed(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The test server trusts every connection: the password is sent and ignored.
    url = pg_url.replace("postgres@", f"postgres:{SECRET}@", 1)
    assert SECRET in url
    for argv in (["run", str(SHOP), "--target", url],
                 ["plan", str(SHOP), "--target", url],
                 ["plan", str(SHOP), "--target", url, "--format", "json"],
                 ["validate", str(SHOP), "--target", url]):
        result = run_cli(capsys, *argv)
        assert result.code == 0, result.both
        assert SECRET not in result.both, argv
    broken = write(tmp_path, SHOP.read_text(encoding="utf-8").replace(
        'type = "sequence"', 'type = "sequence"\nstart = 9223372036854775000', 1))
    result = run_cli(capsys, "run", broken, "--target", url, "--debug")
    assert SECRET not in result.both


def test_errors_scrub_their_own_messages() -> None:
    assert SECRET not in str(TargetError(f"cannot reach postgresql://u:{SECRET}@h/db"))
    assert SECRET not in str(UsageError(f"bad: host=h password='{SECRET} x'"))
    assert scrub("sqlite:///data/a:b@c.db") == "sqlite:///data/a:b@c.db"  # a path, kept
    assert scrub("postgresql://app@db:5432/shop") == "postgresql://app@db:5432/shop"
