# Shared by scripts/serve and scripts/test: make .venv with Python 3.11+ and install Toker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Toker needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
    echo "Set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv ..." >&2
    "$PYTHON" -m venv .venv
fi

install_toker() {
    # $1: "dev" to add the test tools. The versions are the lock files' (scripts/lock makes them
    # from pyproject.toml), checked against their hashes; then Toker itself, editable.
    local lock="requirements/app.txt"
    [ "${1:-}" = "dev" ] && lock="requirements/dev.txt"
    echo "Installing Toker's dependencies from $lock into .venv ..." >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r "$lock"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    scripts/fetch-assets
}
