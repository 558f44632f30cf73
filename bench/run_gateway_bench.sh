#!/usr/bin/env bash
# Install the tools the gateway benchmark needs, then run it with the project's Python.
#   bench/run_gateway_bench.sh                                   # full run, about 12 minutes
#   bench/run_gateway_bench.sh --rounds 1 --duration 3 --targets squid,webwarden
#   bench/run_gateway_bench.sh --help
# Every argument goes to bench/gateway_bench.py. Everything listens on 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

pkgs=(squid squidguard wrk curl openssl procps stunnel4)
# Either nginx flavour will do as the origin.
if ! dpkg -s nginx-light >/dev/null 2>&1 && ! dpkg -s nginx >/dev/null 2>&1; then
  pkgs+=(nginx-light)
fi
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages (run as root to install): ${pkgs[*]}" >&2
    exit 1
  fi
  # apt/dpkg take a lock; wait for any install already under way instead of failing.
  while fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; do sleep 5; done
  echo "== apt-get install ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# Creates the environment if needed and (re)builds the compiled request path if its
# sources changed: the benchmark measures what `scripts/run.sh` runs.
bash "$root/scripts/venv.sh" >&2
exec "$root/.venv/bin/python" "$here/gateway_bench.py" "$@"
