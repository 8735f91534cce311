"""Progress: the dbt bar counts finished nodes out of dbt's own total; bars stay out of logs."""

from __future__ import annotations

import io
from types import SimpleNamespace

from tqdm import tqdm

from models_py import progress
from models_py.warehouse.dbt_runner import _progress_callback


def event(name: str, **data: object) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))


def test_dbt_callback_counts_finished_nodes_of_the_announced_total() -> None:
    nodes = tqdm(total=None, file=io.StringIO(), disable=False)
    on_event = _progress_callback(nodes)
    on_event(event("LogStartLine", total=7, index=1))
    for _ in range(3):
        on_event(event("NodeFinished"))
    on_event(event("SQLQuery"))  # chatter does not count
    on_event(event("LogStartLine", total=7, index=4))
    assert (nodes.n, nodes.total) == (3, 7)


def test_bars_are_silent_when_not_on_a_terminal(capsys) -> None:
    with progress.bar("work", total=2) as b:
        b.update(2)
    progress.echo("a line")
    captured = capsys.readouterr()
    assert captured.err == ""  # no bar frames in logs or CI output
    assert captured.out == "a line\n"
