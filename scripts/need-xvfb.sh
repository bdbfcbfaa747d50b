#!/usr/bin/env bash
# Make sure xvfb-run (and ImageMagick's `import` for screenshots) exist,
# installing them with apt-get when we are root on Debian/Ubuntu.
set -euo pipefail
if command -v xvfb-run >/dev/null && command -v import >/dev/null && command -v xwininfo >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq xvfb xauth imagemagick x11-utils >/dev/null
else
    echo "need xvfb-run, ImageMagick and x11-utils: sudo apt-get install xvfb xauth imagemagick x11-utils" >&2
    exit 1
fi
