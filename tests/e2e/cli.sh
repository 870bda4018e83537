#!/usr/bin/env bash
# cli.sh - the command line as a cron job or an incident responder meets it:
# bad input gets one line on stderr and a defined exit code, a truncated
# capture still gives the findings made before the cut (marked incomplete),
# standard input and directories are read, and --detectors restricts a scan
# and says so in the report.  Needs no root and no server; uses samples/.
set -euo pipefail
LEAKSCAN=${LEAKSCAN:-./leakscan}
[ -x "$LEAKSCAN" ] || { echo "FAIL cli: no leakscan binary at $LEAKSCAN" >&2; exit 1; }
if ! command -v jq >/dev/null; then
    [ "${CI:-}" = true ] && { echo "FAIL cli: jq is missing (a test may not skip in CI)" >&2; exit 1; }
    echo "SKIP cli: jq is missing" >&2
    exit 77
fi

work=$(mktemp -d -t leakscan-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
result() { # result DESC STATUS (0 is ok)
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1"
    fi
}
# ls NAME ARGS...: run leakscan, stdout/stderr in $work/NAME.out/.err, exit code in RC
ls_run() {
    local name=$1
    shift
    RC=0
    timeout 60 "$LEAKSCAN" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null || RC=$?
}
is() { [ "$1" = "$2" ]; echo $?; }
one_line() { is "$(grep -c . "$1")" 1; }
jqt() { jq -e "$2" "$1" >/dev/null 2>&1; echo $?; }
sample=samples/mysql-plain.pcap

# --- inputs that cannot be read: exit 2, one line naming the input
ls_run missing -r "$work/nope.pcap" -o "$work/r.json"
result "missing file: exit 2" "$(is "$RC" 2)"
result "missing file: one line on stderr naming it" \
    "$( [ "$(one_line "$work/missing.err")" = 0 ] && grep -q nope.pcap "$work/missing.err"; echo $?)"
: >"$work/empty.pcap"
ls_run empty -r "$work/empty.pcap" -o "$work/r.json"
result "empty file: exit 2 and one line" "$( [ "$RC" = 2 ] && [ "$(one_line "$work/empty.err")" = 0 ]; echo $?)"
printf 'this is a README, not a capture\n' >"$work/text.pcap"
ls_run text -r "$work/text.pcap" -o "$work/r.json"
result "not a capture: exit 2 and one line" "$( [ "$RC" = 2 ] && [ "$(one_line "$work/text.err")" = 0 ]; echo $?)"
result "no report written when nothing was scanned" "$( [ ! -e "$work/r.json" ]; echo $?)"
ls_run badopt -r "$sample" --no-such-option
result "unknown option: exit 2" "$(is "$RC" 2)"
ls_run unwritable -r "$sample" -o "$work/no/such/dir/r.json" --quiet
result "report in a missing directory: exit 2 and one line" \
    "$( [ "$RC" = 2 ] && [ "$(one_line "$work/unwritable.err")" = 0 ]; echo $?)"

# --- the whole sample, the reference for what follows
ls_run full -r "$sample" -o "$work/full.json" --quiet
result "full scan: exit 1 (findings at or above high)" "$(is "$RC" 1)"
result "full scan: complete, no detectors_only key" \
    "$(jqt "$work/full.json" '.scan.complete == true and (.scan | has("detectors_only") | not)')"
rules_full=$(jq -c '[.findings[].rule]' "$work/full.json")

# --- a capture cut in the middle of a packet: the findings before the cut stay
size=$(stat -c %s "$sample")
head -c $((size * 3 / 4 + 7)) "$sample" >"$work/cut.pcap"
ls_run cut -r "$work/cut.pcap" -o "$work/cut.json" --quiet
result "truncated: exit 1 (findings made before the cut fail the scan)" "$(is "$RC" 1)"
result "truncated: one line on stderr about the cut" "$(one_line "$work/cut.err")"
result "truncated: report says complete false, with a reason and the input's error" \
    "$(jqt "$work/cut.json" '.scan.complete == false and (.scan.incomplete_reasons | length) > 0
                             and .scan.inputs[0].truncated == true
                             and (.scan.inputs[0].error | test("truncated"))')"
result "truncated: the login and query findings are kept" \
    "$(jqt "$work/cut.json" '[.findings[].rule] | index("mysql.cleartext-login") != null
                             and index("mysql.cleartext-query") != null')"
ls_run cut-low -r "$work/cut.pcap" -o "$work/cut2.json" --quiet --fail-on critical
# the cut may fall before or after the card number: exit 1 or 3, never 0
result "truncated, nothing at fail-on: exit 3 or 1, not 0" \
    "$( [ "$RC" = 3 ] || [ "$RC" = 1 ]; echo $?)"

# --- standard input and directories
RC=0
timeout 60 "$LEAKSCAN" -r - -o "$work/stdin.json" --quiet <"$sample" 2>"$work/stdin.err" || RC=$?
result "stdin: exit 1" "$(is "$RC" 1)"
result "stdin: the same findings as the file" \
    "$(is "$(jq -c '[.findings[].rule]' "$work/stdin.json")" "$rules_full")"
mkdir -p "$work/dir/sub"
cp "$sample" "$work/dir/a.pcap"
cp samples/redis-auth.pcap "$work/dir/sub/b.pcap"
echo notes >"$work/dir/README"
ls_run dir -r "$work/dir" -o "$work/dir.json" --quiet
result "directory: both captures read recursively, the README counted as skipped" \
    "$(jqt "$work/dir.json" '(.scan.inputs | length) == 2 and .scan.skipped_files == 1')"
result "directory: findings of both captures" \
    "$(jqt "$work/dir.json" '[.findings[].rule] | index("mysql.cleartext-query") != null
                             and index("redis.cleartext-auth") != null')"

# --- --detectors
ls_run list --list-detectors
result "--list-detectors: mysql first, plain last" \
    "$( [ "$(head -n 1 "$work/list.out")" = mysql ] && [ "$(tail -n 1 "$work/list.out")" = plain ]; echo $?)"
ls_run bogus -r "$sample" --detectors mysql,bogus -o "$work/r.json"
result "--detectors with an unknown name: exit 2, one line naming it" \
    "$( [ "$RC" = 2 ] && [ "$(one_line "$work/bogus.err")" = 0 ] && grep -q "'bogus'" "$work/bogus.err"; echo $?)"
ls_run none -r "$sample" --detectors none -o "$work/none.json" --quiet
result "--detectors none: exit 0, no finding" \
    "$( [ "$RC" = 0 ] && [ "$(jqt "$work/none.json" '.findings == []')" = 0 ]; echo $?)"
result "--detectors none: the report says so and keeps the inventory" \
    "$(jqt "$work/none.json" '.scan.detectors_only == [] and
                              ([.services[] | select(.port == 3306 and .encrypted == false)] | length) == 1')"
ls_run only -r "$sample" --detectors pgsql,mysql -o "$work/only.json"
result "--detectors pgsql,mysql: listed in the table's order" \
    "$(jqt "$work/only.json" '.scan.detectors_only == ["mysql", "pgsql"]')"
result "--detectors pgsql,mysql: the same findings as the full scan here" \
    "$(is "$(jq -c '[.findings[].rule]' "$work/only.json")" "$rules_full")"
result "--detectors: the terminal summary says the scan is restricted" \
    "$(grep -q 'restricted scan, detectors: mysql,pgsql' "$work/only.out"; echo $?)"
ls_run all -r "$sample" --detectors all -o "$work/all.json" --quiet
result "--detectors all: a full scan, not called restricted" \
    "$(jqt "$work/all.json" '.scan | has("detectors_only") | not')"
ls_run http -r samples/http-plain.pcap --detectors mysql -o "$work/http.json" --quiet
result "--detectors mysql on HTTP traffic: no http.* finding" \
    "$(jqt "$work/http.json" '[.findings[].rule | select(startswith("http."))] == []')"

echo "cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
