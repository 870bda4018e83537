#!/usr/bin/env bash
# sweep.sh - every shared capture must scan cleanly under the sanitizers.
#
#   tests/tools/sweep.sh BIN [DIR]
#
# Runs BIN (normally build/asan/leakscan) on every capture file under DIR
# (default ../shared/pcaps), two at a time, 60 s each.  A capture passes when
# the scan exits 0, 1 (findings) or 3 (incomplete), writes a report jq can
# parse, and leaves no AddressSanitizer, LeakSanitizer or UBSan
# "runtime error" on stderr.  ASan exits 1 like a scan with findings, so
# stderr is the only reliable witness.
#
# Prints `FAIL FILE: reason` per failing capture, then
# `sweep: N captures, M failed`.  Exit 0, 1 on any failure, 2 on bad usage.
set -u

# One capture, run by xargs: prints "ok FILE" or "FAIL FILE: reason".
if [[ ${1:-} == --one ]]; then
    bin=$2 file=$3
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        timeout -k 5 60 "$bin" -r "$file" -o "$tmp/r.json" --quiet >/dev/null 2>"$tmp/err"
    rc=$?
    why=()
    case $rc in
        0 | 1 | 3) ;;
        124 | 137) why+=("timeout after 60 s") ;;
        *) why+=("exit $rc") ;;
    esac
    if ! jq -e 'type == "object"' "$tmp/r.json" >/dev/null 2>&1; then
        why+=("no parseable report")
    fi
    san=$(grep -m 1 -E 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/err")
    if [[ -n $san ]]; then
        # The SUMMARY line names the bug class and the frame; fall back to the first hit.
        summary=$(grep -m 1 '^SUMMARY:' "$tmp/err")
        why+=("${summary:-$san}")
    elif ((${#why[@]})) && [[ -s $tmp/err ]]; then
        why+=("stderr: $(tail -n 1 "$tmp/err")")
    fi
    if ((${#why[@]})); then
        IFS=';'
        echo "FAIL $file: ${why[*]}"
    else
        echo "ok $file"
    fi
    exit 0
fi

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 BIN [DIR]" >&2
    exit 2
fi
bin=$1
dir=${2:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/pcaps}
dir=${dir%/}
if [[ ! -x $bin || ! -d $dir ]] || ! command -v jq >/dev/null; then
    echo "sweep: needs an executable $bin, a directory $dir and jq" >&2
    exit 2
fi

results=$(find -L "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
              -o -name '*.trace' -o -name '*.dump' -o -name '*.erf' \) -print0 |
          sort -z |
          xargs -0 -r -n 1 -P 2 bash "$0" --one "$bin")
total=$(grep -c -E '^(ok|FAIL) ' <<<"$results")
failed=$(grep -c '^FAIL ' <<<"$results")
grep '^FAIL ' <<<"${results//"FAIL $dir/"/FAIL }"
echo "sweep: $total captures, $failed failed"
((total > 0 && failed == 0))
