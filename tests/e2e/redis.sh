#!/usr/bin/env bash
# redis.sh - issue 3 (database detectors): live capture on lo while redis-cli
# talks to a real Redis 7 with a password: three connections AUTH as the default
# user (SET/GET of a session token and a card number), one as ACL user app
# (AUTH app pass), one with HELLO 3 AUTH app pass.
# Fails until detectors/redis.c exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"

e2e_begin redis redis-server redis-tools
PORT=$(srv_pick_port 26300)
redis_start main "$PORT"

ls_live_start "tcp port $PORT"
redis_drive "$PORT"
ls_live_stop

check_rc "exit code 1 (critical findings)" 1
d=$JQ_DEFS
check "redis.cleartext-session" "$d finding(\"redis.cleartext-session\"; $PORT) | length == 1"
check "redis.cleartext-auth, critical" \
    "$d finding(\"redis.cleartext-auth\"; $PORT) | length == 1 and .[0].severity == \"critical\""
check "redis.cleartext-auth in all 5 flows (4 AUTH, 1 HELLO AUTH)" \
    "$d finding(\"redis.cleartext-auth\"; $PORT)[0] | .flows == 5 and .occurrences >= 5"
check "redis.cleartext-auth names the user (default or app)" \
    "$d finding(\"redis.cleartext-auth\"; $PORT)[0].evidence
     | mentions_word(\"default\") or mentions_word(\"$REDIS_ACL_USER\")"
check "service not encrypted" "$d service($PORT) | length == 1 and all(.encrypted == false)"
check_absent "the default password is not in the report" "$REDIS_PASS"
check_absent "the ACL password is not in the report" "$REDIS_ACL_PASS"
e2e_end
