"""Makes the helper module beside this file (redis_helpers) importable by the test modules: pytest runs
with --import-mode=importlib, which puts no test directory on sys.path (tests/conftest.py does the
same for the test-only plugin)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
