#!/usr/bin/env bash
# http.sh - issue 4 (HTTP, tokens, secrets): live capture on lo while curl sends
# the same seven requests to a real nginx over HTTP and over HTTPS (TLS 1.2 and
# 1.3): a static page, Basic auth alice, a login form POST answered with a session
# Set-Cookie, a PHPSESSID cookie, a Bearer JWT, an api_key in the URL, a JSON
# password.  Expects the http.* and secret rules on the HTTP port, never a
# password in the report, and no cleartext finding on the HTTPS port.
# Fails until detectors/http.c exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"

e2e_begin http nginx-light curl openssl
HTTP=$(srv_pick_port 28200)
HTTPS=$(srv_pick_port 28500)
nginx_start "$HTTP" "$HTTPS"

ls_live_start "tcp port $HTTP or tcp port $HTTPS"
http_drive "http://localhost:$HTTP" --resolve "localhost:$HTTP:$SRV_IP"
TLS=(--resolve "localhost:$HTTPS:$SRV_IP" --cacert "$SRV_PKI/ca.crt")
http_drive "https://localhost:$HTTPS" "${TLS[@]}" --tlsv1.2 --tls-max 1.2
http_drive "https://localhost:$HTTPS" "${TLS[@]}" --tlsv1.3
ls_live_stop

check_rc "exit code 1 (critical findings)" 1
d=$JQ_DEFS
for rule in http.cleartext http.basic-auth http.session-cookie http.insecure-set-cookie \
            http.form-password http.url-credential; do
    check "HTTP: $rule" "$d finding(\"$rule\"; $HTTP) | length == 1"
done
check "HTTP: secret.jwt or http.bearer-token" \
    "$d rules_at($HTTP) | index(\"secret.jwt\") != null or index(\"http.bearer-token\") != null"
check "HTTP: basic-auth names user alice" \
    "$d finding(\"http.basic-auth\"; $HTTP)[0].evidence | mentions(\"$HTTP_USER\")"
check "HTTP: form-password seen in the form and the JSON body" \
    "$d finding(\"http.form-password\"; $HTTP)[0].occurrences >= 2"
check "HTTP: service not encrypted" "$d service($HTTP) | length == 1 and all(.encrypted == false)"
check "HTTPS: service encrypted" "$d service($HTTPS) | length == 1 and all(.encrypted == true)"
check "HTTPS: no http.*, secret.* or pii.* finding" \
    "$d [rules_at($HTTPS)[] | select(test(\"^(http|secret|pii)[.]\"))] | length == 0"
BASIC64=$(printf '%s:%s' "$HTTP_USER" "$HTTP_BASIC_PASS" | openssl base64 -A)
for secret in "$HTTP_BASIC_PASS" "$BASIC64" "$HTTP_FORM_PASS" "$HTTP_JSON_PASS" \
              "$HTTP_PHPSESSID" "$HTTP_SET_SESSION" "$HTTP_API_KEY" "$(http_jwt)"; do
    check_absent "secret ${secret:0:4}... is not in the report" "$secret"
done
e2e_end
