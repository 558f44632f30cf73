#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs webwarden
# into it with pinned dependencies. Usage: scripts/venv.sh [dev]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
extra=""
[ "${1:-}" = "dev" ] && extra="[dev]"
stamp="$root/.venv/.installed${extra:+-dev}"
if [ ! -x "$root/.venv/bin/python" ]; then
  if ! "$py" -m venv "$root/.venv" 2>/dev/null; then
    # Debian ships venv separately from the interpreter.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    "$py" -m venv "$root/.venv"
  fi
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  "$root/.venv/bin/pip" install -q --disable-pip-version-check -e "$root$extra"
  touch "$stamp"
fi
