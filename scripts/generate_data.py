"""Generate ReelRec's synthetic source data: ``python scripts/generate_data.py [--scale ROWS]``."""

import sys
from pathlib import Path

# Runnable from a fresh checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_py.synth.generate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
