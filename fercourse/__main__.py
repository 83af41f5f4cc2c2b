"""Allow ``python -m fercourse``."""

from fercourse.cli import main

raise SystemExit(main())
