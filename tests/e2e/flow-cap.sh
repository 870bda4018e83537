#!/usr/bin/env bash
# flow-cap.sh - the flow table's cap (FLOW_MAX in scanner/limits.h) on a
# capture of FLOW_MAX + 8928 concurrent flows (build/rel/tools/gen_flows: TCP
# SYNs to TEST-NET-1, written to a file, nothing sent): the oldest flows are
# evicted and counted, the report says the scan is incomplete and why, the
# exit code is 3, and memory stays bounded.  Needs neither root nor servers.
set -euo pipefail
LEAKSCAN=${LEAKSCAN:-./leakscan}
GEN=${GEN_FLOWS:-build/rel/tools/gen_flows}
[ -x "$LEAKSCAN" ] || { echo "FAIL flow-cap: no leakscan binary at $LEAKSCAN" >&2; exit 1; }
[ -x "$GEN" ] || { echo "FAIL flow-cap: no $GEN (make tools builds it)" >&2; exit 1; }
if ! command -v jq >/dev/null; then
    [ "${CI:-}" = true ] && { echo "FAIL flow-cap: jq is missing (a test may not skip in CI)" >&2; exit 1; }
    echo "SKIP flow-cap: jq is missing" >&2
    exit 77
fi
cap=$(sed -n 's/^#define FLOW_MAX *\([0-9]*\)u.*/\1/p' scanner/limits.h)
[ -n "$cap" ] || { echo "FAIL flow-cap: FLOW_MAX not found in scanner/limits.h" >&2; exit 1; }
extra=8928
n=$((cap + extra))

work=$(mktemp -d -t leakscan-flowcap.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
result() { # result DESC STATUS (0 is ok)
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1"
    fi
}
jqt() { jq -e "$1" "$work/r.json" >/dev/null 2>&1; echo $?; }

"$GEN" "$n" "$work/flows.pcap"
rc=0
if [ -x /usr/bin/time ]; then
    timeout 120 /usr/bin/time -f '%M' -o "$work/rss" "$LEAKSCAN" -r "$work/flows.pcap" \
        -o "$work/r.json" --quiet 2>"$work/err" || rc=$?
else
    timeout 120 "$LEAKSCAN" -r "$work/flows.pcap" -o "$work/r.json" --quiet 2>"$work/err" || rc=$?
fi
echo "leakscan exited $rc on $n flows (cap $cap)"
result "exit code 3 (scanned, incomplete)" "$([ "$rc" = 3 ]; echo $?)"
result "every flow counted" "$(jqt ".summary.flows == $n")"
result "the peak is the cap" "$(jqt ".scan.counters.flows_active_peak == $cap")"
result "the flows past the cap are evicted and counted" \
    "$(jqt ".scan.counters.flows_evicted == $extra")"
result "complete false, the reason names FLOW_MAX" \
    "$(jqt '.scan.complete == false and (.scan.incomplete_reasons | tostring | test("FLOW_MAX"))')"
if [ ! -x /usr/bin/time ] && [ "${CI:-}" = true ]; then
    result "/usr/bin/time present to measure peak RSS (package time)" 1
elif [ -s "$work/rss" ]; then
    rss=$(tail -n 1 "$work/rss")
    echo "peak RSS ${rss} KiB"
    # about 1.5 KiB per open flow (leakscan's flow and nDPI's state): bounded by the cap
    result "peak RSS under 1 GiB at the cap" "$([ "$rss" -lt 1048576 ]; echo $?)"
fi
echo "flow-cap: $passed passed, $failed failed"
[ "$failed" = 0 ]
