"""``python -m cbct_osteo`` is the same as the ``cbct-osteo`` command."""

import sys

from cbct_osteo.cli import main

sys.exit(main())
