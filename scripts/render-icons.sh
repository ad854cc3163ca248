#!/usr/bin/env bash
# Regenerates the PNG icons from the SVG sources in images/src/ with headless Chromium.
# Not part of the build or tests (the PNGs are committed). Needs: chromium (apt-get install -y chromium).
#   images/src/extension-icon.svg  -> images/extension-icon.png          (128x128, marketplace icon)
#   images/src/task-<kebab>.svg    -> tasks/AzureML<Pascal>V1/icon.png    (32x32, as Azure DevOps asks for task icons)
set -euo pipefail
cd "$(dirname "$0")/.."
CHROME="${CHROME:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
[ -n "$CHROME" ] || { echo "render-icons: chromium not found (apt-get install -y chromium)" >&2; exit 1; }
profile="$(mktemp -d)"; trap 'rm -rf "$profile"' EXIT

render() { # <svg> <png> <size>
  local svg="$1" png="$2" size="$3"
  mkdir -p "$(dirname "$png")"
  "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    --default-background-color=00000000 --window-size="$size,$((size + 200))" --screenshot="$profile/shot.png" \
    "file://$PWD/$svg" >/dev/null 2>&1
  # the viewport is shorter than the window for small windows: render tall, keep the top-left square
  node scripts/png-crop.mjs "$profile/shot.png" "$png" "$size" "$size"
  echo "rendered $png ($size x $size)"
}

render images/src/extension-icon.svg images/extension-icon.png 128
for svg in images/src/task-*.svg; do
  kebab="$(basename "$svg" .svg)"; kebab="${kebab#task-}"
  pascal="$(echo "$kebab" | sed -E 's/(^|-)([a-z])/\U\2/g')"
  render "$svg" "tasks/AzureML${pascal}V1/icon.png" 32
done
