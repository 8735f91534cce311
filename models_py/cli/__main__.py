"""`python -m models_py.cli`: the `reelrec` command without the installed script."""

from models_py.cli.commands import main

raise SystemExit(main())
