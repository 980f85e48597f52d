"""Build the editions in content/ into dist/: ``python build.py --help``."""

import sys
from pathlib import Path

from edition.cli import main

if __name__ == "__main__":
    sys.exit(main(project=Path(__file__).resolve().parent))
