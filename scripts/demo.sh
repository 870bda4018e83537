#!/usr/bin/env bash
# demo.sh - scan a bundled sample capture and show what leakscan found (`make demo`).
#
# Scans samples/http-plain.pcap (else the first samples/*.pcap) into a fresh report file
# under ${TMPDIR:-/tmp} (build/demo-report.json if that is not writable), lets leakscan
# print its summary, then prints the report's path. Findings are expected here, so exit
# status 1 (findings at or above --fail-on) counts as success; any other failure is
# passed on.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pcap=samples/http-plain.pcap
if [ ! -f "$pcap" ]; then
  pcap=
  for f in samples/*.pcap; do
    if [ -f "$f" ]; then pcap=$f; break; fi
  done
fi
if [ -z "$pcap" ]; then
  echo "demo: no capture in samples/ (samples/record.sh makes them)" >&2
  exit 2
fi
[ -x ./leakscan ] || { echo "demo: ./leakscan is not built (run make)" >&2; exit 2; }

report=$(mktemp --suffix=.json "${TMPDIR:-/tmp}/leakscan-demo.XXXXXX" 2>/dev/null) || {
  mkdir -p build && report=build/demo-report.json
}

echo "demo: ./leakscan -r $pcap -o $report" >&2
./leakscan -r "$pcap" -o "$report"
rc=$?
case $rc in
  0) echo "demo: no findings (exit 0)" ;;
  1) echo "demo: findings reported, as expected for this sample (exit 1)" ;;
  *) echo "demo: leakscan failed (exit $rc)" >&2; exit "$rc" ;;
esac
echo "report: $report"
