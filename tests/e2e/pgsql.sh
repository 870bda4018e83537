#!/usr/bin/env bash
# pgsql.sh - issue 3 (database detectors): live capture on lo while psql talks
# to four real PostgreSQL 15 servers (one cluster copied four times):
#   CLEAR  sslmode=disable, pg_hba `password`: the password crosses in clear
#   SCRAM  sslmode=disable, pg_hba `scram-sha-256`
#   MD5    sslmode=disable, pg_hba `md5`, password stored as md5
#   TLS    sslmode=require
# Each session logs in to database shop and runs a SELECT, an INSERT and a join.
# Fails until detectors/pgsql.c exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"

e2e_begin pgsql postgresql openssl
CLEAR=$(srv_pick_port 25400)
SCRAM=$(srv_pick_port 25500)
MD5=$(srv_pick_port 25600)
TLS=$(srv_pick_port 25700)
pgsql_start clear "$CLEAR" nowait
pgsql_start scram "$SCRAM" nowait
pgsql_start md5 "$MD5" nowait
pgsql_start tls "$TLS" nowait
srv_ready

ls_live_start "tcp port $CLEAR or tcp port $SCRAM or tcp port $MD5 or tcp port $TLS"
pgsql_drive "$CLEAR" "$PG_CLEAR_USER" "$PG_CLEAR_PASS" disable
pgsql_drive "$SCRAM" "$PG_SCRAM_USER" "$PG_SCRAM_PASS" disable
pgsql_drive "$MD5" "$PG_MD5_USER" "$PG_MD5_PASS" disable
pgsql_drive "$TLS" "$PG_SCRAM_USER" "$PG_SCRAM_PASS" require
ls_live_stop

check_rc "exit code 1 (critical and high findings)" 1
d=$JQ_DEFS
for rule in pgsql.cleartext-session pgsql.cleartext-login pgsql.cleartext-password \
            pgsql.cleartext-query; do
    check "CLEAR: $rule" "$d finding(\"$rule\"; $CLEAR) | length == 1"
done
check "CLEAR: cleartext-password is critical, one flow" \
    "$d finding(\"pgsql.cleartext-password\"; $CLEAR)[0] | .severity == \"critical\" and .flows == 1"
check "CLEAR: cleartext-login names user app_clear and database shop" \
    "$d finding(\"pgsql.cleartext-login\"; $CLEAR)[0].evidence
     | mentions_word(\"$PG_CLEAR_USER\") and mentions_word(\"shop\")"
check "CLEAR: 3 statements" "$d finding(\"pgsql.cleartext-query\"; $CLEAR)[0].occurrences >= 3"
check_absent "CLEAR: the password is not in the report" "$PG_CLEAR_PASS"
check "SCRAM: pgsql.cleartext-query" "$d finding(\"pgsql.cleartext-query\"; $SCRAM) | length == 1"
check "SCRAM: pgsql.cleartext-login names user app" \
    "$d finding(\"pgsql.cleartext-login\"; $SCRAM)[0].evidence | mentions_word(\"$PG_SCRAM_USER\")"
check "SCRAM: no password finding" \
    "$d rules_at($SCRAM) | index(\"pgsql.cleartext-password\") == null
     and index(\"pgsql.md5-password\") == null"
check "MD5: pgsql.md5-password" "$d finding(\"pgsql.md5-password\"; $MD5) | length == 1"
check "MD5: no pgsql.cleartext-password" \
    "$d finding(\"pgsql.cleartext-password\"; $MD5) | length == 0"
check "plaintext services not encrypted" \
    "$d [service($CLEAR)[], service($SCRAM)[], service($MD5)[]] | length == 3
     and all(.encrypted == false)"
check "TLS: service encrypted" "$d service($TLS) | length == 1 and all(.encrypted == true)"
check "TLS: no pgsql.cleartext-* or pgsql.md5-password finding" \
    "$d [rules_at($TLS)[] | select(startswith(\"pgsql.cleartext\") or . == \"pgsql.md5-password\")]
     | length == 0"
e2e_end
