#!/usr/bin/env bash
# mysql.sh - issue 3 (database detectors): live capture on lo while the mariadb
# client talks to three real MariaDB servers:
#   PLAIN   offers TLS; users app and report log in with --skip-ssl and query
#   TLS     the app session with TLS 1.2 and 1.3, CA-verified
#   STRICT  require_secure_transport=ON: a --skip-ssl client is refused, a TLS
#           client gets in
# Expects the cleartext MySQL rules on PLAIN (with the users, two logins and two
# flows), none on TLS, and no query or result-set finding on STRICT.
# Fails until detectors/mysql.c exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"

e2e_begin mysql mariadb-server mariadb-client openssl
PLAIN=$(srv_pick_port 23400)
TLS=$(srv_pick_port 23500)
STRICT=$(srv_pick_port 23600)
mariadb_start plain "$PLAIN" tls nowait
mariadb_start tls "$TLS" tls nowait
mariadb_start strict "$STRICT" require-tls nowait
srv_ready
VERIFY=(--ssl-ca="$SRV_PKI/ca.crt" --ssl-verify-server-cert)

ls_live_start "tcp port $PLAIN or tcp port $TLS or tcp port $STRICT"
mariadb_drive "$PLAIN" --skip-ssl
mariadb_report_drive "$PLAIN" --skip-ssl
mariadb_drive "$TLS" "${VERIFY[@]}" --tls-version=TLSv1.2
mariadb_drive "$TLS" "${VERIFY[@]}" --tls-version=TLSv1.3
if mariadb_drive "$STRICT" --skip-ssl 2>/dev/null; then
    e2e_fail "the STRICT server accepted a plaintext client"
fi
mariadb_drive "$STRICT" "${VERIFY[@]}"
ls_live_stop

check_rc "exit code 1 (high and critical findings)" 1
d=$JQ_DEFS
for rule in mysql.cleartext-session mysql.tls-not-enforced mysql.cleartext-login \
            mysql.cleartext-query mysql.cleartext-resultset; do
    check "PLAIN: $rule" "$d finding(\"$rule\"; $PLAIN) | length == 1"
done
check "PLAIN: cleartext-session on server 127.0.0.1, 2 flows" \
    "$d finding(\"mysql.cleartext-session\"; $PLAIN)[0] | .server.ip == \"127.0.0.1\" and .flows == 2"
check "PLAIN: cleartext-login names users app and report" \
    "$d finding(\"mysql.cleartext-login\"; $PLAIN)[0].evidence
     | mentions_word(\"$MARIADB_APP_USER\") and mentions_word(\"$MARIADB_REPORT_USER\")"
check "PLAIN: cleartext-login in both flows" \
    "$d finding(\"mysql.cleartext-login\"; $PLAIN)[0] | .occurrences >= 2 and .flows == 2"
check "PLAIN: at least 7 statements (COM_INIT_DB and COM_QUERY)" \
    "$d finding(\"mysql.cleartext-query\"; $PLAIN)[0].occurrences >= 7"
check "PLAIN: no mysql.cleartext-password (native password is hashed)" \
    "$d finding(\"mysql.cleartext-password\"; $PLAIN) | length == 0"
check "PLAIN: service MySQL, not encrypted" \
    "$d service($PLAIN) | length == 1 and all(.encrypted == false)"
check "TLS: service encrypted" "$d service($TLS) | length == 1 and all(.encrypted == true)"
check "TLS: no mysql.* finding" \
    "$d [rules_at($TLS)[] | select(startswith(\"mysql.\"))] | length == 0"
check "TLS: no pii.* finding" "$d [rules_at($TLS)[] | select(startswith(\"pii.\"))] | length == 0"
check "STRICT: no mysql.cleartext-query, -resultset or tls-not-enforced" \
    "$d rules_at($STRICT) | index(\"mysql.cleartext-query\") == null
     and index(\"mysql.cleartext-resultset\") == null and index(\"mysql.tls-not-enforced\") == null"
check_absent "no password in the report" "$MARIADB_APP_PASS"
e2e_end
