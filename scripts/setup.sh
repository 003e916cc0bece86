# Sourced by scripts/test and scripts/demo: a virtualenv with hexforge's test and
# template dependencies in .venv, and PostgreSQL's server binaries on the machine.
set -euo pipefail
HEXFORGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$HEXFORGE_ROOT/.venv"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.hexforge-deps"
if [ ! -f "$stamp" ] || [ "$HEXFORGE_ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$HEXFORGE_ROOT[test]"
  touch "$stamp"
fi

have_postgres() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
# Debian packages the tests need: PostgreSQL's server binaries, and wrk, which drives
# the served-service benchmark (bench/service_bench.py, smoke-tested by the suite).
missing=()
have_postgres || missing+=(postgresql)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "hexforge: installing Debian's ${missing[*]} (for the tests)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "hexforge: missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]});" \
      "instead of postgresql, TEST_DATABASE_URL may name a server" >&2
  fi
fi
export PATH="$VENV/bin:$PATH"
