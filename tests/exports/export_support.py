"""The Genfile of the export tests: tables of several types, and exports reading them."""

from __future__ import annotations

# Customers of several types (numeric, date, bool, text with NULLs, commas and quotes in
# names), so that CSV quoting and the JSON/Parquet types are all exercised.
TABLES = """\
[dataset]
seed = 7
records = 300

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.state]
type = "choice"
values = ["SP", "RJ", "MG", "BA"]

[customer.balance]
type = "decimal"
min = -500
max = 90000
scale = 2

[customer.born]
type = "date"
start = "1950-01-01"
end = "2005-12-31"

[customer.active]
type = "bool"

[customer.note]
type = "text"
null_rate = 0.3

[account.id]
type = "sequence"

[account.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [1, 3]

[account.balance]
type = "decimal"
min = 0
max = 10000
scale = 2
"""

EXPORTS = """
[exports.by_state]
sql = \"\"\"
SELECT c.id, c.name, c.state, c.balance, c.born, c.active, c.note,
       'a "quoted", text' AS quoted, sum(a.balance) AS total
FROM customer c JOIN account a ON a.customer_id = c.id
WHERE c.state = :state AND c.name NOT LIKE '%:zz%'
GROUP BY c.id ORDER BY c.id
\"\"\"
format = "csv"

[exports.by_state.params]
state = "text"

[exports.by_state_jsonl]
sql = \"\"\"SELECT c.id, c.name, c.balance, c.born, c.active, c.note FROM customer c
WHERE c.state = :state AND c.id > :after AND c.note IS DISTINCT FROM '100% :nope'
ORDER BY c.id\"\"\"
format = "jsonl"

[exports.by_state_jsonl.params]
state = "text"
after = { type = "int", default = 0 }

[exports.by_state_parquet]
sql = \"\"\"SELECT c.id, c.name, c.balance, c.born, c.active, c.note FROM customer c
WHERE c.state = :state ORDER BY c.id\"\"\"
format = "parquet"

[exports.by_state_parquet.params]
state = "text"

[exports.by_name]
sql = "SELECT id, name FROM customer WHERE name = :name ORDER BY id"
format = "csv"

[exports.by_name.params]
name = "text"

[exports.by_name_jsonl]
sql = "SELECT id, name FROM customer WHERE name = :name ORDER BY id"
format = "jsonl"

[exports.by_name_jsonl.params]
name = "text"

[exports.slow]
sql = "SELECT pg_sleep(:seconds) AS slept, 1 AS one"
format = "csv"
deps = ["customer"]

[exports.slow.params]
seconds = "float"

[exports.fails_midway]
sql = "SELECT id, 100 / (id - 250) AS q FROM customer ORDER BY id"
format = "jsonl"
"""

GENFILE = TABLES + EXPORTS
# A customer whose name is SQL: an export asked for it by name must find it, as a value.
INJECTION = "x'); DROP TABLE customer; --"
