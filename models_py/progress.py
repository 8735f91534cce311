"""Progress for the long stages: a bar on a terminal, nothing in logs and CI."""

from __future__ import annotations

import sys

from tqdm import tqdm


def bar(desc: str, total: int | None = None, unit: str = "step") -> tqdm:
    """A transient bar on stderr; `disable=None` turns it off when stderr is not a terminal."""
    return tqdm(
        total=total,
        desc=f"  {desc}",
        unit=unit,
        leave=False,
        disable=None,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def echo(line: str) -> None:
    """print() that does not tear an active bar."""
    tqdm.write(line, file=sys.stdout)
