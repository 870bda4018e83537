#!/usr/bin/env bash
# update-golden.sh - regenerate golden reports from tests/golden/LIST.
#
#   tests/tools/update-golden.sh NAME...     the named cases
#   tests/tools/update-golden.sh all         every case in LIST
#
# For each case `name  capture  [options...]` of LIST, runs
#   ./leakscan -r CAPTURE -o tests/golden/NAME.json OPTIONS --quiet
# from the repository root, as tcpdump's update-test.sh does for TESTLIST.
# Review the result with `git diff tests/golden/` like code: a golden file
# is the statement of what the scanner should say about that capture.
# Exit 0, 1 when a case failed to scan or is not in LIST, 2 on bad usage.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
list=tests/golden/LIST
if [[ $# -eq 0 ]]; then
    echo "usage: $0 NAME...|all" >&2
    exit 2
fi
if [[ ! -x ./leakscan ]]; then
    echo "update-golden: ./leakscan is not built (run make)" >&2
    exit 2
fi

declare -A want=()
for n in "$@"; do
    want[$n]=1
done
status=0
while read -r name capture opts; do
    [[ -z $name || $name == \#* ]] && continue
    [[ -n ${want[all]:-} || -n ${want[$name]:-} ]] || continue
    unset "want[$name]"
    read -r -a options <<<"$opts"
    ./leakscan -r "$capture" -o "tests/golden/$name.json" "${options[@]}" --quiet
    rc=$?
    if [[ $rc == 0 || $rc == 1 || $rc == 3 ]]; then
        echo "updated tests/golden/$name.json (exit $rc)"
    else
        echo "update-golden: $name: leakscan exited $rc" >&2
        status=1
    fi
done <"$list"
unset "want[all]"
for n in "${!want[@]}"; do
    echo "update-golden: no case '$n' in $list" >&2
    status=1
done
exit $status
