#!/usr/bin/env bash
# Runs webwarden on this machine: creates the virtual environment if needed, then starts the
# gateway on loopback with the shipped policy (2013 regime, 2009 for earlier dates), the
# shipped UT1 category lists and the demo directory. Extra arguments go to
# `webwarden gateway` (see `webwarden gateway --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/venv.sh"
exec "$root/.venv/bin/webwarden" gateway "$@"
