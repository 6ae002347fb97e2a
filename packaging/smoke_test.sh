#!/usr/bin/env bash
# Run a built bundle headless the way a user would: write the phantom, list it, measure it, measure
# losslessly compressed copies of it (RLE, JPEG lossless, JPEG-LS, JPEG 2000: the bundled decoders),
# run a two-case batch (worker processes of the frozen executable), write a PDF, open the GUI on it
# and take a screenshot. The bundle runs in an empty environment (env -i, a fresh HOME) so nothing
# leaks in from the build machine. Exits non-zero on the first failure.
# Usage: packaging/smoke_test.sh [build/dist/cbct-osteo/cbct-osteo]
# Needs: xvfb-run, bc, pdftotext (poppler-utils), and the build's .venv (its GDCM makes the compressed copies).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
exe=$(realpath "${1:-$repo/build/dist/cbct-osteo/cbct-osteo}")
python=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { env -i PATH=/usr/bin:/bin HOME="$work" "$exe" "$@"; }
seconds() { date +%s.%N; }

start=$(seconds); run --version; end=$(seconds)
version_s=$(printf "%.2f" "$(echo "$end - $start" | bc)")
run phantom phantom --seed 3
run info phantom
run measure phantom --landmarks phantom/landmarks.json --json results.json

for syntax in rle jpeg-lossless jpeg-ls jpeg2000; do
  "$python" "$repo/packaging/transcode.py" phantom "$syntax" "$syntax" >/dev/null
  run info "$syntax" | grep "transfer syntax"
  run measure "$syntax" --landmarks phantom/landmarks.json --json "$syntax.json" >/dev/null 2>&1 \
    || { run measure "$syntax" --landmarks phantom/landmarks.json; exit 1; }
  "$python" - results.json "$syntax.json" <<'EOF'
import json, sys
def values(path):
    sides = json.load(open(path))["sides"]
    return {(s, k): m["value"] for s, side in sides.items() for k, m in side["measurements"].items()}
reference, compressed = values(sys.argv[1]), values(sys.argv[2])
if reference != compressed:
    sys.exit(f"{sys.argv[2]}: measurements differ from the uncompressed series")
print(f"{sys.argv[2]}: {len(reference)} measurements identical to the uncompressed series")
EOF
done

printf 'case_id,volume,landmarks\nplain,phantom,phantom/landmarks.json\nrle,rle,phantom/landmarks.json\n' > manifest.csv
run batch manifest.csv --out batch.csv --workers 2
test "$(grep -c ',ok,' batch.csv)" -eq 2

run report phantom --landmarks phantom/landmarks.json -o report.pdf
test -s report.pdf
# The report falls back on a "3D view unavailable" box when VTK cannot render: in a bundle that
# means a VTK module was left out, so it is a failure here.
pdftotext report.pdf report.txt
if grep -q "3D view unavailable" report.txt; then echo "report.pdf: 3D view missing" >&2; exit 1; fi

start=$(seconds)
env -i PATH=/usr/bin:/bin HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24 +extension GLX" \
  "$exe" gui phantom --screenshot shot.png
end=$(seconds)
test -s shot.png
echo "smoke test passed: --version in $version_s s; phantom, info, measure, 4 compressed syntaxes, batch," \
  "report ($(stat -c %s report.pdf) bytes), gui screenshot in $(printf "%.2f" "$(echo "$end - $start" | bc)") s"
