#!/bin/sh
# Installs the Debian packages the build, the daemon and the tests need, when they are missing.
# Idempotent and quiet when everything is there. Chromium, its driver and the Noto CJK fonts are for the web
# console's browser test (Chinese must render); poppler-utils turns printed pages into pictures.
set -eu
need=""
for pkg in libsqlite3-dev sqlite3 tzdata curl util-linux systemd python3-venv openssl socat \
    chromium chromium-driver fonts-noto-cjk poppler-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
echo "installing Debian packages:$need"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "missing Debian packages:$need" >&2
    echo "install them as root (apt-get install$need), or run this again as root" >&2
    exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
