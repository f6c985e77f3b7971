"""Exports as Dagster assets: downstream of the tables their SQL reads, materialized by a
real Dagster run into the export directory, with rows, bytes, path and seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from export_support import GENFILE

from datastorm_dagster import build_definitions

pytestmark = pytest.mark.postgres


def everything(defs: dg.Definitions) -> list[Any]:
    return [*(defs.assets or []), *(defs.asset_checks or [])]


def failure_messages(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    messages = {}
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        text = data.error.to_string() if data.error else ""
        if data.user_failure_data is not None:
            text += f" {data.user_failure_data.description}"
        messages[str(event.step_key)] = text
    return messages


def metadata_value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def test_an_export_is_an_asset_downstream_of_the_tables_it_reads(
        tmp_path: Path, pg_url: str) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(GENFILE.replace("records = 300", "records = 40"), encoding="utf-8")
    exports = tmp_path / "reports"
    defs = build_definitions(genfile, target=pg_url, export_dir=str(exports))
    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["exports", "by_state"])
    assert set(graph.get(key).parent_keys) == {dg.AssetKey("customer"), dg.AssetKey("account")}
    # deps = [...] wins over the tables of the SQL (pg_sleep reads none).
    assert set(graph.get(dg.AssetKey(["exports", "slow"])).parent_keys) == {
        dg.AssetKey("customer")}

    selection = [dg.AssetKey("customer"), dg.AssetKey("account"), key,
                 dg.AssetKey(["exports", "by_state_jsonl"])]
    result = dg.materialize(
        everything(defs), instance=dg.DagsterInstance.ephemeral(), resources=defs.resources,
        selection=selection, raise_on_error=False,
        run_config={"ops": {"exports__by_state": {"config": {"params": {"state": "RJ"}}},
                            "exports__by_state_jsonl": {"config": {"params": {
                                "state": "SP"}}}}})
    assert result.success, failure_messages(result)
    # Tables first, then the exports of them.
    order = [e.asset_key for e in result.get_asset_materialization_events()]
    assert order.index(key) > order.index(dg.AssetKey("account"))

    event = result.asset_materializations_for_node("exports__by_state")[0]
    meta = {k: metadata_value(v) for k, v in event.metadata.items()}
    path = Path(meta["datastorm/path"])
    assert path == (exports / "by_state.csv").resolve()
    assert meta["datastorm/bytes"] == path.stat().st_size
    lines = path.read_text(encoding="utf-8").splitlines()
    assert meta["datastorm/rows"] == meta["dagster/row_count"] == len(lines) - 1 > 0
    assert all(",RJ," in line for line in lines[1:])
    assert meta["datastorm/seconds"] >= 0
    # The same file as `datastorm export` writes.
    from datastorm_core.cli import main

    cli_file = tmp_path / "cli.csv"
    assert main(["export", str(genfile), "by_state", "--param", "state=RJ", "--out",
                 str(cli_file), "--target", pg_url]) == 0
    assert cli_file.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in exports.iterdir()) == ["by_state.csv", "by_state_jsonl.jsonl"]


def test_an_export_without_its_parameter_fails_the_step_clearly(tmp_path: Path,
                                                                pg_url: str) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(GENFILE, encoding="utf-8")
    defs = build_definitions(genfile, target=pg_url, export_dir=str(tmp_path / "out"))
    result = dg.materialize(everything(defs), instance=dg.DagsterInstance.ephemeral(),
                            resources=defs.resources, raise_on_error=False,
                            selection=[dg.AssetKey(["exports", "by_state"])])
    assert not result.success
    assert "parameter 'state' (text) is required" in " ".join(failure_messages(result).values())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
