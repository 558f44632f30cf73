#!/usr/bin/env bash
# Runs webwarden on this machine: creates the virtual environment if needed, then starts the
# gateway on loopback with the shipped policy (2013 regime, 2009 for earlier dates), the
# shipped UT1 category lists and the demo directory. Extra arguments go to
# `webwarden gateway` (see `webwarden gateway --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/venv.sh"
# HTTPS is inspected where the policy allows once a CA exists: the first start makes one
# (unless told not to intercept, or given a state directory of its own).
state="${WEBWARDEN_STATE_DIR:-$HOME/.local/state/webwarden}"
if [ ! -e "$state/ca/ca.json" ] && [[ " $* " != *" --no-intercept "* ]] &&
   [[ " $* " != *" --state-dir"* ]] && [[ " $* " != *" --ca-dir"* ]]; then
  echo "== first start: creating the gateway's CA for HTTPS inspection (webwarden ca init)"
  "$root/.venv/bin/webwarden" ca init
  echo "   browsers must trust it: see 'Trusting the gateway's CA' in docs/operations.md"
fi
exec "$root/.venv/bin/webwarden" gateway "$@"
