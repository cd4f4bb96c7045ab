"""``python -m sloprobe.cli …``: the ``sloprobe`` command, where no script is installed."""

from sloprobe.cli import main

raise SystemExit(main())
