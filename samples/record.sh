#!/usr/bin/env bash
# record.sh - record the sample captures in samples/ from real servers and clients.
#
#   samples/record.sh                 record every sample
#   samples/record.sh mysql-tls ...   (re)record only these (names without .pcap)
#   samples/record.sh --list          print the sample names
#
# Each sample is recorded by a fresh copy of this script inside its own private
# network namespace (unshare -n), where only lo exists, at its default MTU: the
# servers of tests/lib/servers.sh listen on 127.0.0.1 at the standard ports (or
# the odd port the sample is about), the Debian clients talk to them and tcpdump
# writes the capture.  Nothing leaves the machine.  The content is fixed (see
# "Fixed test data" in tests/lib/servers.sh); times, client ports, TLS keys and
# certificates change on every recording.  A capture replaces the one in samples/
# only when its recording succeeded.  samples/README.md says what each contains.
#
# Needs root and the packages need_pkgs installs (Debian 12): SRV_PKGS, plus
# what sample_pkgs names for the FTP, mail, LDAP, SNMP, telnet, IRC, XMPP, SOCKS
# and rsh samples.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=../tests/lib/servers.sh
source "$ROOT/tests/lib/servers.sh"

SAMPLES=(http-plain https mysql-plain mysql-tls mysql-require-tls mysql-port
         pgsql-password pgsql-scram pgsql-md5 pgsql-tls redis-auth
         tls-versions tls-legacy tls-expired tls-selfsigned ftp pop3-imap smtp ldap snmp telnet
         irc xmpp socks rsh)

log() { printf '[record %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# sample_pkgs NAME: the Debian packages a sample needs besides SRV_PKGS.
sample_pkgs() {
    case $1 in
        ftp)       echo vsftpd lftp ;;
        pop3-imap) echo dovecot-imapd dovecot-pop3d python3 ;;
        smtp)      echo python3 python3-aiosmtpd ;;
        ldap)      echo slapd ldap-utils ;;
        snmp)      echo snmpd snmp ;;
        telnet)    echo inetutils-telnetd inetutils-inetd python3 ;;
        irc)       echo ngircd sic ;;
        xmpp)      echo prosody sendxmpp ;;
        socks)     echo dante-server ;;
        rsh)       echo rsh-server rsh-client inetutils-inetd python3 ;;
    esac
}

# ---------------------------------------------------------------- one function per sample
# Each runs in the namespace with SRV_WORK set, and writes $SRV_WORK/out.pcap.

rec_http_plain() {
    nginx_start 80 443
    cap_start "$SRV_WORK/out.pcap" 'tcp port 80'
    http_drive http://localhost --resolve "localhost:80:$SRV_IP"
    cap_stop
}

rec_https() {
    nginx_start 80 443
    local tls=(--resolve "localhost:443:$SRV_IP" --cacert "$SRV_PKI/ca.crt")
    cap_start "$SRV_WORK/out.pcap" 'tcp port 443'
    http_drive https://localhost "${tls[@]}" --tlsv1.2 --tls-max 1.2
    http_drive https://localhost "${tls[@]}" --tlsv1.3
    cap_stop
}

rec_mysql_plain() {
    mariadb_start main 3306 tls
    cap_start "$SRV_WORK/out.pcap" 'tcp port 3306'
    mariadb_drive 3306 --skip-ssl
    mariadb_report_drive 3306 --skip-ssl
    cap_stop
}

rec_mysql_tls() {
    mariadb_start main 3306 tls
    local tls=(--ssl-ca="$SRV_PKI/ca.crt" --ssl-verify-server-cert)
    cap_start "$SRV_WORK/out.pcap" 'tcp port 3306'
    mariadb_drive 3306 "${tls[@]}" --tls-version=TLSv1.2
    mariadb_drive 3306 "${tls[@]}" --tls-version=TLSv1.3
    cap_stop
}

rec_mysql_require_tls() {
    mariadb_start strict 3306 require-tls
    cap_start "$SRV_WORK/out.pcap" 'tcp port 3306'
    if mariadb_drive 3306 --skip-ssl 2>"$SRV_WORK/refused.err"; then
        log "the plaintext client was not refused"
        return 1
    fi
    log "plaintext client refused: $(cat "$SRV_WORK/refused.err")"
    mariadb_drive 3306 --ssl-ca="$SRV_PKI/ca.crt" --ssl-verify-server-cert
    cap_stop
}

rec_mysql_port() {
    mariadb_start odd 24406
    cap_start "$SRV_WORK/out.pcap" 'tcp port 24406'
    mariadb_drive 24406 --skip-ssl
    cap_stop
}

rec_pgsql_password() {
    pgsql_start main 5432
    cap_start "$SRV_WORK/out.pcap" 'tcp port 5432'
    pgsql_drive 5432 "$PG_CLEAR_USER" "$PG_CLEAR_PASS" disable
    cap_stop
}

rec_pgsql_scram() {
    pgsql_start main 5432
    cap_start "$SRV_WORK/out.pcap" 'tcp port 5432'
    pgsql_drive 5432 "$PG_SCRAM_USER" "$PG_SCRAM_PASS" disable
    cap_stop
}

rec_pgsql_md5() {
    pgsql_start main 5432
    cap_start "$SRV_WORK/out.pcap" 'tcp port 5432'
    pgsql_drive 5432 "$PG_MD5_USER" "$PG_MD5_PASS" disable
    cap_stop
}

rec_pgsql_tls() {
    pgsql_start main 5432
    cap_start "$SRV_WORK/out.pcap" 'tcp port 5432'
    pgsql_drive 5432 "$PG_SCRAM_USER" "$PG_SCRAM_PASS" require
    cap_stop
}

rec_redis_auth() {
    redis_start main 6379
    cap_start "$SRV_WORK/out.pcap" 'tcp port 6379'
    redis_drive 6379
    cap_stop
}

rec_tls_versions() {
    nginx_start 80 443
    local c=(--resolve "localhost:443:$SRV_IP" --cacert "$SRV_PKI/ca.crt")
    local u=https://localhost/index.html
    cap_start "$SRV_WORK/out.pcap" 'tcp port 443'
    tls_curl "$u" 'TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384' "${c[@]}" --tlsv1.2 --tls-max 1.2
    tls_curl "$u" 'TLSv1.2 / ECDHE-RSA-CHACHA20-POLY1305' "${c[@]}" --tlsv1.2 --tls-max 1.2 \
        --ciphers ECDHE-RSA-CHACHA20-POLY1305
    tls_curl "$u" 'TLSv1.3 / TLS_AES_256_GCM_SHA384' "${c[@]}" --tlsv1.3
    tls_curl "$u" 'TLSv1.3 / TLS_CHACHA20_POLY1305_SHA256' "${c[@]}" --tlsv1.3 \
        --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
    cap_stop
}

rec_tls_legacy() {
    nginx_start 80 443 server legacy
    local v=(-CAfile "$SRV_PKI/ca.crt" -verify_return_error)
    cap_start "$SRV_WORK/out.pcap" 'tcp port 443'
    tls_sclient 443 'TLSv1 ECDHE-RSA-AES256-SHA' "${v[@]}" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
    tls_sclient 443 'TLSv1.1 ECDHE-RSA-AES256-SHA' "${v[@]}" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
    tls_sclient 443 'TLSv1.2 NULL-SHA256' "${v[@]}" -tls1_2 -cipher 'NULL-SHA256:@SECLEVEL=0'
    tls_sclient 443 'TLSv1.2 AECDH-AES128-SHA' -tls1_2 -cipher 'AECDH-AES128-SHA:@SECLEVEL=0'
    cap_stop
}

rec_tls_expired() {
    nginx_start 80 443 expired
    cap_start "$SRV_WORK/out.pcap" 'tcp port 443'
    tls_curl https://localhost/index.html 'TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384' \
        --resolve "localhost:443:$SRV_IP" -k --tlsv1.2 --tls-max 1.2
    cap_stop
}

rec_tls_selfsigned() {
    nginx_start 80 443 selfsigned
    cap_start "$SRV_WORK/out.pcap" 'tcp port 443'
    tls_curl https://localhost/index.html 'TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384' \
        --resolve "localhost:443:$SRV_IP" -k --tlsv1.2 --tls-max 1.2
    cap_stop
}

rec_ftp() {
    ftp_start 21
    cap_start "$SRV_WORK/out.pcap" "tcp port 21 or tcp portrange $FTP_PASV_MIN-$FTP_PASV_MAX"
    ftp_drive 21
    cap_stop
}

rec_pop3_imap() {
    dovecot_start 110 143
    cap_start "$SRV_WORK/out.pcap" 'tcp port 110 or tcp port 143'
    mail_drive 110 143
    cap_stop
}

rec_ldap() {
    ldap_start 389
    cap_start "$SRV_WORK/out.pcap" 'tcp port 389'
    ldap_drive 389
    cap_stop
}

rec_snmp() {
    snmp_start 161
    cap_start "$SRV_WORK/out.pcap" 'udp port 161'
    snmp_drive 161
    cap_stop
}

rec_smtp() {
    smtp_start 587
    cap_start "$SRV_WORK/out.pcap" 'tcp port 587'
    smtp_drive 587
    cap_stop
}

rec_telnet() {
    telnet_start 23
    cap_start "$SRV_WORK/out.pcap" 'tcp port 23'
    telnet_drive 23
    cap_stop
}

rec_irc() {
    irc_start 6667 6697
    cap_start "$SRV_WORK/out.pcap" 'tcp port 6667 or tcp port 6697'
    irc_drive 6667 6697
    cap_stop
}

rec_xmpp() {
    xmpp_start 5222
    cap_start "$SRV_WORK/out.pcap" 'tcp port 5222'
    xmpp_drive 5222
    cap_stop
}

rec_socks() {
    nginx_start 80 443
    socks_start 1080
    cap_start "$SRV_WORK/out.pcap" 'tcp port 1080'
    socks_drive 1080 80
    cap_stop
}

rec_rsh() {
    rsh_start
    cap_start "$SRV_WORK/out.pcap" 'tcp port 512 or tcp port 513 or tcp port 514'
    rsh_drive
    cap_stop
}

# ---------------------------------------------------------------- driver

# inner WORK NAME: inside the namespace: bring lo up and record one sample.
inner() {
    local work=$1 name=$2
    ip link set lo up
    export SRV_PKI=$work/pki SRV_CACHE=$work/cache
    srv_init "$work/$name"
    "rec_${name//-/_}"
}

# known NAME: true when NAME is a sample this script records.
known() {
    local s
    for s in "${SAMPLES[@]}"; do
        [ "$s" = "$1" ] && return 0
    done
    return 1
}

main() {
    local names=("$@") n failed=() extra=()
    [ ${#names[@]} -gt 0 ] || names=("${SAMPLES[@]}")
    for n in "${names[@]}"; do
        known "$n" || { echo "record.sh: unknown sample '$n' (try --list)" >&2; exit 2; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "record.sh: must run as root (namespaces, tcpdump)" >&2; exit 2; }
    local pkgs=("${SRV_PKGS[@]}")
    for n in "${names[@]}"; do
        read -ra extra <<<"$(sample_pkgs "$n")"
        pkgs+=("${extra[@]}")
    done
    need_pkgs "${pkgs[@]}"
    WORK=$(mktemp -d -t leakscan-record.XXXXXX)
    chmod 711 "$WORK"
    trap 'rm -rf "$WORK"' EXIT
    SRV_PKI=$WORK/pki
    pki_make
    for n in "${names[@]}"; do
        log "recording $n"
        if unshare -n bash "$HERE/record.sh" --inner "$WORK" "$n" &&
            [ -s "$WORK/$n/out.pcap" ]; then
            mv "$WORK/$n/out.pcap" "$HERE/$n.pcap"
            log "wrote samples/$n.pcap ($(stat -c %s "$HERE/$n.pcap") bytes)"
        else
            log "FAILED: $n (samples/$n.pcap left as it was)"
            failed+=("$n")
        fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
        log "failed: ${failed[*]}"
        exit 1
    fi
}

case "${1:-}" in
    --inner) inner "$2" "$3" ;;
    --list) printf '%s\n' "${SAMPLES[@]}" ;;
    -h|--help) sed -n '2,6p' "$0" ;;
    *) main "$@" ;;
esac
