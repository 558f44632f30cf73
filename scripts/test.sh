#!/usr/bin/env bash
# The whole test suite: installs what the tests drive (Debian packages, the virtual
# environment), then runs ruff, mypy (strict on src/) and pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Real clients and tools the integration tests use.
pkgs=(curl chromium calamaris openssl libnss3-tools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/venv.sh dev
echo "== ruff"
.venv/bin/ruff check src tests bench scripts
echo "== mypy (strict, src/)"
.venv/bin/mypy
echo "== pytest"
# Tests must never go through a proxy the caller happens to have configured.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
exec .venv/bin/pytest -q "$@"
