"""``python -m papy_engine.plugin [--json] [-v] ...``: the same as ``papy plugins``."""
import sys

from papy_engine.cli.plugins import main

if __name__ == "__main__":  # also importable (tests walk every module)
    sys.exit(main(sys.argv[1:]))
