#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs webwarden
# into it with pinned dependencies. Usage: scripts/venv.sh [dev]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
extra="[compile]"
[ "${1:-}" = "dev" ] && extra="[dev,compile]"
stamp="$root/.venv/.installed-${1:-run}"
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

# The request path runs compiled (scripts/compile.py; about a third less CPU per request):
# that needs a C compiler and Python's headers, which Debian installs apart.
if ! "$root/.venv/bin/python" "$root/scripts/compile.py" --check-tools >/dev/null; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing a C compiler and Python's headers (gcc, python3-dev)"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    { $sudo_cmd apt-get update -qq &&
      $sudo_cmd apt-get install -y -qq --no-install-recommends gcc python3-dev >/dev/null; } ||
      echo "webwarden: could not install gcc and python3-dev; the sources will run" >&2
  fi
fi
# Builds only when the compiled modules' sources changed; falls back to the sources.
"$root/.venv/bin/python" "$root/scripts/compile.py"
