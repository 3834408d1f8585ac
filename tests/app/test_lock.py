"""The lock files that the quick start installs from match pyproject.toml, and the check that
says so fails when they do not."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "check-lock")],
        capture_output=True,
        text=True,
    )


def _copy(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "check-lock", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def test_the_lock_files_match_pyproject():
    result = _check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_requirement_the_lock_does_not_satisfy_is_named(tmp_path):
    root = _copy(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"redis>=5"', '"redis>=99"'))

    result = _check(root)

    assert result.returncode == 1
    assert "requirements/app.txt: redis==" in result.stderr and "redis>=99" in result.stderr


def test_a_dependency_missing_from_a_lock_is_named(tmp_path):
    root = _copy(tmp_path)
    lock = root / "requirements" / "dev.txt"
    lines = lock.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("hypothesis=="))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" "))
    lock.write_text("\n".join(lines[:start] + lines[end:]) + "\n")

    result = _check(root)

    assert result.returncode == 1
    assert "requirements/dev.txt: hypothesis is not pinned" in result.stderr
