#!/usr/bin/env bash
# tests/run.sh - the whole test suite, one result line per test.
#
#   make test                  builds everything, then runs this
#   TESTS=pgsql bash tests/run.sh    only tests whose name contains "pgsql"
#
# In order:
#   unit/rel/<t>, unit/asan/<t>   each unit binary of build/rel/tests and
#                                 build/asan/tests (ASan + UBSan, leaks on)
#   golden/<name>                 each case of tests/golden/LIST: scan with
#                                 build/rel/leakscan, compare with golden_cmp
#   fuzz/<target>                 build/asan/fuzz/<target> replays
#                                 tests/fuzz/corpus/<target>/ and tests/fuzz/regress/
#   sweep                         build/asan/leakscan over every capture of
#                                 ../shared/pcaps (tests/tools/sweep.sh)
#   manifest/<capture>            tests/tools/manifest-check.sh with the
#                                 families of tests/manifest-families
#   e2e/<name>                    each tests/e2e/*.sh with LEAKSCAN=./leakscan
#                                 (exit 0 pass, 77 skip, else fail)
#
# Each result is `PASS name`, `FAIL name` followed by the end of its output,
# indented, or `SKIP name (reason)`; the last line is
# `N passed, N failed, N skipped`.  Exit 1 when anything failed.  With CI=true
# a missing build product or an e2e skip is a failure: CI must run it all.
# The shared captures are optional (a bare clone has none): without
# ../shared/pcaps, sweep and manifest are skipped, in CI too.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
pcaps=${LEAKSCAN_PCAPS:-../shared/pcaps}
ci=${CI:-}
san_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
         UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
SAN_PATTERN='AddressSanitizer|LeakSanitizer|runtime error'
TAIL_LINES=25

npass=0 nfail=0 nskip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

selected() {
    [[ -z ${TESTS:-} || $1 == *"$TESTS"* ]]
}

pass() {
    echo "PASS $1"
    npass=$((npass + 1))
}

# excerpt LOG: the lines that say why.  A sanitizer report is shown from
# its first line (the stack), not its end (the shadow-byte legend).
excerpt() {
    local at
    at=$(grep -n -m 1 -E '^==[0-9]+==ERROR: |^[^ ]+:[0-9]+:[0-9]+: runtime error' "$1" | cut -d: -f1)
    if [[ -z $at ]]; then
        tail -n "$TAIL_LINES" "$1"
        return
    fi
    sed -n "$((at > 8 ? at - 8 : 1)),$((at + TAIL_LINES - 8))p" "$1"
    tail -n +$((at + TAIL_LINES - 7)) "$1" | grep -E '^SUMMARY: |^onefile: |^\((exit|killed|timed)'
}

# fail NAME [LOG]: the excerpt of LOG, indented, says why.
fail() {
    echo "FAIL $1"
    if [[ -n ${2:-} && -s $2 ]]; then
        excerpt "$2" | sed 's/^/    /'
    fi
    nfail=$((nfail + 1))
}

# note_exit RC SECONDS: appends to the log how a failed command ended.
note_exit() {
    if (($1 == 124)); then
        echo "(timed out after $2 s)" >>"$log"
    elif (($1 > 128)); then
        echo "(killed by signal $(($1 - 128)))" >>"$log"
    elif (($1 != 0)); then
        echo "(exit $1)" >>"$log"
    fi
}

skip() {
    echo "SKIP $1 ($2)"
    nskip=$((nskip + 1))
}

# A build product is missing: only a developer running this by hand may skip.
missing() {
    if [[ $ci == true ]]; then
        echo "$2 (CI must build everything: make test)" >"$log"
        fail "$1" "$log"
    else
        skip "$1" "$2; run make test"
    fi
}

# run NAME SECONDS SANITIZED CMD...: one test from its exit status; a
# sanitized run also fails on any sanitizer report in its output.
run() {
    local name=$1 secs=$2 sanitized=$3 rc
    shift 3
    # The braces also catch bash's own "Segmentation fault" line.
    { timeout -k 5 "$secs" "$@" </dev/null; } >"$log" 2>&1
    rc=$?
    note_exit "$rc" "$secs"
    if [[ $rc == 0 ]] && ! { [[ $sanitized == 1 ]] && grep -q -E "$SAN_PATTERN" "$log"; }; then
        pass "$name"
    else
        fail "$name" "$log"
    fi
}

unit_tests() {
    local kind=$1 sanitized=0 t
    local -a env=()
    if [[ $kind == asan ]]; then
        env=("${san_env[@]}")
        sanitized=1
    fi
    if ! compgen -G "build/$kind/tests/test_*" >/dev/null; then
        compgen -G "tests/unit/test_*.c" >/dev/null && selected "unit/$kind/" &&
            missing "unit/$kind" "no build/$kind/tests/test_*"
        return
    fi
    for t in "build/$kind/tests"/test_*; do
        [[ -x $t && $t != *.d && $t != *.o ]] || continue
        selected "unit/$kind/${t##*/}" || continue
        run "unit/$kind/${t##*/}" 300 "$sanitized" env "${env[@]}" "$t"
    done
}

golden_tests() {
    local name capture opts out rc
    local -a options
    while read -r name capture opts; do
        [[ -z $name || $name == \#* ]] && continue
        selected "golden/$name" || continue
        if [[ ! -x build/rel/leakscan || ! -x build/rel/tools/golden_cmp ]]; then
            missing "golden/$name" "no build/rel/leakscan or build/rel/tools/golden_cmp"
            continue
        fi
        if [[ ! -f tests/golden/$name.json ]]; then
            echo "tests/golden/$name.json is missing: run tests/tools/update-golden.sh $name" \
                 "and review the report" >"$log"
            fail "golden/$name" "$log"
            continue
        fi
        read -r -a options <<<"$opts"
        out=$tmp/golden.json
        rm -f "$out"
        { timeout -k 5 60 build/rel/leakscan -r "$capture" -o "$out" "${options[@]}" --quiet \
              </dev/null; } >"$log" 2>&1
        rc=$?
        if [[ $rc != 0 && $rc != 1 && $rc != 3 ]]; then
            note_exit "$rc" 60
            fail "golden/$name" "$log"
        elif build/rel/tools/golden_cmp "tests/golden/$name.json" "$out" >"$log" 2>&1; then
            pass "golden/$name"
        else
            echo "(if intended: tests/tools/update-golden.sh $name, then review the diff)" >>"$log"
            fail "golden/$name" "$log"
        fi
    done <tests/golden/LIST
}

fuzz_tests() {
    local bin target
    local -a inputs
    if ! compgen -G "build/asan/fuzz/fuzz_*" >/dev/null; then
        compgen -G "tests/fuzz/fuzz_*.c" >/dev/null && selected "fuzz/" &&
            missing "fuzz" "no build/asan/fuzz/fuzz_*"
        return
    fi
    for bin in build/asan/fuzz/fuzz_*; do
        [[ -x $bin && $bin != *.d && $bin != *.o ]] || continue
        target=${bin##*/}
        selected "fuzz/$target" || continue
        inputs=()
        [[ -d tests/fuzz/corpus/$target ]] && inputs+=("tests/fuzz/corpus/$target")
        [[ -d tests/fuzz/regress ]] && inputs+=(tests/fuzz/regress)
        if ((${#inputs[@]} == 0)); then
            skip "fuzz/$target" "no tests/fuzz/corpus/$target or tests/fuzz/regress"
            continue
        fi
        run "fuzz/$target" 600 1 env "${san_env[@]}" "$bin" "${inputs[@]}"
    done
}

sweep_test() {
    selected sweep || return
    if [[ ! -d $pcaps ]]; then
        skip sweep "no $pcaps"
    elif [[ ! -x build/asan/leakscan ]]; then
        missing sweep "no build/asan/leakscan"
    else
        run sweep 1800 0 bash tests/tools/sweep.sh build/asan/leakscan "$pcaps"
    fi
}

manifest_tests() {
    local f line rc
    local -a families=() only=()
    if [[ ! -r $pcaps/MANIFEST.tsv ]]; then
        selected manifest/ && skip manifest "no $pcaps/MANIFEST.tsv"
        return
    fi
    # Under TESTS, scan only the captures whose test name matches.
    if [[ -n ${TESTS:-} ]]; then
        while IFS=$'\t' read -r f _; do
            selected "manifest/$f" && only+=(-f "$f")
        done < <(tail -n +2 "$pcaps/MANIFEST.tsv")
        ((${#only[@]})) || return
    fi
    if [[ ! -x build/rel/leakscan ]]; then
        missing manifest "no build/rel/leakscan"
        return
    fi
    if [[ -r tests/manifest-families ]]; then
        mapfile -t families < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' \
                                    tests/manifest-families)
    fi
    bash tests/tools/manifest-check.sh -b build/rel/leakscan -d "$pcaps" "${only[@]}" \
        "${families[@]}" >"$tmp/manifest" 2>&1 </dev/null
    rc=$?
    if [[ $rc != 0 && $rc != 1 ]]; then
        fail manifest "$tmp/manifest"
        return
    fi
    while read -r line; do
        case $line in
            "ok "*) pass "manifest/${line#ok }" ;;
            "FAIL "*)
                echo "${line#*: }" >"$log"
                line=${line#FAIL }
                fail "manifest/${line%%: *}" "$log"
                ;;
        esac
    done <"$tmp/manifest"
}

e2e_tests() {
    local t name rc reason
    for t in tests/e2e/*.sh; do
        [[ -f $t ]] || continue
        name=e2e/$(basename "$t" .sh)
        selected "$name" || continue
        if [[ ! -x ./leakscan ]]; then
            missing "$name" "no ./leakscan"
            continue
        fi
        { LEAKSCAN=./leakscan timeout -k 10 600 bash "$t" </dev/null; } >"$log" 2>&1
        rc=$?
        if [[ $rc == 0 ]]; then
            pass "$name"
        elif [[ $rc == 77 && $ci != true ]]; then
            reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
            skip "$name" "${reason:-exit 77}"
        else
            [[ $rc == 77 ]] && echo "(an e2e test may not skip in CI)" >>"$log"
            note_exit "$rc" 600
            fail "$name" "$log"
        fi
    done
}

unit_tests rel
unit_tests asan
golden_tests
fuzz_tests
sweep_test
manifest_tests
e2e_tests

echo "$npass passed, $nfail failed, $nskip skipped"
((nfail == 0))
