#!/usr/bin/env bash
# live-bad-iface.sh - issue 2: a live capture on an interface that does not exist
# is a usage/input error: exit code 2 and one line on stderr naming the interface.
# Needs neither root nor servers.
set -euo pipefail
LEAKSCAN=${LEAKSCAN:-./leakscan}
[ -x "$LEAKSCAN" ] || { echo "FAIL live-bad-iface: no leakscan binary at $LEAKSCAN" >&2; exit 1; }

work=$(mktemp -d -t leakscan-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
result() { # result DESC OK(0/1)
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1"
    fi
}

rc=0
timeout 20 "$LEAKSCAN" -i nosuchif0 -o "$work/x.json" >"$work/out" 2>"$work/err" || rc=$?
echo "leakscan exited $rc; stderr:"
sed 's/^/    /' "$work/err"
result "exit code 2" "$([ "$rc" = 2 ]; echo $?)"
result "exactly one line on stderr" "$([ "$(grep -c . "$work/err")" = 1 ]; echo $?)"
result "the error names the interface" "$(grep -q nosuchif0 "$work/err"; echo $?)"
echo "live-bad-iface: $passed passed, $failed failed"
[ "$failed" = 0 ]
