"""Where an internal error's traceback goes: beside the warehouse, else a new temporary file.

Never through a symlink: a link planted at `reelrec-error.log` is replaced by the log (one
rename), not written through, and the temporary fallback is created exclusively.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from models_py.errors import ReelRecError
from models_py.warehouse import paths

NAME = "reelrec-error.log"


def write_error_log(text: str, warehouse: Path | None) -> Path:
    """Write `text` to `reelrec-error.log` beside `warehouse` (symlinks resolved), or to a new
    file in the system's temporary folder when there is no warehouse folder to write in."""
    if warehouse is not None:
        folder = warehouse.resolve().parent
        if folder.is_dir():
            try:
                return paths.write_text_replacing(folder / NAME, text)
            except (OSError, ReelRecError):
                pass  # a read-only folder: fall back to a temporary file
    fd, name = tempfile.mkstemp(prefix="reelrec-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)
