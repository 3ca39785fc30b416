"""`python -m emulator` is the same program as the `dms-emulator` console script."""

from emulator.cli import main

raise SystemExit(main())
