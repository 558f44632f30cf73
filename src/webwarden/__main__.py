"""`python -m webwarden`: the same as the `webwarden` command."""

import sys

from webwarden.cli import main

sys.exit(main())
