"""``hybridmem search/list`` with filters, paging and graph options; ``hybridmem neighbors``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, app

runner = CliRunner()


def _json(config: Path, *args: str) -> object:
    result = runner.invoke(app, [*args, "--json", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    return json.loads(result.stdout)


def test_filters_paging_graph_and_neighbors(config: Path) -> None:
    with HybridStore.from_config(config) as store:
        lisbon = store.add(
            "Alice lives in Lisbon",
            user_id="cli-graph",
            metadata={"topic": "home"},
            relations=[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}],
        )
        kyoto = store.add(
            "Alice visits Kyoto",
            user_id="cli-graph",
            metadata={"topic": "travel"},
            relations=[{"source": "Alice", "target": "Kyoto", "type": "visits"}],
        )
    travel = _json(config, "list", "--user-id", "cli-graph", "--filters", '{"topic": "travel"}')
    assert [m["id"] for m in travel] == [kyoto.id]  # type: ignore[union-attr,index]
    second = _json(config, "list", "--user-id", "cli-graph", "--limit", "1", "--offset", "1")
    assert [m["id"] for m in second] == [lisbon.id]  # type: ignore[union-attr,index]
    mentioning = _json(config, "list", "--user-id", "cli-graph", "--entity", "kyoto")
    assert [m["id"] for m in mentioning] == [kyoto.id]  # type: ignore[union-attr,index]
    hits = _json(
        config,
        "search",
        "Lisbon",
        "--user-id",
        "cli-graph",
        "--graph",
        "-n",
        "1",
        "--filters",
        '{"topic": {"$ne": "travel"}}',
    )
    assert isinstance(hits, list) and hits[0]["memory"]["id"] == lisbon.id
    assert {r["type"] for r in hits[0]["relations"]} == {"lives_in", "visits"}
    near = _json(config, "neighbors", "Alice", "--user-id", "cli-graph")
    assert isinstance(near, dict)
    assert sorted(e["name"] for e in near["entities"]) == ["Alice", "Kyoto", "Lisbon"]
    table = runner.invoke(app, ["neighbors", "Alice", "-u", "cli-graph", "--config", str(config)])
    assert table.exit_code == EXIT_OK and "lives_in" in table.stdout
