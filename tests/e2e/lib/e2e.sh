#!/usr/bin/env bash
# e2e.sh - helpers for the end-to-end tests in tests/e2e/*.sh (sourced, not run).
#
#   e2e_begin NAME [PKG...]   root and packages (or skip), a work dir, cleanup trap
#   ls_live_start FILTER      leakscan -i lo in the background, report in $REPORT
#   ls_live_stop              SIGINT, wait, exit code in $LS_RC
#   check DESC JQ_FILTER      one assertion on the report (jq -e)
#   check_rc DESC RC...       the exit code is one of RC...
#   check_absent DESC TEXT    TEXT appears nowhere in the report
#   e2e_end                   exit 0 when every check passed, 1 otherwise
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip.  A test skips only when it
# cannot run here (not root, a server package missing) and CI is not "true"; in
# CI it installs what is missing or fails.  Tests run from the repository root
# with LEAKSCAN naming the binary (default ./leakscan, relative to the current
# directory); servers listen on 127.0.0.1 only, at free high ports.

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../lib/servers.sh
source "$E2E_LIB/../../lib/servers.sh"

LEAKSCAN=${LEAKSCAN:-./leakscan}
E2E_NAME=
E2E_PASSED=0
E2E_FAILED=0
LS_PID=
LS_RC=
REPORT=

# e2e_skip REASON: skip the test (exit 77), or fail it when CI=true.
e2e_skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL $E2E_NAME: $1 (a test may not skip in CI)" >&2
        exit 1
    fi
    echo "SKIP $E2E_NAME: $1" >&2
    exit 77
}

# e2e_fail REASON: the test cannot go on; fail it.
e2e_fail() {
    echo "FAIL $E2E_NAME: $1" >&2
    exit 1
}

# e2e_begin NAME [PKG...]: check that we can run (root, the leakscan binary, jq and
# the packages named), then make the work dir and register the cleanup.
e2e_begin() {
    E2E_NAME=$1
    shift
    [ "$(id -u)" -eq 0 ] || e2e_skip "needs root (live capture, servers)"
    [ -x "$LEAKSCAN" ] || e2e_fail "no leakscan binary at $LEAKSCAN (run make first)"
    need_pkgs jq iproute2 "$@" || e2e_skip "missing packages: $*"
    srv_init
    srv_defer ls_kill_leftover
    REPORT=$SRV_WORK/report.json
}

# ls_live_start FILTER [OPTION...]: start leakscan on lo with the BPF FILTER, a
# 60 s safety duration and the report in $REPORT; give it a second to open lo.
ls_live_start() {
    local filter=$1
    shift
    "$LEAKSCAN" -i lo -f "$filter" --duration 60 -o "$REPORT" "$@" \
        >"$SRV_WORK/leakscan.out" 2>"$SRV_WORK/leakscan.err" &
    LS_PID=$!
    sleep 1
    if srv_gone "$LS_PID"; then
        wait "$LS_PID" || true
        LS_PID=
        cat "$SRV_WORK/leakscan.err" >&2
        e2e_fail "leakscan exited at start"
    fi
}

# ls_live_stop: let the last packets arrive, stop leakscan with SIGINT and wait
# (15 s at most) for it to write the report.  Sets LS_RC.
ls_live_stop() {
    local i
    sleep 0.5
    kill -INT "$LS_PID" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        srv_gone "$LS_PID" && break
        sleep 0.1
    done
    if ! srv_gone "$LS_PID"; then
        kill -KILL "$LS_PID" 2>/dev/null || true
        wait "$LS_PID" 2>/dev/null || true
        LS_PID=
        e2e_fail "leakscan did not stop within 15 s of SIGINT"
    fi
    LS_RC=0
    wait "$LS_PID" || LS_RC=$?
    LS_PID=
    echo "leakscan exited $LS_RC; stderr:" >&2
    sed 's/^/    /' "$SRV_WORK/leakscan.err" >&2
    [ -s "$REPORT" ] || e2e_fail "no report written to $REPORT"
    jq -e . "$REPORT" >/dev/null || e2e_fail "the report is not valid JSON"
}

# ls_kill_leftover: at cleanup, stop a leakscan the test did not stop.
ls_kill_leftover() {
    if [ -n "$LS_PID" ]; then
        srv_kill "$LS_PID" INT
    fi
}

# e2e_ok / e2e_not_ok DESC: count and print one result.
e2e_ok() {
    E2E_PASSED=$((E2E_PASSED + 1))
    echo "ok - $1"
}

e2e_not_ok() {
    E2E_FAILED=$((E2E_FAILED + 1))
    echo "not ok - $1"
}

# check DESC JQ_FILTER: pass when JQ_FILTER's last output on the report is true.
# A failure shows the filter (without the JQ_DEFS prefix) and any jq error.
check() {
    if jq -e "$2" "$REPORT" >/dev/null 2>"$SRV_WORK/jq.err"; then
        e2e_ok "$1"
    else
        e2e_not_ok "$1"
        printf '%s\n' "${2#"$JQ_DEFS"}" | sed 's/^ */    jq: /'
        sed 's/^/    /' "$SRV_WORK/jq.err"
    fi
}

# check_rc DESC RC...: pass when leakscan's exit code is one of RC....
check_rc() {
    local desc=$1 rc
    shift
    for rc in "$@"; do
        if [ "$LS_RC" = "$rc" ]; then
            e2e_ok "$desc"
            return 0
        fi
    done
    e2e_not_ok "$desc (exit code $LS_RC)"
}

# check_absent DESC TEXT: pass when TEXT appears nowhere in the report file.
check_absent() {
    if grep -qF -- "$2" "$REPORT"; then
        e2e_not_ok "$1"
    else
        e2e_ok "$1"
    fi
}

# Report filters shared by the tests (jq function definitions, prefix a filter).
# rules_at(p): rule ids of the findings on server port p.
# finding(r; p): the findings of rule r on server port p.
# service(p): the services on port p.
# mentions(s): the input, as JSON text, contains s; mentions_word(w): contains w
# as a whole word (so user "app" is not found in "application_name").
JQ_DEFS='def rules_at(p): [.findings[] | select(.server.port == p) | .rule];
def finding(r; p): [.findings[] | select(.rule == r and .server.port == p)];
def service(p): [.services[] | select(.port == p)];
def mentions(s): tostring | contains(s);
def mentions_word(w): tostring | test("(^|[^A-Za-z0-9_])" + w + "($|[^A-Za-z0-9_])");'

# e2e_end: print the tally and, on failure, what the report holds; exit 0 or 1.
e2e_end() {
    echo "$E2E_NAME: $E2E_PASSED passed, $E2E_FAILED failed"
    if [ "$E2E_FAILED" -gt 0 ]; then
        if [ -s "$REPORT" ]; then
            echo "report summary, services and findings:"
            jq -c '.summary, (.services[]? | {ip, port, protocol, encrypted, flows}),
                   (.findings[]? | {rule, severity, server})' "$REPORT" | sed 's/^/    /'
        fi
        exit 1
    fi
    exit 0
}
