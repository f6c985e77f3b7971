"""Reading a Genfile: the contract's examples, TOML syntax, column order, line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import load_genfile, loads_genfile
from datastorm_core.genfile.parse import parse_text

# The contract's examples, copied as they are from ../shared/genfile-contract.md.
CONTRACT_ORIGINAL_DESIGN = """\
[dataset]
records = 100000
buffer_size = 5000

[user.id]
type = "sequence"

[user.name]
type = "name"

[user.email]
type = "email"
"""

CONTRACT_SHAPE = """\
[dataset]                 # reserved: options for the whole run
seed = 42                 # default 0; the same seed gives the same data, always
records = 100000          # default row count for tables that set none
buffer_size = 5000        # rows the buffer may hold (backpressure); default: chosen from free memory
batch_size = 10000        # rows per write to the target; default chosen by the target
locale = "pt_BR"          # default locale of dictionaries (names, cities, ...)

[target]                  # reserved: where rows go (overridable on the command line)
type = "postgres"         # postgres | sqlite | csv | jsonl | ... ; default: sqlite file ./datastorm.db
url = "${DATABASE_URL}"   # ${VAR} is read from the environment; a secret never has to be in the file
mode = "replace"          # replace (default): the tables end up holding exactly the generated rows
                          # append: add rows; a rerun of the same partition must not duplicate them

[customer]                # a table: scalar keys are table options
records = 2000

[customer.id]             # a field: a sub-table with a `type`
type = "sequence"

[customer.cpf]
type = "cpf"
unique = true

[customer.name]
type = "name"

[customer.email]
type = "email"
from = "name"             # derived from another field of the same row

[account.id]
type = "sequence"

[account.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [1, 3]       # every customer gets 1 to 3 accounts; account's row count follows
"""  # noqa: E501 (copied as the contract writes it)

SHAPE_ENV = {"DATABASE_URL": "postgresql://datastorm@localhost:5432/bank"}


def test_original_design_example_loads_as_it_is() -> None:
    genfile = loads_genfile(CONTRACT_ORIGINAL_DESIGN, environ={})
    assert genfile.table_names == ("user",)
    user = genfile.table("user")
    assert user.field_names == ("id", "name", "email")
    assert [f.type for f in user.fields] == ["sequence", "name", "email"]
    assert user.records == 100000  # from [dataset] records
    assert user.primary_key == ("id",)
    assert genfile.dataset.buffer_size == 5000
    assert genfile.dataset.seed == 0  # the contract's default


def test_contract_shape_example_loads_as_it_is() -> None:
    genfile = loads_genfile(CONTRACT_SHAPE, environ=SHAPE_ENV)
    assert genfile.dataset.seed == 42
    assert genfile.dataset.locale == "pt_BR"
    assert genfile.dataset.batch_size == 10000
    assert genfile.target.type == "postgres"
    assert genfile.target.url == SHAPE_ENV["DATABASE_URL"]
    assert genfile.table("customer").records == 2000
    # per_parent = [1, 3] over 2000 customers: the row count follows from it.
    assert 2000 <= genfile.table("account").records <= 6000
    assert genfile.table("account").field("customer_id").ref == ("customer", "id")


def test_columns_come_in_file_order_whatever_the_toml_form() -> None:
    genfile = loads_genfile("""
[t]
records = 5
zeta = { type = "int" }
alpha.type = "bool"
description = "options may sit between fields"

[t.mid]
type = "uuid"

[t.beta]
type = "sequence"

[u.b]
type = "sequence"

[u.a]
type = "int"

[t.last]
type = "int"
""", environ={})
    assert genfile.table_names == ("t", "u")
    assert genfile.table("t").field_names == ("zeta", "alpha", "mid", "beta", "last")
    assert genfile.table("u").field_names == ("b", "a")
    assert genfile.table("t").options["description"] == "options may sit between fields"


def test_scalar_keys_are_table_options_and_tables_are_fields() -> None:
    genfile = loads_genfile('[t]\nrecords = 7\n[t.id]\ntype = "sequence"\n', environ={})
    table = genfile.table("t")
    assert table.records == 7
    assert table.field_names == ("id",)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[t.id]\ntype = "sequence"\n\nbroken =\n', 4),
        ('[t.id]\ntype = "sequence"\ntype = "int"\n', 3),  # a key written twice
        ('[dataset]\nseed = 1\n[t.id\ntype = "sequence"\n', 3),
        ('[t.id]\ntype = "sequence\n', 2),
    ],
)
def test_malformed_toml_reports_its_line(text: str, line: int) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    (problem,) = caught.value.problems
    assert problem.line == line
    assert problem.message.startswith("malformed TOML")
    assert "(at line" not in problem.message  # the position is in `line`, not repeated
    assert f"line {line}: malformed TOML" in str(caught.value)


def test_a_syntax_error_is_reported_alone_before_any_meaning() -> None:
    # Meaning errors (unknown type) are not looked for once the syntax is broken.
    with pytest.raises(GenfileError) as caught:
        loads_genfile('[t.id]\ntype = "nope"\n[t.x]\ntype = = "int"\n', environ={})
    assert len(caught.value.problems) == 1


def test_load_genfile_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "Genfile.toml"
    path.write_text('[t.id]\ntype = "sequence"\n[t.x]\ntype = "nope"\n', encoding="utf-8")
    with pytest.raises(GenfileError) as caught:
        load_genfile(path, environ={})
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: 1 error in the Genfile")

    path.write_text('[t.id]\ntype = "sequence"\n', encoding="utf-8")
    assert load_genfile(path, environ={}).path == str(path)


def test_missing_file_is_a_genfile_error(tmp_path: Path) -> None:
    with pytest.raises(GenfileError) as caught:
        load_genfile(tmp_path / "absent.toml", environ={})
    assert "no such file" in caught.value.problems[0].message


def test_header_lines_locate_fields_and_tables() -> None:
    raw = parse_text('# comment\n[dataset]\nseed = 1\n\n[ t . "id" ]  # spaced\ntype = "x"\n'
                     '[t]\nrecords = 1\n')
    assert raw.line_of("dataset") == 2
    assert raw.line_of("t", "id") == 5
    assert raw.line_of("t") == 7
    assert raw.line_of("t", "absent") == 7  # falls back to the table's header
    assert raw.line_of("nowhere") is None


def test_problem_lines_point_at_the_field_header() -> None:
    text = '[t.id]\ntype = "sequence"\n\n[t.bad]\ntype = "int"\nmin = 5\nmax = 1\n'
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    (problem,) = caught.value.problems
    assert (problem.table, problem.field, problem.line) == ("t", "bad", 4)
