"""PyInstaller entry point: the bundled ``cbct-osteo`` executable is the ordinary command line."""

import multiprocessing
import sys

from cbct_osteo.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # batch mode starts worker processes from the frozen executable
    sys.exit(main())
