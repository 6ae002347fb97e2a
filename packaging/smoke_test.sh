#!/usr/bin/env bash
# Run a built bundle headless the way a user would: write the phantom, measure it, write a PDF,
# open the GUI on it and take a screenshot. Exits non-zero on the first failure.
set -euo pipefail
exe=$(realpath "${1:-build/dist/cbct-osteo/cbct-osteo}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
env -i PATH=/usr/bin:/bin HOME="$work" "$exe" --version
env -i PATH=/usr/bin:/bin HOME="$work" "$exe" phantom phantom --seed 3
env -i PATH=/usr/bin:/bin HOME="$work" "$exe" info phantom
env -i PATH=/usr/bin:/bin HOME="$work" "$exe" measure phantom --landmarks phantom/landmarks.json --json results.json
env -i PATH=/usr/bin:/bin HOME="$work" "$exe" report phantom --landmarks phantom/landmarks.json -o report.pdf
test -s report.pdf
start=$(date +%s.%N)
env -i PATH=/usr/bin:/bin HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24 +extension GLX" \
  "$exe" gui phantom --screenshot shot.png
end=$(date +%s.%N)
test -s shot.png
echo "smoke test passed: phantom, info, measure, report ($(stat -c %s report.pdf) bytes), gui screenshot in $(echo "$end - $start" | bc) s"
