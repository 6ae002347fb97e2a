#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle into build/dist/cbct-osteo/ and smoke-test it.
# Slow (several minutes), so it is not part of scripts/test. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
.venv/bin/python -m pip install -q "pyinstaller>=6.10,<7"
.venv/bin/python packaging/make_icon.py
start=$(date +%s)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath build/dist --workpath build/pyinstaller packaging/cbct-osteo.spec
echo "Built build/dist/cbct-osteo in $(( $(date +%s) - start )) s; size $(du -sh build/dist/cbct-osteo | cut -f1)"
packaging/smoke_test.sh build/dist/cbct-osteo/cbct-osteo
