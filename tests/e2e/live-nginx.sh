#!/usr/bin/env bash
# live-nginx.sh - issue 2: live capture on lo while curl talks HTTP and HTTPS
# (TLS 1.2 and 1.3) to a real nginx.  Checks the live parts of the report: mode,
# interface, capture counters, flows, and one service in clear, one encrypted.
# Findings may or may not exist yet, so the exit code may be 0 or 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"

e2e_begin live-nginx nginx-light curl openssl
HTTP=$(srv_pick_port 28100)
HTTPS=$(srv_pick_port 28400)
nginx_start "$HTTP" "$HTTPS"

ls_live_start "tcp port $HTTP or tcp port $HTTPS"
http_drive "http://localhost:$HTTP" --resolve "localhost:$HTTP:$SRV_IP"
TLS=(--resolve "localhost:$HTTPS:$SRV_IP" --cacert "$SRV_PKI/ca.crt")
http_drive "https://localhost:$HTTPS" "${TLS[@]}" --tlsv1.2 --tls-max 1.2
http_drive "https://localhost:$HTTPS" "${TLS[@]}" --tlsv1.3
ls_live_stop

check_rc "exit code 0 or 1" 0 1
check "scan.mode is live" '.scan.mode == "live"'
check "interfaces[0].name is lo" '.scan.interfaces[0].name == "lo"'
check "capture counters (received, dropped) present" \
    '.scan.interfaces[0] | [paths(numbers) | map(tostring) | join(".")]
     | any(test("recv|received")) and any(test("drop"))'
check "summary.flows >= 2 (7 HTTP + 14 HTTPS connections)" '.summary.flows >= 2'
check "summary.packets > 0" '.summary.packets > 0'
check "service on the HTTP port, not encrypted" \
    "$JQ_DEFS service($HTTP) | length == 1 and all(.encrypted == false)"
check "service on the HTTPS port, encrypted" \
    "$JQ_DEFS service($HTTPS) | length == 1 and all(.encrypted == true)"
check "both services on 127.0.0.1 over tcp" \
    "$JQ_DEFS service($HTTP) + service($HTTPS) | all(.ip == \"127.0.0.1\" and .transport == \"tcp\")"
e2e_end
