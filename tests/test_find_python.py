"""`make` finds a Python >= 3.12: on PATH first, then under pyenv; else it says what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "find-python"


def _fake_python(path: Path, version: str) -> None:
    major, minor = version.split(".")
    path.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = "-c" ] && exec "{sys.executable}" -c '
        f"'import sys; sys.exit(0 if ({major}, {minor}) >= (3, 12) else 1)'\n"
        f"echo Python {version}.0\n"
    )
    path.chmod(0o755)


def _run(
    tmp_path: Path, path_dirs: list[Path], pyenv_root: Path
) -> subprocess.CompletedProcess[str]:
    # Only the tools the script needs, so the machine's own Pythons stay out of sight.
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("ls", "sort"):
        link = tools / tool
        if not link.exists():
            link.symlink_to(shutil.which(tool) or f"/bin/{tool}")
    env = {
        "PATH": os.pathsep.join([str(d) for d in path_dirs] + [str(tools)]),
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(pyenv_root),
    }
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )


def test_a_new_enough_python_on_path_wins(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir / "python3.13", "3.13")
    result = _run(tmp_path, [bin_dir], tmp_path / "no-pyenv")
    assert result.returncode == 0
    assert result.stdout.strip() == str(bin_dir / "python3.13")


def test_too_old_or_refusing_shims_are_skipped_for_pyenv(tmp_path):
    shims = tmp_path / "shims"
    shims.mkdir()
    _fake_python(shims / "python3", "3.11")
    (shims / "python3.12").write_text(
        "#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n"
    )
    (shims / "python3.12").chmod(0o755)
    version_bin = tmp_path / "pyenv" / "versions" / "3.12.1" / "bin"
    version_bin.mkdir(parents=True)
    _fake_python(version_bin / "python3", "3.12")
    result = _run(tmp_path, [shims], tmp_path / "pyenv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(version_bin / "python3")


def test_no_python_gives_a_clear_message(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir / "python3", "3.11")
    result = _run(tmp_path, [bin_dir], tmp_path / "no-pyenv")
    assert result.returncode == 1
    assert "needs Python 3.12 or newer" in result.stderr
    assert "pyenv install 3.12" in result.stderr
