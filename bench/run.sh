#!/usr/bin/env bash
# bench/run.sh - leakscan's throughput and peak memory against the libpcap read floor.
#
#   make bench                      bench/data/bench-1g.pcap, best of 5
#   make bench BENCH_SIZE=64m       the 64 MiB slice
#   BENCH_FILE=x.pcap BENCH_RUNS=5 bash bench/run.sh
#   BENCH_SETS=0 ...                leakscan with every detector only (no detector sets)
#
# Besides every detector, leakscan runs with three detector sets (--detectors):
# all but the database ones, none, and the database ones only; the last line
# prices the database detectors as lost throughput both ways.
#
# The floor is ../shared/bench/floor/pcap_floor.c: it reads every packet with libpcap and
# touches every byte, so no reader of packet contents through libpcap can be faster;
# `pcap_floor -H` touches one byte per packet, the floor of any libpcap reader at all.
# Runs alternate between the tools so that a change of machine load hits them all, and
# each tool's best run counts. Wall time is taken around the process (start-up included,
# for every tool alike); peak RSS comes from /usr/bin/time. Packets and captured bytes
# are the floor's own counts; Gbit/s is captured bytes * 8 / seconds.
# When the default captures are missing they are generated (needs root; a few minutes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=$(dirname "$ROOT")/shared/bench
cd "$ROOT"

RUNS=${BENCH_RUNS:-5}
FILE=${BENCH_FILE:-bench/data/bench-${BENCH_SIZE:-1g}.pcap}
OUT=build/bench
FLOOR=$OUT/pcap_floor
# the packages make-workload.sh lists at its top
WORKLOAD_DEPS=(nginx-light mariadb-server mariadb-client curl tcpdump tshark wireshark-common
               tcpreplay ethtool openssl iproute2 util-linux)

die() { echo "bench: $*" >&2; exit 2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[ -x ./leakscan ] || die "./leakscan is not built (make bench builds it)"
[ -x /usr/bin/time ] || bash scripts/bootstrap.sh install time ||
  die "/usr/bin/time is needed (Debian package 'time')"

mkdir -p "$OUT"
if [ ! -x "$FLOOR" ] || [ "$KIT/floor/pcap_floor.c" -nt "$FLOOR" ]; then
  # shellcheck disable=SC2046  # pkg-config prints several words
  cc -O2 -g -o "$FLOOR" "$KIT/floor/pcap_floor.c" $(pkg-config --cflags --libs libpcap)
fi

if [ ! -f "$FILE" ]; then
  [ -z "${BENCH_FILE:-}" ] || die "$FILE: no such file"
  case ${BENCH_SIZE:-1g} in 1g | 64m) ;; *) die "BENCH_SIZE is 1g or 64m" ;; esac
  [ "$EUID" -eq 0 ] || die "$FILE is missing; generating it needs root: sudo make bench"
  bash scripts/bootstrap.sh install "${WORKLOAD_DEPS[@]}"
  echo "bench: generating the workload into bench/data (a few minutes)" >&2
  DATA=bench/data "$KIT/make-workload.sh"
fi

# run_one NAME CMD...: run CMD once, add "seconds rss_kib" to $OUT/NAME.times.
# stdout goes to $OUT/NAME.out; exit status 1 (findings) and 3 (incomplete) are not errors.
run_one() {
  local name=$1 t0 t1 rc=0
  shift
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$OUT/$name.rss" "$@" >"$OUT/$name.out" || rc=$?
  t1=$EPOCHREALTIME
  case $rc in
    0 | 1) ;;
    3) INCOMPLETE=1 ;;
    *) die "$name exited $rc: $*" ;;
  esac
  echo "$t0 $t1 $(tail -n 1 "$OUT/$name.rss")" | awk '{ printf "%.6f %d\n", $2 - $1, $3 }' \
    >>"$OUT/$name.times"
}

# Detector sets, to price the database detectors (issue 3: at most 10% of
# throughput).  The database detectors read the MySQL quarter of the workload;
# without them those flows are classified and counted, nothing more (the
# plain-text detector leaves flows of a known protocol alone).
DB_DETECTORS=mysql,pgsql,redis,tds,mongodb,elasticsearch,oracle
OTHER_DETECTORS=$(./leakscan --list-detectors | grep -v -x -F "${DB_DETECTORS//,/$'\n'}" |
                  paste -s -d ,)
[ "${BENCH_SETS:-1}" = 0 ] || SETS=1

INCOMPLETE=0
rm -f "$OUT"/*.times
cat "$FILE" >/dev/null   # the first run should not pay for reading the disk
for ((i = 1; i <= RUNS; i++)); do
  run_one floor "$FLOOR" "$FILE"
  run_one floor-H "$FLOOR" -H "$FILE"
  run_one leakscan ./leakscan -r "$FILE" -o "$OUT/report.json" --quiet
  if [ -n "${SETS:-}" ]; then
    run_one no-db ./leakscan -r "$FILE" -o "$OUT/report-nodb.json" --quiet \
      --detectors "$OTHER_DETECTORS"
    run_one none ./leakscan -r "$FILE" -o "$OUT/report-none.json" --quiet --detectors none
    run_one db-only ./leakscan -r "$FILE" -o "$OUT/report-db.json" --quiet \
      --detectors "$DB_DETECTORS"
  fi
done

read -r PKTS BYTES < <(sed -n 's/^packets=\([0-9]*\) bytes=\([0-9]*\) .*/\1 \2/p' "$OUT/floor.out")
[ -n "${PKTS:-}" ] || die "cannot read the floor's output: $(cat "$OUT/floor.out")"
best() { sort -n "$OUT/$1.times" | head -n 1; }   # "seconds rss" of the fastest run

echo "bench: $FILE, $(stat -c %s "$FILE") bytes, $PKTS packets ($BYTES captured bytes)," \
     "best of $RUNS, $(nproc) CPUs"
read -r FLOOR_S _ < <(best floor)
TOOLS=(floor floor-H leakscan)
[ -z "${SETS:-}" ] || TOOLS+=(no-db none db-only)
for tool in "${TOOLS[@]}"; do
  read -r s rss < <(best "$tool")
  echo "$tool $s $rss"
done | awk -v p="$PKTS" -v b="$BYTES" -v f="$FLOOR_S" '
  BEGIN { printf "%-30s %9s %12s %8s %9s %13s\n", "tool", "seconds", "packets/s", "Gbit/s",
                 "vs floor", "peak RSS MiB" }
  { name = ($1 == "floor") ? "pcap_floor" : ($1 == "floor-H") ? "pcap_floor -H" :
           ($1 == "no-db") ? "leakscan, all but DB detectors" :
           ($1 == "none") ? "leakscan --detectors none" :
           ($1 == "db-only") ? "leakscan, DB detectors only" : $1
    t[$1] = $2
    printf "%-30s %9.3f %12.0f %8.3f %8.2fx %13.1f\n", name, $2, p / $2, b * 8 / $2 / 1e9,
           f / $2, $3 / 1024 }
  END { if ("db-only" in t) {
          printf "database detectors: -%.1f%% throughput with every other detector on " \
                 "(all vs all but DB), -%.1f%% on their own (DB only vs none)\n",
                 100 * (1 - t["no-db"] / t["leakscan"]), 100 * (1 - t["none"] / t["db-only"]) } }'

R=$OUT/report.json
if command -v jq >/dev/null; then
  echo "leakscan summary: $(jq -c '(.summary | with_entries(select(.value | type
    | . != "object" and . != "array"))) + {complete: .scan.complete}' "$R")"
else
  echo "leakscan summary: $(grep -o '"\(packets\|bytes\|flows\|[a-z_]*_flows\)": *[0-9]*' "$R" |
    head -n 8 | tr -d ' "' | tr '\n' ' ')"
fi
echo "report: $R"
if [ "$INCOMPLETE" = 1 ]; then
  echo "bench: leakscan reported the scan incomplete (exit 3): see .scan in the report" >&2
  exit 3
fi
