#!/usr/bin/env bash
# Install the desktop entry and icon for the current user, pointing at a built bundle.
set -euo pipefail
bundle=$(realpath "${1:-build/dist/cbct-osteo}")
here=$(dirname "$(realpath "$0")")
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$apps" "$icons"
cp "$here/icons/cbct-osteo.png" "$icons/cbct-osteo.png"
sed "s|^Exec=cbct-osteo|Exec=$bundle/cbct-osteo|" "$here/cbct-osteo.desktop" > "$apps/cbct-osteo.desktop"
echo "Installed $apps/cbct-osteo.desktop"
