#!/bin/sh
# Prepares the Python environment the tests use for real peers (a JWT verifier, an iCalendar parser, an SMTP
# server, an API fuzzer, a WebDriver client): `.venv` in the repository root with pyjwt, icalendar, aiosmtpd,
# schemathesis and selenium (the web console's browser test drives Chromium with it), and the SMS providers'
# official SDKs (Alibaba Cloud, Tencent Cloud), whose signing code the SMS stand-in checks every request with.
# Idempotent: prints nothing when the environment is already complete.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
venv="$root/.venv"
py="$venv/bin/python"
packages="pyjwt icalendar aiosmtpd schemathesis==4.32.5 selenium alibabacloud-dysmsapi20170525==4.6.0 tencentcloud-sdk-python-sms==3.1.153"
modules="jwt icalendar aiosmtpd schemathesis selenium alibabacloud_dysmsapi20170525 tencentcloud.sms"

have_all() {
    [ -x "$py" ] || return 1
    for m in $modules; do
        "$py" -c "import $m" >/dev/null 2>&1 || return 1
    done
}

have_all && exit 0

if [ ! -x "$py" ]; then
    command -v python3 >/dev/null 2>&1 || { echo "python3 is missing: install python3 and python3-venv" >&2; exit 1; }
    echo "creating $venv"
    python3 -m venv "$venv" || {
        echo "could not create $venv: install python3-venv (apt-get install python3-venv)" >&2
        rm -rf "$venv"
        exit 1
    }
fi
echo "installing Python packages into $venv: $packages"
"$py" -m pip install -q --disable-pip-version-check $packages
have_all || { echo "the Python packages ($packages) did not import after installation" >&2; exit 1; }
