"""Allows ``python -m wallboard`` as an alias of the ``wallboard`` console script."""

from wallboard.cli import main

raise SystemExit(main())
