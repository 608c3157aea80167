#!/bin/sh
# Checks the systemd integration files:
#   1. `systemd-analyze verify --man=no` on systemd/mediationd.service must succeed and say nothing at all.
#      ExecStart must resolve, so the unit is verified as a copy in a temporary directory whose ExecStart
#      points at $MEDIATIOND_BIN (the built daemon) when set, or at /bin/true otherwise.
#   2. `systemd-analyze security --offline=true` must rate the unit's overall exposure 2.0 or lower.
#   3. systemd/sysusers.d/mediationd.conf and systemd/tmpfiles.d/mediationd.conf are applied to a scratch
#      root (--root), never to this machine (systemd 252's systemd-tmpfiles has no --dry-run).
# Prints one line on success, for example: systemd: verify clean, exposure 0.6
# Exits 1 with what the tools said on any failure.
set -eu

cd "$(dirname "$0")/.."
repo=$(pwd)
unit=systemd/mediationd.service
sysusers=systemd/sysusers.d/mediationd.conf
tmpfiles=systemd/tmpfiles.d/mediationd.conf
max_exposure=2.0

fail() {
  printf 'check-systemd: %s\n' "$1" >&2
  if [ $# -gt 1 ] && [ -s "$2" ]; then sed 's/^/  | /' "$2" >&2; fi
  exit 1
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install systemd)"
done
for file in "$unit" "$sysusers" "$tmpfiles"; do
  [ -f "$file" ] || fail "$file is missing"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/check-systemd.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# --- 1. verify ------------------------------------------------------------------------------------------------
bin=${MEDIATIOND_BIN:-/bin/true}
case "$bin" in
  /*) ;;
  *) bin="$(pwd)/$bin" ;;
esac
[ -x "$bin" ] && [ ! -d "$bin" ] || fail "MEDIATIOND_BIN=$bin is not an executable file"

mkdir "$work/units"
BIN="$bin" awk '
  index($0, "ExecStart=/usr/local/bin/mediationd") == 1 {
    $0 = "ExecStart=" ENVIRON["BIN"] substr($0, length("ExecStart=/usr/local/bin/mediationd") + 1); n++
  }
  { print }
  END { exit n == 1 ? 0 : 1 }
' "$unit" >"$work/units/mediationd.service" \
  || fail "$unit must have exactly one ExecStart=/usr/local/bin/mediationd line"

status=0
systemd-analyze verify --man=no "$work/units/mediationd.service" >"$work/verify.out" 2>"$work/verify.err" || status=$?
cat "$work/verify.out" "$work/verify.err" >"$work/verify.all"
if [ "$status" -ne 0 ] || [ -s "$work/verify.all" ]; then
  fail "systemd-analyze verify $unit exited $status and said:" "$work/verify.all"
fi

# --- 2. security ----------------------------------------------------------------------------------------------
status=0
systemd-analyze security --offline=true "$unit" >"$work/security.out" 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "systemd-analyze security $unit exited $status:" "$work/security.out"
exposure=$(sed -n 's/^.*Overall exposure level for [^:]*: *\([0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*$/\1/p' \
  "$work/security.out" | head -n 1)
[ -n "$exposure" ] || fail "no 'Overall exposure level' in systemd-analyze security output:" "$work/security.out"
if ! awk -v x="$exposure" -v max="$max_exposure" 'BEGIN { exit !(x + 0 <= max + 0) }'; then
  grep '✗' "$work/security.out" >"$work/security.bad" || true
  fail "exposure $exposure is above $max_exposure; not hardened:" "$work/security.bad"
fi

# --- 3. sysusers.d and tmpfiles.d, in a scratch root ----------------------------------------------------------
root="$work/root"
mkdir -p "$root/etc"
status=0
systemd-sysusers --root="$root" "$repo/$sysusers" >"$work/sysusers.out" 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "systemd-sysusers $sysusers exited $status:" "$work/sysusers.out"
for name in mediationd mediation mediation-admin mediation-staff mediation-viewer; do
  grep -q "^$name:" "$root/etc/group" || fail "$sysusers does not create group $name" "$work/sysusers.out"
done
grep -q '^mediationd:[^:]*:[0-9]*:[0-9]*:[^:]*:/var/lib/mediationd:' "$root/etc/passwd" \
  || fail "$sysusers does not create user mediationd with home /var/lib/mediationd" "$root/etc/passwd"
# The daemon hands its socket to group mediation, which it can only do as a member.
grep -q '^mediation:[^:]*:[0-9]*:\(.*,\)\{0,1\}mediationd\(,.*\)\{0,1\}$' "$root/etc/group" \
  || fail "$sysusers does not make user mediationd a member of group mediation" "$root/etc/group"

tmpfiles_note=""
if [ "$(id -u)" -eq 0 ]; then
  status=0
  systemd-tmpfiles --root="$root" --create "$repo/$tmpfiles" >"$work/tmpfiles.out" 2>&1 || status=$?
  if [ "$status" -ne 0 ] || [ -s "$work/tmpfiles.out" ]; then
    fail "systemd-tmpfiles --create $tmpfiles exited $status and said:" "$work/tmpfiles.out"
  fi
  uid=$(awk -F: '$1 == "mediationd" { print $3 }' "$root/etc/passwd")
  gid=$(awk -F: '$1 == "mediationd" { print $3 }' "$root/etc/group")
  # The socket's folder may be entered by anyone (the socket itself is 0660, group mediation); the state
  # folder, which holds people's names and phone numbers, only by the daemon.
  for spec in "/run/mediationd 755" "/var/lib/mediationd 700" "/var/lib/mediationd/outbox 700"; do
    dir=${spec% *}
    mode=${spec#* }
    [ -d "$root$dir" ] || fail "$tmpfiles does not create $dir"
    got=$(stat -c '%a %u %g' "$root$dir")
    [ "$got" = "$mode $uid $gid" ] || fail "$dir is '$got' (mode uid gid), wanted '$mode $uid $gid'"
  done
  unit_modes=$(grep -E '^(StateDirectoryMode|RuntimeDirectoryMode)=' "$repo/$unit" | sort | tr '\n' ' ')
  [ "$unit_modes" = "RuntimeDirectoryMode=0755 StateDirectoryMode=0700 " ] \
    || fail "the unit's directory modes are '$unit_modes', wanted RuntimeDirectoryMode=0755 StateDirectoryMode=0700"
else
  tmpfiles_note=" (tmpfiles.d not applied: needs root)"
fi

echo "systemd: verify clean, exposure $exposure$tmpfiles_note"
