"""``python -m papy_engine.cli ...``: the same as the ``papy`` console script."""
import sys

from papy_engine.cli import main

if __name__ == "__main__":  # also importable (tests walk every module)
    sys.exit(main())
