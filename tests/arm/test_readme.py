"""The README's example Azure SDK program runs, unchanged, against ``python -m aso.sandbox.arm``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from aso.testing.arm import EmulatorProcess, read_env_file

README = Path(__file__).parents[2] / "core" / "src" / "aso" / "sandbox" / "arm" / "README.md"


def test_readme_example_program(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1
    (tmp_path / "example.py").write_text(blocks[0], encoding="utf-8")
    server = EmulatorProcess(tmp_path, retry_after=1)
    server.start()
    try:
        env = {**os.environ, **read_env_file(tmp_path / "sandbox.env")}
        done = subprocess.run(
            [sys.executable, str(tmp_path / "example.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("/resourceGroups/demo Succeeded")
    assert lines[1] == "https://demostore0001.blob.core.windows.net/"


def test_readme_lists_what_every_builtin_profile_covers() -> None:
    from aso.sandbox.arm.profiles import builtin_profiles

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## What each profile covers") : text.index("## Fidelity")]
    listed = {m.lower() for m in re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)}
    missing = sorted(p.type for p in builtin_profiles() if (p.type_name or p.type).lower() not in listed)
    assert not missing, f"the README's profile table lacks {missing}"
