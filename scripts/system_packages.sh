#!/usr/bin/env bash
# The Debian packages `make demo` or `make test` needs, installed when they are missing.
#   scripts/system_packages.sh demo   # the lab: Node.js, PostgreSQL, Prometheus, Alertmanager
#   scripts/system_packages.sh test   # the lab, plus Redis, Sentinel and the browser test's Chromium
# Without root or apt-get it only says what is missing: the tests that need it are skipped.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
has_initdb() { command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# The lab and the database tests run private clusters with pg_stat_statements: initdb it is.
has_initdb || need+=(postgresql)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "${1:-test}" = test ]; then
  command -v redis-server >/dev/null || answers 6379 || need+=(redis-server)
  command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
  # The browser test of the emulator's page; the driver comes from the same Debian release.
  command -v chromium >/dev/null || need+=(chromium)
  command -v chromedriver >/dev/null || need+=(chromium-driver)
fi
[ "${#need[@]}" -eq 0 ] && exit 0
declare -A seen=()
for package in "${need[@]}"; do seen[$package]=1; done
need=("${!seen[@]}")
if [ "$EUID" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Missing Debian packages: ${need[*]}" >&2
  echo "Install them as root: apt-get install -y --no-install-recommends ${need[*]}" >&2
  echo "(going on; what needs them is skipped or fails with the same hint)" >&2
  exit 0
fi
echo "Installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
