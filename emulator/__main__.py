"""`python -m emulator` is the same program as the `dms-emulator` console script."""

from emulator.cli.main import main

raise SystemExit(main())
