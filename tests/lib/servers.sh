#!/usr/bin/env bash
# servers.sh - real Debian servers and clients on loopback, for the sample
# recorder (samples/record.sh) and the end-to-end tests (tests/e2e/).
#
# Source it from a bash script running with `set -euo pipefail`, then:
#
#   srv_init [WORKDIR]          every server keeps its files under WORKDIR (a new
#                               temp dir when omitted, removed at exit); an EXIT
#                               trap stops everything that was started
#   need_pkgs [PKG...]          apt-get install the missing Debian packages (root)
#   pki_make                    internal CA, server, expired and self-signed certs
#   nginx_start HTTP HTTPS [CERT [PROFILE]]  nginx on 127.0.0.1 (static page, /login,
#                               Basic auth); PROFILE legacy: TLS 1.0-1.2, every cipher
#   mariadb_start NAME PORT [tls] [require-tls] [nowait]
#   pgsql_start NAME PORT [notls] [nowait]
#   srv_ready                   wait for the servers started with nowait
#   redis_start NAME PORT
#   ftp_start PORT              vsftpd, a local user only it sees, AUTH TLS offered
#   dovecot_start POP3 IMAP     dovecot, a passwd-file user, STLS/STARTTLS offered
#   smtp_start PORT             aiosmtpd: AUTH and STARTTLS offered
#   ldap_start PORT             slapd with one person, StartTLS offered
#   snmp_start PORT             snmpd (UDP), community public
#   telnet_start PORT           telnetd and /bin/login, a local user only they see
#   irc_start PORT TLS_PORT     ngircd with a server password and an operator
#   xmpp_start PORT             prosody, one account, STARTTLS offered, PLAIN in clear
#   socks_start PORT            Dante SOCKS5: username/password (RFC 1929) or none
#   rsh_start                   rshd, rlogind, rexecd on 514, 513, 512 (inetd)
#   cap_start FILE FILTER       tcpdump on lo; cap_stop ends it
#   http_drive / mariadb_drive / pgsql_drive / redis_drive / tls_curl / tls_sclient /
#   ftp_drive / mail_drive / smtp_drive / ldap_drive / snmp_drive / telnet_drive /
#   irc_drive / xmpp_drive / socks_drive / rsh_drive   the client traffic
#
# Servers listen on 127.0.0.1 only, on the port given, with their data under the
# work dir.  Each start function returns once the server answers.  The fake data,
# users and secrets are fixed (see "Fixed test data") so that captures are
# deterministic apart from timing, ports and keys.  Nothing here talks to any
# address other than loopback.

# ---------------------------------------------------------------- fixed test data

SRV_IP=127.0.0.1
# Packages the servers and clients come from (Debian 12 names).
SRV_PKGS=(nginx-light mariadb-server mariadb-client postgresql redis-server
          redis-tools curl tcpdump openssl iproute2)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

HTTP_USER=alice
HTTP_BASIC_PASS='Secr3t-pw'
HTTP_FORM_PASS='Form-Secr3t-pw'
HTTP_JSON_PASS='Json-Secr3t-pw'
HTTP_PHPSESSID='k3v9q2m7hx4tb8wz1nd6pr5fsa'          # 26 chars, PHP's format
HTTP_SET_SESSION='5f0c2a9e7b1d4c3a8e6f9b2d1c7a4e0f'    # sent by nginx on /login
HTTP_API_KEY='9f2c4e7a1b3d5f60718293a4b5c6d7e8'
HTTP_JWT_SECRET='leakscan-test-hmac-key'

MARIADB_APP_USER=app
MARIADB_APP_PASS='App-Secr3t-pw'
MARIADB_REPORT_USER=report
MARIADB_REPORT_PASS='R3port-Secr3t-pw'

PG_SCRAM_USER=app             # pg_hba: scram-sha-256
PG_SCRAM_PASS='Pg-Scram-pw1'
PG_CLEAR_USER=app_clear       # pg_hba: password (cleartext on the wire)
PG_CLEAR_PASS='Pg-Clear-pw2'
PG_MD5_USER=app_md5           # pg_hba: md5, stored as an md5 hash
PG_MD5_PASS='Pg-Md5-pw3'

REDIS_PASS='Redis-Secr3t-pw'  # the default user's password (AUTH pass)
REDIS_ACL_USER=app            # an ACL user (AUTH app pass)
REDIS_ACL_PASS='Redis-App-pw4'

FTP_USER=alice                # a local user that only vsftpd sees (ftp_start)
FTP_PASS='Ftp-Secr3t-pw'
FTP_UID=64100
TELNET_USER=alice             # a local user that only telnetd and login see
TELNET_PASS='Telnet-Secr3t-pw'
TELNET_UID=64101

MAIL_USER=alice               # dovecot passwd-file user (dovecot_start)
MAIL_PASS='Mail-Secr3t-pw'
MAIL_UID=64100                # owner of the mail dir (no passwd entry needed)

LDAP_BASE='dc=example,dc=com'
LDAP_ADMIN_DN="cn=admin,$LDAP_BASE"     # slapd's rootdn
LDAP_ADMIN_PASS='Ldap-Admin-pw5'
LDAP_USER_DN="uid=alice,ou=people,$LDAP_BASE"
LDAP_USER_PASS='Ldap-Alice-pw6'

SNMP_COMMUNITY=public         # snmpd rocommunity (snmp_start)
# the SMTP AUTH account is MAIL_USER/MAIL_PASS (smtp_start)

IRC_PASS='Irc-Server-pw7'     # ngircd's server password (PASS, irc_start)
IRC_NICK=alice
IRC_OPER_NAME=ops             # ngircd [Operator] (OPER name pass)
IRC_OPER_PASS='Irc-Oper-pw8'
IRC_CHANNEL='#shop-ops'       # a channel ngircd pre-defines, no key
CHAT_MESSAGE='The coasters are back in stock.'   # sent by irc_drive and xmpp_drive

XMPP_DOMAIN=localhost         # prosody's virtual host (xmpp_start)
XMPP_USER=alice               # an account in its internal_plain store
XMPP_PASS='Xmpp-Secr3t-pw'

SOCKS_USER=alice              # a local user that only danted sees (socks_start)
SOCKS_PASS='Socks-Secr3t-pw'
SOCKS_UID=64102

RSH_USER=alice                # a local user that only the r-daemons see (rsh_start)
RSH_PASS='Rsh-Secr3t-pw'      # rexec, and rlogin from an untrusted client user
RSH_UID=64103
RSH_TRUSTED=root              # the client user alice's .rhosts trusts from localhost

# ---------------------------------------------------------------- lifecycle

SRV_WORK=
SRV_PKI=${SRV_PKI:-}
SRV_CACHE=${SRV_CACHE:-}
SRV_OWN_WORK=0
SRV_DEFERRED=()
SRV_PENDING=()
CAP_PID=
CAP_ERR=

srv_log() { printf '[servers %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# srv_init [WORKDIR]: set the work dir and the EXIT trap that stops everything.
# SRV_PKI (certificates) and SRV_CACHE (prepared data dirs) default to
# WORKDIR/pki and WORKDIR/cache; set them before starting servers to share them.
srv_init() {
    if [ $# -ge 1 ]; then
        SRV_WORK=$1
        mkdir -p "$SRV_WORK"
    else
        SRV_WORK=$(mktemp -d -t leakscan-srv.XXXXXX)
        SRV_OWN_WORK=1
    fi
    SRV_WORK=$(cd "$SRV_WORK" && pwd)
    chmod 711 "$SRV_WORK"          # the postgres user must reach its data dir
    SRV_PKI=${SRV_PKI:-$SRV_WORK/pki}
    SRV_CACHE=${SRV_CACHE:-$SRV_WORK/cache}
    trap srv_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# srv_defer CMD [ARG...]: run CMD at cleanup, after everything registered later.
srv_defer() {
    SRV_DEFERRED+=("$(printf '%q ' "$@")")
}

# srv_cleanup: stop the capture and every server, newest first; keep going on errors.
srv_cleanup() {
    local rc=$? i
    set +e
    if [ -n "$CAP_PID" ]; then
        cap_stop >/dev/null 2>&1
    fi
    for ((i = ${#SRV_DEFERRED[@]} - 1; i >= 0; i--)); do
        eval "${SRV_DEFERRED[i]}" >/dev/null 2>&1
    done
    SRV_DEFERRED=()
SRV_PENDING=()
    if [ "$SRV_OWN_WORK" = 1 ] && [ -n "$SRV_WORK" ]; then
        rm -rf "$SRV_WORK"
    fi
    return "$rc"
}

# srv_gone PID: true when process PID has exited (or is a zombie waiting to be reaped).
srv_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [ "${stat%% *}" = Z ]
}

# srv_kill PID [SIGNAL]: signal a child of this shell and reap it; SIGKILL after 10 s.
srv_kill() {
    local pid=$1 sig=${2:-TERM} i
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        srv_gone "$pid" && break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# srv_wait WHAT PID LOG CMD...: retry CMD every 0.1 s for up to 30 s until it
# succeeds.  Fails early, showing LOG, when process PID (if not "-") has died.
srv_wait() {
    local what=$1 pid=$2 log=$3 i
    shift 3
    for ((i = 0; i < 300; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$pid" != - ] && ! kill -0 "$pid" 2>/dev/null; then
            srv_log "$what exited while starting; last lines of $log:"
            tail -n 20 "$log" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.1
    done
    srv_log "$what not ready after 30 s; last lines of $log:"
    tail -n 20 "$log" >&2 2>/dev/null || true
    return 1
}

# srv_pending WHAT PID LOG CMD...: a server started with `nowait`: remember the
# srv_wait arguments so that srv_ready can wait for it with the others.
srv_pending() {
    SRV_PENDING+=("$(printf '%q ' "$@")")
}

# srv_ready: wait until every server started with `nowait` answers.  Starting
# several servers before waiting for any lets their start-ups overlap.
srv_ready() {
    local p
    for p in "${SRV_PENDING[@]}"; do
        eval "srv_wait $p" || return 1
    done
    SRV_PENDING=()
    srv_log "all servers ready"
}

# srv_port_free PORT: true when nothing listens on TCP PORT.
srv_port_free() {
    ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# srv_pick_port BASE: print the first port from BASE up (BASE+99 at most) with no listener.
srv_pick_port() {
    local p
    for ((p = $1; p < $1 + 100; p++)); do
        if srv_port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- packages

# srv_has_pkg PKG: true when the package, or the command it provides, is present.
# A command check lets another flavour stand in (nginx-core for nginx-light).
srv_has_pkg() {
    local cmd
    case $1 in
        nginx-light)    cmd=nginx ;;
        mariadb-server) cmd=mariadbd ;;
        mariadb-client) cmd=mariadb ;;
        postgresql)     cmd=$PG_BIN/postgres ;;
        redis-server)   cmd=redis-server ;;
        redis-tools)    cmd=redis-cli ;;
        iproute2)       cmd=ip ;;
        python3)        cmd=/usr/bin/python3 ;;     # Debian's, not a pyenv shim
        ldap-utils)     cmd=ldapwhoami ;;
        snmp)           cmd=snmpget ;;
        inetutils-telnetd) cmd=/usr/sbin/telnetd ;;
        dante-server)   cmd=danted ;;
        rsh-server)     cmd=/usr/sbin/in.rshd ;;
        rsh-client)     cmd=/usr/bin/netkit-rsh ;;
        *)              cmd=$1 ;;
    esac
    if command -v "$cmd" >/dev/null 2>&1; then
        return 0
    fi
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

# srv_pkg_service PKG: the system service a package installs, if any.
srv_pkg_service() {
    case $1 in
        nginx-light)                 echo nginx ;;
        mariadb-server)              echo mariadb ;;
        postgresql)                  echo postgresql ;;
        redis-server)                echo redis-server ;;
        vsftpd)                      echo vsftpd ;;
        dovecot-imapd|dovecot-pop3d) echo dovecot ;;
        slapd)                       echo slapd ;;
        snmpd)                       echo snmpd ;;
        inetutils-inetd)             echo inetutils-inetd ;;
        ngircd)                      echo ngircd ;;
        prosody)                     echo prosody ;;
        dante-server)                echo danted ;;
        rsh-server)                  echo inetutils-inetd ;;   # it enables rshd in inetd.conf
    esac
}

# srv_quiet_services PKG...: make sure the system services of freshly installed
# packages are neither running nor (under systemd) started at boot: the tests
# run their own instances.
srv_quiet_services() {
    local p svc
    for p in "$@"; do
        svc=$(srv_pkg_service "$p")
        [ -n "$svc" ] || continue
        if [ -d /run/systemd/system ]; then
            systemctl disable --now "$svc" >/dev/null 2>&1 || true
        elif service "$svc" status >/dev/null 2>&1; then
            service "$svc" stop >/dev/null 2>&1 || true
        fi
    done
}

# need_pkgs [PKG...]: install the missing packages (default: SRV_PKGS) with apt-get.
# Returns 1, naming them, when some are missing and we are not root.  Services
# are kept from starting during the install (a temporary policy-rc.d), and
# stopped and disabled after it should they run anyway (srv_quiet_services).
need_pkgs() {
    local missing=() p rc=0
    [ $# -gt 0 ] || set -- "${SRV_PKGS[@]}"
    for p in "$@"; do
        srv_has_pkg "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ]; then
        srv_log "missing packages (need root to install): ${missing[*]}"
        return 1
    fi
    srv_log "installing ${missing[*]}"
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          "${missing[@]}"; } >&2 || rc=1
    srv_quiet_services "${missing[@]}"
    if [ "$made_policy" = 1 ]; then
        rm -f "$policy"
    fi
    return "$rc"
}

# ---------------------------------------------------------------- PKI

# pki_conf DIR: write the openssl configuration of the test CA.
pki_conf() {
    local d=$1
    cat >"$d/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ca ]
default_ca = test_ca
[ test_ca ]
database        = $d/index.txt
new_certs_dir   = $d/issued
certificate     = $d/ca.crt
private_key     = $d/ca.key
serial          = $d/serial
default_md      = sha256
policy          = any_name
unique_subject  = no
copy_extensions = none
email_in_dn     = no
[ any_name ]
organizationName = optional
commonName       = supplied
[ ca_ext ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
[ server_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ self_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier   = hash
EOF
}

# pki_issue DIR NAME DATES...: a CA-signed server cert NAME.crt/NAME.key for
# localhost and 127.0.0.1; DATES are `openssl ca` options (-days or -startdate/-enddate).
pki_issue() {
    local d=$1 name=$2
    shift 2
    openssl req -new -newkey rsa:2048 -nodes -config "$d/openssl.cnf" \
        -subj "/O=leakscan test/CN=localhost" \
        -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
    openssl ca -batch -notext -config "$d/openssl.cnf" -extensions server_ext \
        -in "$d/$name.csr" -out "$d/$name.crt" "$@" 2>"$d/$name.err"
}

# pki_make: create, once, in SRV_PKI:
#   ca.crt/ca.key                 "leakscan Test CA", valid 10 years
#   server.crt/server.key         CN=localhost, SAN localhost/127.0.0.1/::1, signed by the CA
#   expired.crt/expired.key       the same names, valid only during 2020
#   selfsigned.crt/selfsigned.key the same names, self-signed
pki_make() {
    local d=$SRV_PKI
    [ -s "$d/selfsigned.crt" ] && return 0
    mkdir -p "$d/issued"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    pki_conf "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -config "$d/openssl.cnf" \
        -extensions ca_ext -subj "/O=leakscan test/CN=leakscan Test CA" \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    pki_issue "$d" server -days 825
    pki_issue "$d" expired -startdate 20200101000000Z -enddate 20201231235959Z
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -config "$d/openssl.cnf" \
        -extensions self_ext -subj "/O=leakscan test/CN=localhost" \
        -keyout "$d/selfsigned.key" -out "$d/selfsigned.crt" 2>/dev/null
    chmod 644 "$d"/*.crt
    chmod 600 "$d"/*.key
}

# ---------------------------------------------------------------- fake customer data

# fake_customers_sql: SQL (MariaDB and PostgreSQL) creating and filling the
# customers table: made-up people with test card numbers, SSNs and session tokens.
fake_customers_sql() {
    cat <<'EOF'
CREATE TABLE customers (
    id INT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    email VARCHAR(96) NOT NULL,
    card_number VARCHAR(19),
    ssn CHAR(11),
    session_token CHAR(32)
);
INSERT INTO customers VALUES
 (1, 'Alice Example',  'alice@shop.example', '4111111111111111', '078-05-1120', '8c1f2a9d4e7b3c6a5f0e1d2c3b4a5968'),
 (2, 'Bob Sample',     'bob@shop.example',   '5555555555554444', '219-09-9999', 'f3a9c2e1b7d4056a8e2c9f1b3d7a6e40'),
 (3, 'Carol Testing',  'carol@shop.example', '378282246310005',  '457-55-5462', '0b7e4d1a9c3f6e2b8d5a1c7f4e9b2d63'),
 (4, 'Dave Placeholder','dave@shop.example', '6011111111111117', '536-22-1784', '6d2a8f4c1e9b7d3a5c0f2e8b4d6a1c97'),
 (5, 'Eve Fixture',    'eve@shop.example',   '4012888888881881', '372-41-9056', 'a4c8e2f6b0d1937e5a2c4f6b8d0e1a35');
CREATE TABLE orders (
    id INT PRIMARY KEY,
    customer_id INT NOT NULL,
    amount DECIMAL(10,2) NOT NULL,
    item VARCHAR(64) NOT NULL
);
INSERT INTO orders VALUES
 (101, 1, 49.90, 'Blue mug'), (102, 2, 15.00, 'Tea sampler'),
 (103, 1, 120.00, 'Kettle'), (104, 4, 9.99, 'Coasters');
EOF
}

# Statements the database clients run (read by the e2e tests and the samples).
SQL_SELECT="SELECT id, name, email, card_number, ssn, session_token FROM customers ORDER BY id"
SQL_INSERT="INSERT INTO orders VALUES (105, 3, 33.50, 'Teapot')"
SQL_UPDATE="UPDATE customers SET session_token = '2e9b5d1f7a3c8e4b6d0a2f9c1e5b7d38' WHERE id = 2"
SQL_JOIN="SELECT c.name, c.card_number, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 1"

# ---------------------------------------------------------------- nginx

# nginx_site DIR: the static site: a page with no secret, Basic-protected /private/.
nginx_site() {
    local w=$1
    mkdir -p "$w/www/private" "$w/tmp"
    printf '%s\n' '<!doctype html>' '<html><head><title>Shop</title></head>' \
        '<body><h1>Welcome to the test shop</h1><p>Mugs, kettles and tea.</p></body></html>' \
        >"$w/www/index.html"
    printf '<!doctype html>\n<html><head><title>Staff</title></head><body><p>Staff area.</p></body></html>\n' \
        >"$w/www/private/index.html"
    printf '%s:%s\n' "$HTTP_USER" "$(openssl passwd -apr1 "$HTTP_BASIC_PASS")" >"$w/htpasswd"
}

# nginx_conf DIR HTTP_PORT HTTPS_PORT CERT [PROFILE]: nginx.conf serving the site in
# clear and with TLS, with the certificate CERT.crt/CERT.key of SRV_PKI.  PROFILE
# modern (default): TLS 1.2 and 1.3, nginx's default ciphers; legacy: TLS 1.0, 1.1
# and 1.2 at OpenSSL security level 0 with every cipher this OpenSSL has, NULL and
# anonymous ones included (Debian's OpenSSL has no 3DES, RC4 or EXPORT).
nginx_conf() {
    local w=$1 http=$2 https=$3 cert=$4 profile=${5:-modern} tls
    case $profile in
        modern) tls='ssl_protocols TLSv1.2 TLSv1.3;' ;;
        legacy) tls="ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0';" ;;
        *) srv_log "nginx_conf: unknown TLS profile $profile"; return 1 ;;
    esac
    cat >"$w/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $w/nginx.pid;
error_log $w/error.log warn;
events { worker_connections 256; }
http {
    access_log $w/access.log;
    client_body_temp_path $w/tmp/body;
    proxy_temp_path $w/tmp/proxy;
    fastcgi_temp_path $w/tmp/fastcgi;
    uwsgi_temp_path $w/tmp/uwsgi;
    scgi_temp_path $w/tmp/scgi;
    types { text/html html; application/json json; }
    default_type application/json;
    server_tokens off;
    server {
        listen $SRV_IP:$http;
        listen $SRV_IP:$https ssl;
        server_name localhost;
        ssl_certificate $SRV_PKI/$cert.crt;
        ssl_certificate_key $SRV_PKI/$cert.key;
        $tls
        root $w/www;
        location /private/ {
            auth_basic "Staff";
            auth_basic_user_file $w/htpasswd;
        }
        location = /login {
            add_header Set-Cookie "sessionid=$HTTP_SET_SESSION; Path=/; HttpOnly" always;
            return 200 '{"ok":true,"next":"/account"}\n';
        }
        location = /account {
            return 200 '{"user":"$HTTP_USER","orders":2}\n';
        }
        location /api/ {
            return 200 '{"ok":true}\n';
        }
    }
}
EOF
}

# nginx_start HTTP_PORT HTTPS_PORT [CERT [PROFILE]]: nginx on 127.0.0.1 serving:
#   /index.html  static page, no secret       /private/  Basic auth (HTTP_USER)
#   /login       any method, sets sessionid   /account, /api/*  200 JSON
# CERT is server (default, CA-signed), expired or selfsigned (see pki_make);
# PROFILE the TLS versions and ciphers, modern (default) or legacy (see nginx_conf).
# Returns once the HTTP port answers and the HTTPS port completes a handshake.
nginx_start() {
    local http=$1 https=$2 cert=${3:-server} profile=${4:-modern} w=$SRV_WORK/nginx pid
    pki_make
    mkdir -p "$w"
    nginx_site "$w"
    nginx_conf "$w" "$http" "$https" "$cert" "$profile"
    nginx -t -q -e "$w/error.log" -c "$w/nginx.conf" -p "$w" 2>"$w/nginx.out" || {
        cat "$w/nginx.out" >&2
        return 1
    }
    nginx -e "$w/error.log" -c "$w/nginx.conf" -p "$w" 2>>"$w/nginx.out" &
    pid=$!
    srv_defer srv_kill "$pid" QUIT
    srv_wait "nginx" "$pid" "$w/error.log" \
        curl -sf -o /dev/null "http://$SRV_IP:$http/index.html"
    srv_wait "nginx TLS" "$pid" "$w/error.log" \
        curl -sfk -o /dev/null "https://$SRV_IP:$https/index.html"
    srv_log "nginx ready on $SRV_IP:$http (http) and :$https (https)"
}

# ---------------------------------------------------------------- MariaDB

# mariadb_opts DATADIR: the server options every instance shares.
mariadb_opts() {
    local d=$1
    MARIADB_OPTS=(--no-defaults --datadir="$d" --user=root
                  --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid"
                  --log-error="$d/error.log" --skip-name-resolve
                  --innodb-buffer-pool-size=16M --innodb-log-file-size=4M
                  --innodb-flush-log-at-trx-commit=0 --performance-schema=OFF
                  --max-connections=50)
}

# mariadb_template: a data dir with the shop database and the users app and
# report, made once in SRV_CACHE and copied by every instance.
mariadb_template() {
    local t=$SRV_CACHE/mariadb pid
    [ -f "$t/.ready" ] && return 0
    rm -rf "$t"
    mkdir -p "$t"
    srv_log "MariaDB: preparing a data dir (mariadb-install-db)"
    mariadb-install-db --no-defaults --datadir="$t" --user=root --skip-test-db \
        --innodb-log-file-size=4M >"$SRV_CACHE/mariadb-install.log" 2>&1 || {
        tail -n 20 "$SRV_CACHE/mariadb-install.log" >&2
        return 1
    }
    mariadb_opts "$t"
    mariadbd "${MARIADB_OPTS[@]}" --skip-networking 2>"$SRV_CACHE/mariadbd.out" &
    pid=$!
    srv_wait "mariadbd (seeding)" "$pid" "$t/error.log" \
        mariadb-admin --no-defaults -S "$t/mysqld.sock" -u root ping
    mariadb_seed "$t/mysqld.sock"
    srv_kill "$pid" TERM
    rm -f "$t/mysqld.sock" "$t/mysqld.pid" "$t/error.log"
    touch "$t/.ready"
}

# mariadb_seed SOCKET: create database shop and its two users.
mariadb_seed() {
    local root=(mariadb --no-defaults -S "$1" -u root)
    "${root[@]}" -e "CREATE DATABASE shop;
        CREATE USER '$MARIADB_APP_USER'@'%' IDENTIFIED BY '$MARIADB_APP_PASS';
        GRANT ALL ON shop.* TO '$MARIADB_APP_USER'@'%';
        CREATE USER '$MARIADB_REPORT_USER'@'%' IDENTIFIED BY '$MARIADB_REPORT_PASS';
        GRANT SELECT ON shop.* TO '$MARIADB_REPORT_USER'@'%';"
    fake_customers_sql | "${root[@]}" shop
}

# mariadb_start NAME PORT [tls] [require-tls]: mariadbd on 127.0.0.1:PORT with the
# shop database.  tls: certificates from the internal CA (otherwise the server
# offers no TLS); require-tls: require_secure_transport=ON (implies tls);
# nowait: return at once, srv_ready waits.
# Sets MARIADB_SOCK to the instance's socket for admin access as root.
mariadb_start() {
    local name=$1 port=$2 d=$SRV_WORK/mariadb-$1 tls=0 req=0 wait=srv_wait opt pid
    shift 2
    for opt in "$@"; do
        case $opt in
            tls) tls=1 ;;
            require-tls) tls=1 req=1 ;;
            nowait) wait=srv_pending ;;
            *) srv_log "mariadb_start: unknown option $opt"; return 1 ;;
        esac
    done
    mariadb_template
    rm -rf "$d"
    cp -a "$SRV_CACHE/mariadb" "$d"
    mariadb_opts "$d"
    MARIADB_OPTS+=(--port="$port" --bind-address="$SRV_IP")
    if [ "$tls" = 1 ]; then
        pki_make
        MARIADB_OPTS+=(--ssl-ca="$SRV_PKI/ca.crt" --ssl-cert="$SRV_PKI/server.crt"
                       --ssl-key="$SRV_PKI/server.key")
    else
        MARIADB_OPTS+=(--skip-ssl)
    fi
    if [ "$req" = 1 ]; then
        MARIADB_OPTS+=(--require-secure-transport=ON)
    fi
    mariadbd "${MARIADB_OPTS[@]}" 2>"$d/mariadbd.out" &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    "$wait" "mariadbd $name" "$pid" "$d/error.log" \
        mariadb-admin --no-defaults -S "$d/mysqld.sock" -u root ping
    MARIADB_SOCK=$d/mysqld.sock    # for the caller
    export MARIADB_SOCK
    srv_log "MariaDB $name on $SRV_IP:$port (tls=$tls require-tls=$req)"
}

# ---------------------------------------------------------------- PostgreSQL

# pg_as_postgres CMD...: run CMD as the postgres user (the server refuses root).
pg_as_postgres() {
    (cd "$SRV_WORK" && runuser -u postgres -- "$@")
}

# pgsql_template: a cluster with database shop (owner app) and the three users,
# made once in SRV_CACHE and copied by every instance.
pgsql_template() {
    local t=$SRV_CACHE/pgsql sock
    [ -f "$SRV_CACHE/pgsql.ready" ] && return 0
    mkdir -p "$SRV_CACHE"
    chmod 711 "$SRV_CACHE"
    rm -rf "$t"
    install -d -o postgres -g postgres -m 700 "$t" "$t.sock"
    srv_log "PostgreSQL: preparing a cluster (initdb)"
    pg_as_postgres "$PG_BIN/initdb" -D "$t/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$SRV_CACHE/pgsql-initdb.log" 2>&1 || {
        tail -n 20 "$SRV_CACHE/pgsql-initdb.log" >&2
        return 1
    }
    sock=$t.sock
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$t/data" -l "$t/seed.log" -w -t 30 \
        -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c fsync=off" start >/dev/null
    pgsql_seed "$sock" || {
        tail -n 20 "$t/seed.log" >&2
        return 1
    }
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$t/data" -m fast -w stop >/dev/null
    rm -rf "$sock" "$t/seed.log"
    touch "$SRV_CACHE/pgsql.ready"
}

# pgsql_seed SOCKDIR: users, database shop and the fake data, as superuser postgres.
pgsql_seed() {
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$1" -U postgres)
    "${psql[@]}" -d postgres >/dev/null <<EOF
CREATE ROLE $PG_SCRAM_USER LOGIN PASSWORD '$PG_SCRAM_PASS';
CREATE ROLE $PG_CLEAR_USER LOGIN PASSWORD '$PG_CLEAR_PASS';
SET password_encryption = 'md5';
CREATE ROLE $PG_MD5_USER LOGIN PASSWORD '$PG_MD5_PASS';
CREATE DATABASE shop OWNER $PG_SCRAM_USER;
EOF
    {
        echo "SET ROLE $PG_SCRAM_USER;"
        fake_customers_sql
        echo "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO $PG_CLEAR_USER, $PG_MD5_USER;"
    } | "${psql[@]}" -d shop >/dev/null
}

# pgsql_hba: pg_hba.conf: socket trusted (admin); TCP per user: app_clear with
# `password`, app_md5 with `md5`, everyone else with `scram-sha-256`.
pgsql_hba() {
    local u m
    echo "local all all trust"
    for u in "$PG_CLEAR_USER password" "$PG_MD5_USER md5" "all scram-sha-256"; do
        read -r u m <<<"$u"
        printf 'host all %s 127.0.0.1/32 %s\nhost all %s ::1/128 %s\n' "$u" "$m" "$u" "$m"
    done
}

# pgsql_start NAME PORT [notls] [nowait]: postgres on 127.0.0.1:PORT, unix
# socket in the work dir, ssl=on with the internal CA's server cert (off with
# notls); nowait: return at once, srv_ready waits.
# Sets PG_SOCK to the socket dir for admin access (psql -h "$PG_SOCK" -U postgres).
pgsql_start() {
    local name=$1 port=$2 tls=on wait=srv_wait d=$SRV_WORK/pgsql-$1 opt
    shift 2
    for opt in "$@"; do
        case $opt in
            notls) tls=off ;;
            nowait) wait=srv_pending ;;
            *) srv_log "pgsql_start: unknown option $opt"; return 1 ;;
        esac
    done
    pgsql_template
    pki_make
    rm -rf "$d"
    mkdir -p "$d"
    cp -a "$SRV_CACHE/pgsql/data" "$d/data"
    install -d -o postgres -g postgres -m 700 "$d/sock"
    install -o postgres -g postgres -m 644 "$SRV_PKI/server.crt" "$d/data/server.crt"
    install -o postgres -g postgres -m 600 "$SRV_PKI/server.key" "$d/data/server.key"
    pgsql_hba >"$d/data/pg_hba.conf"
    cat >>"$d/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '$SRV_IP'
unix_socket_directories = '$d/sock'
ssl = $tls
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
fsync = off
EOF
    chown -R postgres:postgres "$d"
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -W start >/dev/null
    srv_defer pg_as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -m fast -w stop
    "$wait" "postgres $name" - "$d/server.log" \
        "$PG_BIN/pg_isready" -q -h "$d/sock" -p "$port" -U postgres
    PG_SOCK=$d/sock    # for the caller
    export PG_SOCK
    srv_log "PostgreSQL $name on $SRV_IP:$port (ssl=$tls)"
}

# ---------------------------------------------------------------- Redis

# redis_start NAME PORT: redis-server on 127.0.0.1:PORT, no persistence; the
# default user has password REDIS_PASS, the ACL user REDIS_ACL_USER REDIS_ACL_PASS.
redis_start() {
    local name=$1 port=$2 d=$SRV_WORK/redis-$1 pid
    mkdir -p "$d"
    cat >"$d/redis.conf" <<EOF
port $port
bind $SRV_IP
protected-mode yes
daemonize no
dir $d
logfile $d/redis.log
save ""
appendonly no
requirepass $REDIS_PASS
user $REDIS_ACL_USER on >$REDIS_ACL_PASS ~* &* +@all
EOF
    redis-server "$d/redis.conf" &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "redis $name" "$pid" "$d/redis.log" redis_ping "$port"
    srv_log "Redis $name ready on $SRV_IP:$port"
}

redis_ping() {
    [ "$(redis-cli -h "$SRV_IP" -p "$1" -a "$REDIS_PASS" --no-auth-warning ping)" = PONG ]
}

# ---------------------------------------------------------------- local users

# srv_local_user DIR USER UID PASSWORD HOME: copies of /etc/passwd and /etc/shadow
# in DIR/bind/etc with USER (shell /bin/sh) added, for srv_as_host.
srv_local_user() {
    local d=$1/bind/etc user=$2 uid=$3 pass=$4 home=$5
    mkdir -p "$d"
    cp /etc/passwd "$d/passwd"
    cp /etc/shadow "$d/shadow"
    printf '%s:x:%s:%s:leakscan test user:%s:/bin/sh\n' "$user" "$uid" "$uid" "$home" \
        >>"$d/passwd"
    printf '%s:%s:19000:0:99999:7:::\n' "$user" "$(openssl passwd -6 "$pass")" >>"$d/shadow"
    chmod 644 "$d/passwd"
    chmod 640 "$d/shadow"
}

# srv_as_host DIR [-h HOSTNAME] CMD [ARG...]: exec CMD in new mount and UTS
# namespaces where every file under DIR/bind (e.g. DIR/bind/etc/passwd) is bound
# over the system's file of the same path (which must exist), and the host name
# is HOSTNAME if given.  Nothing changes outside the namespaces.  Run it in the
# background (srv_as_host ... &): it execs, so that $! is the server's pid.
srv_as_host() {
    local d=$1 name=
    shift
    if [ "$1" = -h ]; then
        name=$2
        shift 2
    fi
    exec unshare -m -u --propagation private sh -c '
        d=$1 name=$2; shift 2
        for f in $(cd "$d/bind" && find . -type f); do
            mount --bind "$d/bind/${f#./}" "/${f#./}" || exit 1
        done
        [ -z "$name" ] || hostname "$name" || exit 1
        exec "$@"' sh "$d" "$name" "$@"
}

# ---------------------------------------------------------------- vsftpd

# ftp_start PORT: vsftpd on 127.0.0.1:PORT, anonymous off, local user FTP_USER
# (password FTP_PASS) chrooted to a home holding notes.txt, read only; AUTH TLS offered
# (the internal CA's server cert) but not required; passive data ports
# FTP_PASV_MIN..FTP_PASV_MAX.  The user exists only for vsftpd: it runs in its own
# mount namespace where copies of /etc/passwd and /etc/shadow with the user added
# are bound over the real ones (the system's files are not touched).
FTP_PASV_MIN=30000
FTP_PASV_MAX=30009
ftp_start() {
    local port=$1 d=$SRV_WORK/vsftpd pid
    pki_make
    mkdir -p "$d/empty" "$d/home"
    chmod 755 "$d/empty" "$d/home"
    printf 'Quarterly figures are in the shared drive.\n' >"$d/home/notes.txt"
    chmod 644 "$d/home/notes.txt"
    srv_local_user "$d" "$FTP_USER" "$FTP_UID" "$FTP_PASS" "$d/home"
    cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$SRV_IP
listen_port=$port
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
chroot_local_user=YES
pam_service_name=vsftpd
secure_chroot_dir=$d/empty
nopriv_user=nobody
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
vsftpd_log_file=$d/vsftpd.log
ftpd_banner=leakscan test FTP
pasv_enable=YES
pasv_address=$SRV_IP
pasv_min_port=$FTP_PASV_MIN
pasv_max_port=$FTP_PASV_MAX
ssl_enable=YES
rsa_cert_file=$SRV_PKI/server.crt
rsa_private_key_file=$SRV_PKI/server.key
allow_anon_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=NO
EOF
    srv_as_host "$d" vsftpd "$d/vsftpd.conf" 2>"$d/vsftpd.out" &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "vsftpd" "$pid" "$d/vsftpd.out" srv_greets "$port" 220
    srv_log "vsftpd ready on $SRV_IP:$port"
}

# srv_greets PORT PREFIX: true when a TCP server on 127.0.0.1:PORT sends a first
# line starting with PREFIX (e.g. 220, +OK, * OK).
srv_greets() {
    local line
    exec 9<>"/dev/tcp/$SRV_IP/$1" || return 1
    read -r -t 2 line <&9 || line=
    exec 9<&- 9>&-
    [[ $line == "$2"* ]]
}

# ---------------------------------------------------------------- dovecot

# dovecot_start POP3_PORT IMAP_PORT: dovecot (POP3 and IMAP) on 127.0.0.1, with
# its config, runtime dir and mail under the work dir; one passwd-file user,
# MAIL_USER/MAIL_PASS, whose INBOX holds one message; ssl=yes (the internal CA's
# server cert): STLS and STARTTLS offered, plaintext logins allowed without TLS;
# SASL PLAIN and LOGIN, and APOP (the POP3 greeting carries its timestamp).
dovecot_start() {
    local pop3=$1 imap=$2 d=$SRV_WORK/dovecot pid
    pki_make
    mkdir -p "$d/run" "$d/state" "$d/mail/$MAIL_USER/new" "$d/mail/$MAIL_USER/cur" \
        "$d/mail/$MAIL_USER/tmp"
    chmod 755 "$d" "$d/run"
    printf '%s:{PLAIN}%s\n' "$MAIL_USER" "$MAIL_PASS" >"$d/users"
    chmod 644 "$d/users"
    printf '%s\r\n' 'From: Bob Sample <bob@shop.example>' "To: Alice <$MAIL_USER@shop.example>" \
        'Subject: Tea sampler order' 'Date: Wed, 01 Nov 2023 10:00:00 +0000' \
        'Message-ID: <order-102@shop.example>' '' 'The tea sampler ships on Friday.' \
        >"$d/mail/$MAIL_USER/new/1698832800.M1P1.leakscan"
    chown -R "$MAIL_UID:$MAIL_UID" "$d/mail"
    cat >"$d/dovecot.conf" <<EOF
protocols = imap pop3
listen = $SRV_IP
base_dir = $d/run
state_dir = $d/state
instance_name = leakscan-dovecot
log_path = $d/dovecot.log
ssl = yes
ssl_cert = <$SRV_PKI/server.crt
ssl_key = <$SRV_PKI/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login apop
mail_location = maildir:$d/mail/%u
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_UID home=$d/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $imap
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $pop3
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
EOF
    dovecot -F -c "$d/dovecot.conf" 2>"$d/dovecot.out" &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "dovecot (POP3)" "$pid" "$d/dovecot.log" srv_greets "$pop3" +OK
    srv_wait "dovecot (IMAP)" "$pid" "$d/dovecot.log" srv_greets "$imap" '* OK'
    srv_log "dovecot ready on $SRV_IP:$pop3 (pop3) and :$imap (imap)"
}

# ---------------------------------------------------------------- OpenLDAP

# ldap_start PORT: slapd on ldap://127.0.0.1:PORT with a slapd.conf and an mdb
# database under the work dir: suffix LDAP_BASE, rootdn LDAP_ADMIN_DN, one person
# LDAP_USER_DN with a password; StartTLS offered (the internal CA's server cert),
# not required; anonymous reads allowed, passwords readable by no one.
ldap_start() {
    local port=$1 d=$SRV_WORK/slapd pid
    pki_make
    mkdir -p "$d/db"
    cat >"$d/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $d/slapd.pid
argsfile $d/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile $SRV_PKI/ca.crt
TLSCertificateFile $SRV_PKI/server.crt
TLSCertificateKeyFile $SRV_PKI/server.key
database mdb
maxsize 16777216
suffix "$LDAP_BASE"
rootdn "$LDAP_ADMIN_DN"
rootpw $(slappasswd -s "$LDAP_ADMIN_PASS")
directory $d/db
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
EOF
    slapadd -q -f "$d/slapd.conf" >"$d/slapadd.out" 2>&1 <<EOF || { cat "$d/slapadd.out" >&2; return 1; }
dn: $LDAP_BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example Shop

dn: ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: $LDAP_USER_DN
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
mail: alice@shop.example
userPassword: $(slappasswd -s "$LDAP_USER_PASS")
EOF
    slapd -d 0 -f "$d/slapd.conf" -h "ldap://$SRV_IP:$port/" >"$d/slapd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "slapd" "$pid" "$d/slapd.out" \
        ldapsearch -x -H "ldap://$SRV_IP:$port" -b '' -s base -o nettimeout=2
    srv_log "slapd ready on $SRV_IP:$port"
}

# ---------------------------------------------------------------- Net-SNMP

# snmp_start PORT: snmpd on udp:127.0.0.1:PORT answering SNMPv1/v2c with the
# read-only community SNMP_COMMUNITY from 127.0.0.1; its config, log and
# persistent state under the work dir (-C: no system config is read).
snmp_start() {
    local port=$1 d=$SRV_WORK/snmpd pid
    mkdir -p "$d/persist"
    cat >"$d/snmpd.conf" <<EOF
agentAddress udp:$SRV_IP:$port
rocommunity $SNMP_COMMUNITY $SRV_IP
sysDescr leakscan test agent
sysLocation leakscan test rack
sysContact ops@shop.example
sysName shop-db-1
EOF
    SNMP_PERSISTENT_DIR=$d/persist MIBS='' \
        snmpd -f -C -c "$d/snmpd.conf" -Lf "$d/snmpd.log" -p "$d/snmpd.pid" \
        >"$d/snmpd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "snmpd" "$pid" "$d/snmpd.log" snmp_get "$port" -v2c 1.3.6.1.2.1.1.5.0
    srv_log "snmpd ready on udp $SRV_IP:$port"
}

# snmp_get PORT VERSION_OPT OID...: snmpget with SNMP_COMMUNITY, one try, numeric OIDs.
snmp_get() {
    local port=$1 v=$2
    shift 2
    MIBS='' snmpget -On -t 2 -r 0 "$v" -c "$SNMP_COMMUNITY" "$SRV_IP:$port" "$@"
}

# ---------------------------------------------------------------- SMTP (aiosmtpd)

# smtp_start PORT: an SMTP submission server on 127.0.0.1:PORT, Python's aiosmtpd
# (Debian's python3-aiosmtpd): EHLO offers STARTTLS (the internal CA's server
# cert) and AUTH PLAIN LOGIN before TLS; MAIL_USER/MAIL_PASS may log in; accepted
# messages are appended to the work dir's spool file.
smtp_start() {
    local port=$1 d=$SRV_WORK/smtpd pid
    pki_make
    mkdir -p "$d"
    cat >"$d/smtpd.py" <<'EOF'
import signal, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

host, port, cert, key, user, password, spool = sys.argv[1:]


class Spool:
    async def handle_DATA(self, server, session, envelope):
        with open(spool, "ab") as f:
            f.write(envelope.original_content or b"")
        return "250 OK: queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
          and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False)


# the server thread inherits the mask: the main thread alone takes TERM and INT
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
smtpd = Controller(Spool(), hostname=host, port=int(port), server_hostname="localhost",
                   ident="leakscan test ESMTP", tls_context=tls, require_starttls=False,
                   auth_require_tls=False, authenticator=authenticator)
smtpd.start()
signal.sigwait({signal.SIGTERM, signal.SIGINT})
smtpd.stop()
EOF
    /usr/bin/python3 "$d/smtpd.py" "$SRV_IP" "$port" "$SRV_PKI/server.crt" \
        "$SRV_PKI/server.key" "$MAIL_USER" "$MAIL_PASS" "$d/spool" \
        >"$d/smtpd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "aiosmtpd" "$pid" "$d/smtpd.out" srv_greets "$port" 220
    srv_log "aiosmtpd ready on $SRV_IP:$port"
}

# ---------------------------------------------------------------- telnet

# telnet_start PORT: inetutils telnetd (started by inetutils-inetd) on
# 127.0.0.1:PORT with /bin/login.  They run in their own mount and UTS
# namespaces: host name shop-db-1; the local user TELNET_USER/TELNET_PASS (see
# srv_local_user); a PAM login service of common-auth/account/session only, no
# motd and empty wtmp/btmp/lastlog, all bound over the system's files there.
telnet_start() {
    local port=$1 d=$SRV_WORK/telnetd pid f
    mkdir -p "$d/home" "$d/bind/etc/pam.d" "$d/bind/var/log"
    chown "$TELNET_UID:$TELNET_UID" "$d/home"
    srv_local_user "$d" "$TELNET_USER" "$TELNET_UID" "$TELNET_PASS" "$d/home"
    printf '%s\n' '@include common-auth' '@include common-account' '@include common-session' \
        >"$d/bind/etc/pam.d/login"
    for f in /etc/motd /var/log/wtmp /var/log/btmp /var/log/lastlog; do
        [ -e "$f" ] && : >"$d/bind$f"
    done
    printf '%s:%s stream tcp nowait root /usr/sbin/telnetd telnetd -h\n' "$SRV_IP" "$port" \
        >"$d/inetd.conf"
    srv_as_host "$d" -h shop-db-1 inetutils-inetd -d "$d/inetd.conf" >"$d/inetd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "inetd (telnet)" "$pid" "$d/inetd.out" srv_connects "$port"
    srv_log "telnetd ready on $SRV_IP:$port"
}

# srv_connects PORT: true when a TCP connection to 127.0.0.1:PORT succeeds.
srv_connects() {
    exec 9<>"/dev/tcp/$SRV_IP/$1" || return 1
    exec 9<&- 9>&-
}

# ---------------------------------------------------------------- IRC (ngircd)

# irc_start PORT TLS_PORT: ngircd on 127.0.0.1:PORT (clear) and :TLS_PORT (TLS,
# the internal CA's server cert), server name irc.shop.example: clients must
# send PASS IRC_PASS; operator IRC_OPER_NAME/IRC_OPER_PASS; channel IRC_CHANNEL
# pre-defined.  No DNS, ident or PAM look-ups (nothing but the client's own
# connection is on the wire).  ngircd drops root for nobody after reading its
# key, so its pid file lives in a directory nobody owns.
irc_start() {
    local port=$1 tls_port=$2 d=$SRV_WORK/ngircd pid
    pki_make
    mkdir -p "$d/run"
    chown nobody:nogroup "$d/run"
    cat >"$d/ngircd.conf" <<EOF
[Global]
Name = irc.shop.example
Info = leakscan test IRC
AdminInfo1 = leakscan test
AdminInfo2 = loopback only
AdminEMail = ops@shop.example
Password = $IRC_PASS
Listen = $SRV_IP
Ports = $port
PidFile = $d/run/ngircd.pid
MotdPhrase = "leakscan test IRC server"
ServerUID = nobody
ServerGID = nogroup
[Options]
DNS = no
Ident = no
PAM = no
[SSL]
CertFile = $SRV_PKI/server.crt
KeyFile = $SRV_PKI/server.key
Ports = $tls_port
[Operator]
Name = $IRC_OPER_NAME
Password = $IRC_OPER_PASS
[Channel]
Name = $IRC_CHANNEL
Topic = Shop operations
EOF
    ngircd --nodaemon --config "$d/ngircd.conf" >"$d/ngircd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "ngircd" "$pid" "$d/ngircd.out" srv_connects "$port"
    srv_wait "ngircd TLS" "$pid" "$d/ngircd.out" srv_connects "$tls_port"
    srv_log "ngircd ready on $SRV_IP:$port (clear) and :$tls_port (TLS)"
}

# ---------------------------------------------------------------- XMPP (prosody)

# xmpp_start PORT: prosody on 127.0.0.1:PORT (client connections only: no s2s,
# no direct TLS port), virtual host XMPP_DOMAIN with the internal CA's server
# cert; one account XMPP_USER/XMPP_PASS.  STARTTLS is offered but not required,
# and SASL PLAIN is offered in clear (allow_unencrypted_plain_auth), next to
# SCRAM.  prosody runs as its own user, with its config, data and a copy of the
# key under the work dir.
xmpp_start() {
    local port=$1 d=$SRV_WORK/prosody pid
    local as_prosody=(setpriv --reuid=prosody --regid=prosody --init-groups)
    pki_make
    mkdir -p "$d/data"
    cp "$SRV_PKI/server.crt" "$SRV_PKI/server.key" "$d/"
    cat >"$d/prosody.cfg.lua" <<EOF
pidfile = "$d/prosody.pid"
data_path = "$d/data"
plugin_paths = { }
log = { { levels = { min = "info" }, to = "file", filename = "$d/prosody.log" } }
interfaces = { "$SRV_IP" }
c2s_ports = { $port }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "offline" }
modules_disabled = { "s2s" }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
VirtualHost "$XMPP_DOMAIN"
    ssl = { certificate = "$d/server.crt"; key = "$d/server.key" }
EOF
    chown -R prosody:prosody "$d"
    "${as_prosody[@]}" prosodyctl --config "$d/prosody.cfg.lua" \
        register "$XMPP_USER" "$XMPP_DOMAIN" "$XMPP_PASS" >"$d/register.out" 2>&1 || {
        cat "$d/register.out" >&2
        return 1
    }
    "${as_prosody[@]}" prosody -F --config "$d/prosody.cfg.lua" >"$d/prosody.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "prosody" "$pid" "$d/prosody.log" srv_connects "$port"
    srv_log "prosody ready on $SRV_IP:$port"
}

# ---------------------------------------------------------------- SOCKS (Dante)

# socks_start PORT: Dante's danted, a SOCKS5 proxy on 127.0.0.1:PORT that lets
# clients from 127.0.0.1 CONNECT to 127.0.0.1 only.  Methods, in its order of
# preference: username/password (RFC 1929, checked against the system password
# file as root) and none.  The user SOCKS_USER/SOCKS_PASS exists only for
# danted, in its own mount namespace (see srv_local_user).
socks_start() {
    local port=$1 d=$SRV_WORK/danted pid
    mkdir -p "$d/home"
    srv_local_user "$d" "$SOCKS_USER" "$SOCKS_UID" "$SOCKS_PASS" "$d/home"
    cat >"$d/danted.conf" <<EOF
logoutput: $d/danted.log
internal: $SRV_IP port = $port
external: $SRV_IP
socksmethod: username none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: $SRV_IP/32 to: 0.0.0.0/0
}
socks pass {
    from: $SRV_IP/32 to: $SRV_IP/32
    command: connect
    log: connect disconnect error
}
EOF
    srv_as_host "$d" danted -f "$d/danted.conf" -p "$d/danted.pid" -N 1 \
        >"$d/danted.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    srv_wait "danted" "$pid" "$d/danted.out" srv_connects "$port"
    srv_log "danted ready on $SRV_IP:$port"
}

# ---------------------------------------------------------------- rsh, rlogin, rexec

# rsh_start: netkit's in.rshd, in.rlogind and in.rexecd (Debian's rsh-server,
# PAM) started by inetutils-inetd on 127.0.0.1 at their fixed ports 514, 513
# and 512 (the clients cannot be pointed elsewhere).  As telnet_start does, they
# run in their own mount and UTS namespaces (host name shop-db-1) where the
# local user RSH_USER/RSH_PASS exists, with a .rhosts trusting RSH_TRUSTED from
# localhost (so rsh and rlogin from root log in without a password), a PAM
# login service of common-auth/account/session only (for rlogind's fallback
# to /bin/login), no motd and empty wtmp/btmp/lastlog.
rsh_start() {
    local d=$SRV_WORK/rshd pid f
    mkdir -p "$d/home" "$d/bind/etc/pam.d" "$d/bind/var/log"
    srv_local_user "$d" "$RSH_USER" "$RSH_UID" "$RSH_PASS" "$d/home"
    printf 'localhost %s\n' "$RSH_TRUSTED" >"$d/home/.rhosts"
    chmod 600 "$d/home/.rhosts"
    chown -R "$RSH_UID:$RSH_UID" "$d/home"
    printf '%s\n' '@include common-auth' '@include common-account' '@include common-session' \
        >"$d/bind/etc/pam.d/login"
    for f in /etc/motd /var/log/wtmp /var/log/btmp /var/log/lastlog; do
        [ -e "$f" ] && : >"$d/bind$f"
    done
    {
        printf '%s:514 stream tcp nowait root /usr/sbin/in.rshd in.rshd\n' "$SRV_IP"
        printf '%s:513 stream tcp nowait root /usr/sbin/in.rlogind in.rlogind\n' "$SRV_IP"
        printf '%s:512 stream tcp nowait root /usr/sbin/in.rexecd in.rexecd\n' "$SRV_IP"
    } >"$d/inetd.conf"
    srv_as_host "$d" -h shop-db-1 inetutils-inetd -d "$d/inetd.conf" >"$d/inetd.out" 2>&1 &
    pid=$!
    srv_defer srv_kill "$pid" TERM
    for f in 514 513 512; do
        srv_wait "inetd (port $f)" "$pid" "$d/inetd.out" srv_connects "$f"
    done
    srv_log "rshd, rlogind and rexecd ready on $SRV_IP:514, :513 and :512"
}

# ---------------------------------------------------------------- capture

# cap_start FILE FILTER: tcpdump on lo into FILE (full packets, written at once);
# returns when tcpdump is listening.  One capture at a time.  The 16 MiB kernel
# buffer (-B) holds a few hundred lo-sized (64 KiB) frames: with the default
# 2 MiB, a busy machine that delays tcpdump for 30 packets made it drop some.
cap_start() {
    local file=$1 filter=$2 i
    CAP_ERR=$SRV_WORK/tcpdump.err
    tcpdump -i lo -nn -s 0 -B 16384 -U --immediate-mode -Z root -w "$file" "$filter" \
        >/dev/null 2>"$CAP_ERR" &
    CAP_PID=$!
    for ((i = 0; i < 100; i++)); do
        if grep -q 'listening on' "$CAP_ERR" 2>/dev/null; then
            sleep 0.2
            return 0
        fi
        if ! kill -0 "$CAP_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    srv_log "tcpdump did not start:"
    cat "$CAP_ERR" >&2
    return 1
}

# cap_stop: let the last packets land, stop tcpdump and print its counters.
# (Immediate mode: a packet is written as it arrives, none wait in a ring block.)
# Returns 1 when nothing was captured or the kernel dropped packets.
cap_stop() {
    [ -n "$CAP_PID" ] || return 0
    sleep 0.3
    srv_kill "$CAP_PID" INT
    CAP_PID=
    grep -E 'captured|dropped' "$CAP_ERR" | tr '\n' ' ' >&2
    echo >&2
    if grep -q '^0 packets captured' "$CAP_ERR"; then
        srv_log "capture is empty"
        return 1
    fi
    grep -q '^0 packets dropped by kernel' "$CAP_ERR"
}

# ---------------------------------------------------------------- clients

# b64url: base64url without padding, of stdin.
b64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# http_jwt: a real HS256 JWT for HTTP_USER, signed with HTTP_JWT_SECRET (fixed claims).
http_jwt() {
    local head body sig
    head=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
    body=$(printf '{"sub":"%s","name":"Alice Example","role":"customer","iat":1700000000,"exp":4102444800}' \
        "$HTTP_USER" | b64url)
    sig=$(printf '%s.%s' "$head" "$body" |
        openssl dgst -sha256 -hmac "$HTTP_JWT_SECRET" -binary | b64url)
    printf '%s.%s.%s\n' "$head" "$body" "$sig"
}

# http_drive BASE_URL [CURL_OPT...]: one connection per request against nginx_start's
# site: a static page, Basic auth, a login form POST (the answer sets a session
# cookie), a PHPSESSID cookie, a Bearer JWT, an api_key in the URL, a JSON password.
http_drive() {
    local base=$1 jwt
    shift
    local c=(curl -sS --fail -o /dev/null "$@")
    jwt=$(http_jwt)
    "${c[@]}" "$base/index.html"
    "${c[@]}" -u "$HTTP_USER:$HTTP_BASIC_PASS" "$base/private/"
    "${c[@]}" -d "username=$HTTP_USER&password=$HTTP_FORM_PASS" "$base/login"
    "${c[@]}" -H "Cookie: PHPSESSID=$HTTP_PHPSESSID; theme=dark" "$base/account"
    "${c[@]}" -H "Authorization: Bearer $jwt" "$base/api/profile"
    "${c[@]}" "$base/api/orders?api_key=$HTTP_API_KEY&limit=5"
    "${c[@]}" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$HTTP_USER\",\"password\":\"$HTTP_JSON_PASS\"}" "$base/api/login"
}

# tls_curl URL EXPECT [CURL_OPT...]: one curl GET of URL over TLS; fails unless
# the handshake's "SSL connection using VERSION / CIPHER" line contains EXPECT.
tls_curl() {
    local url=$1 expect=$2 got
    shift 2
    got=$(curl -sS --fail -v -o /dev/null "$@" "$url" 2>&1 >/dev/null |
        sed -n 's/^\* SSL connection using //p')
    srv_log "curl $url: $got"
    [[ $got == *"$expect"* ]] || { srv_log "expected $expect"; return 1; }
}

# tls_sclient PORT EXPECT [S_CLIENT_OPT...]: openssl s_client (SNI localhost) sends
# GET /index.html on 127.0.0.1:PORT and reads the answer, for the versions and
# ciphers curl refuses; fails unless the "Protocol version: ... Ciphersuite: ..."
# it reports contains EXPECT (e.g. "TLSv1.1 ECDHE-RSA-AES256-SHA").
tls_sclient() {
    local port=$1 expect=$2 out got
    shift 2
    out=$(printf 'GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        timeout 20 openssl s_client -brief -ign_eof -connect "$SRV_IP:$port" \
            -servername localhost "$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    got=$(printf '%s\n' "$out" | sed -n 's/^Protocol version: //p; s/^Ciphersuite: //p' | tr '\n' ' ')
    srv_log "s_client $*: $got"
    if [[ $got != *"$expect"* ]] || [[ $out != *"HTTP/1.1 200"* ]]; then
        srv_log "expected $expect and HTTP 200"
        printf '%s\n' "$out" >&2
        return 1
    fi
}

# ftp_drive PORT: three logins of FTP_USER, each listing the home directory:
# curl in clear (USER/PASS, no FEAT); lftp with TLS turned off, which reads FEAT
# (AUTH TLS offered) and logs in in clear anyway; curl --ssl-reqd, which sends
# AUTH TLS and does everything (data connection too) over TLS, CA-verified.
ftp_drive() {
    local port=$1
    curl -sS --fail -o /dev/null -u "$FTP_USER:$FTP_PASS" "ftp://$SRV_IP:$port/"
    lftp -c "set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10;
             open -u '$FTP_USER','$FTP_PASS' -p $port $SRV_IP; cls -1" >/dev/null
    curl -sS --fail -o /dev/null --ssl-reqd --cacert "$SRV_PKI/ca.crt" \
        --resolve "localhost:$port:$SRV_IP" -u "$FTP_USER:$FTP_PASS" "ftp://localhost:$port/"
}

# mail_drive POP3_PORT IMAP_PORT: MAIL_USER reads the INBOX, seven connections.
# In clear although the server offers STLS/STARTTLS: curl POP3 (CAPA, AUTH PLAIN,
# LIST), curl POP3 with APOP, Python's poplib (USER/PASS, STAT), curl IMAP
# (CAPABILITY, AUTHENTICATE PLAIN, SELECT, FETCH of message 1), Python's imaplib
# (LOGIN, SELECT).  Then curl --ssl-reqd, CA-verified, for POP3 (STLS) and IMAP
# (STARTTLS): TLS before any login.
mail_drive() {
    local pop3=$1 imap=$2 tls
    local c=(curl -sS --fail -o /dev/null -u "$MAIL_USER:$MAIL_PASS")
    tls=(--ssl-reqd --cacert "$SRV_PKI/ca.crt" --resolve "localhost:$pop3:$SRV_IP"
         --resolve "localhost:$imap:$SRV_IP")
    "${c[@]}" "pop3://$SRV_IP:$pop3/"
    "${c[@]}" --login-options 'AUTH=+APOP' "pop3://$SRV_IP:$pop3/"
    mail_py pop3 "$pop3"
    "${c[@]}" "imap://$SRV_IP:$imap/INBOX;UID=1"
    mail_py imap "$imap"
    "${c[@]}" "${tls[@]}" "pop3://localhost:$pop3/"
    "${c[@]}" "${tls[@]}" "imap://localhost:$imap/INBOX;UID=1"
}

# mail_py pop3|imap PORT: one login of MAIL_USER with Debian's Python: poplib
# USER/PASS then STAT, or imaplib LOGIN then SELECT INBOX (the clients of many
# scripts, which send the plain commands rather than SASL).
mail_py() {
    /usr/bin/python3 - "$1" "$SRV_IP" "$2" "$MAIL_USER" "$MAIL_PASS" <<'PY'
import imaplib, poplib, sys
proto, host, port, user, password = sys.argv[1:]
if proto == "pop3":
    p = poplib.POP3(host, int(port), timeout=10)
    p.user(user)
    p.pass_(password)
    p.stat()
    p.quit()
else:
    m = imaplib.IMAP4(host, int(port), timeout=10)
    m.login(user, password)
    m.select("INBOX", readonly=True)
    m.logout()
PY
}

# ldap_drive PORT: four OpenLDAP client connections: ldapwhoami with a simple
# bind as the rootdn, ldapsearch with a simple bind as the person reading its own
# entry, an anonymous ldapwhoami (simple bind, empty DN and password), and
# ldapwhoami -ZZ as the rootdn (StartTLS, CA-verified, before the bind).
ldap_drive() {
    local h=ldap://$SRV_IP:$1
    ldapwhoami -x -H "$h" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PASS" >/dev/null
    ldapsearch -x -LLL -H "$h" -D "$LDAP_USER_DN" -w "$LDAP_USER_PASS" \
        -b "$LDAP_USER_DN" -s base cn mail >/dev/null
    ldapwhoami -x -H "$h" >/dev/null
    LDAPTLS_CACERT=$SRV_PKI/ca.crt LDAPTLS_REQCERT=demand \
        ldapwhoami -x -ZZ -H "$h" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PASS" >/dev/null
}

# snmp_drive PORT: snmpget -v2c of sysDescr.0, then snmpget -v1 of sysName.0 and
# sysContact.0, both with the community SNMP_COMMUNITY.
snmp_drive() {
    snmp_get "$1" -v2c 1.3.6.1.2.1.1.1.0 >/dev/null
    snmp_get "$1" -v1 1.3.6.1.2.1.1.5.0 1.3.6.1.2.1.1.4.0 >/dev/null
}

# smtp_drive PORT: MAIL_USER submits one message per connection with curl: in
# clear although STARTTLS is offered, with curl's default SASL choice (AUTH
# PLAIN), then with AUTH LOGIN; then with --ssl-reqd (STARTTLS before AUTH,
# CA-verified).
smtp_drive() {
    local port=$1 msg=$SRV_WORK/smtp-message.txt
    printf '%s\r\n' "From: Alice <$MAIL_USER@shop.example>" 'To: Bob <bob@shop.example>' \
        'Subject: Order 104' 'Date: Wed, 01 Nov 2023 10:00:00 +0000' \
        'Message-ID: <order-104@shop.example>' '' 'The coasters are back in stock.' >"$msg"
    local c=(curl -sS --fail -u "$MAIL_USER:$MAIL_PASS" --mail-from "$MAIL_USER@shop.example"
             --mail-rcpt bob@shop.example -T "$msg")
    "${c[@]}" "smtp://$SRV_IP:$port/client.example"
    "${c[@]}" --login-options AUTH=LOGIN "smtp://$SRV_IP:$port/client.example"
    "${c[@]}" --ssl-reqd --cacert "$SRV_PKI/ca.crt" --resolve "localhost:$port:$SRV_IP" \
        "smtp://localhost:$port/client.example"
}

# telnet_drive PORT: one telnet session with Debian's Python telnetlib: login
# prompt, TELNET_USER, password prompt, TELNET_PASS, then `id -un` and exit.
telnet_drive() {
    /usr/bin/python3 -W ignore::DeprecationWarning - "$SRV_IP" "$1" "$TELNET_USER" \
        "$TELNET_PASS" <<'PY'
import sys, telnetlib
host, port, user, password = sys.argv[1:]
t = telnetlib.Telnet(host, int(port), timeout=20)
t.read_until(b"login: ", 20)
t.write(user.encode() + b"\n")
t.read_until(b"Password: ", 20)
t.write(password.encode() + b"\n")
t.read_until(b"$ ", 20)
t.write(b"id -un; exit\n")
out = t.read_all()
if user.encode() not in out:
    sys.exit("telnet session did not log in: %r" % out)
PY
}

# irc_drive PORT TLS_PORT: two IRC sessions of IRC_NICK.  In clear, Debian's sic:
# PASS IRC_PASS, NICK, USER; once welcomed (end of MOTD), JOIN IRC_CHANNEL,
# PRIVMSG CHAT_MESSAGE to it, OPER IRC_OPER_NAME IRC_OPER_PASS, QUIT.  Then the
# same commands typed into openssl s_client over TLS (CA-verified, SNI
# localhost), since sic speaks no TLS.  Each step waits for the server's
# answer (sic reads its input with stdio behind select(), so a second line
# written before it took the first would wait unread).
irc_drive() {
    local port=$1 tls_port=$2
    irc_session '< 376 ' ":j $IRC_CHANNEL" '< 366 ' ":m $IRC_CHANNEL $CHAT_MESSAGE" \
        "<$CHAT_MESSAGE" ":OPER $IRC_OPER_NAME $IRC_OPER_PASS" '< 381 ' ':QUIT :bye' \
        '<ERROR' -- sic -h "$SRV_IP" -p "$port" -n "$IRC_NICK" -k "$IRC_PASS"
    irc_session "PASS $IRC_PASS" "NICK $IRC_NICK" "USER $IRC_NICK 0 * :$IRC_NICK" '< 376 ' \
        "JOIN $IRC_CHANNEL" '< 366 ' "PRIVMSG $IRC_CHANNEL :$CHAT_MESSAGE" \
        "OPER $IRC_OPER_NAME $IRC_OPER_PASS" '< 381 ' 'QUIT :bye' '<ERROR' -- \
        openssl s_client -quiet -crlf -connect "$SRV_IP:$tls_port" -servername localhost \
        -CAfile "$SRV_PKI/ca.crt" -verify_return_error
}

# irc_session STEP... -- CLIENT...: runs CLIENT (it reads lines to send on its
# standard input and prints what the server says) in the background, through
# two fifos, and takes the STEPs in order: "<TEXT" waits for an output line
# containing TEXT, anything else is a line typed to the client.  Fails unless
# every awaited line came; then waits for the client to end.
irc_session() {
    local steps=() l pid to from rc=0 f=$SRV_WORK/irc-session
    while [ "$1" != -- ]; do
        steps+=("$1")
        shift
    done
    shift
    rm -f "$f.in" "$f.out"
    mkfifo "$f.in" "$f.out"
    timeout 30 "$@" <"$f.in" >"$f.out" 2>&1 &
    pid=$!
    exec {to}>"$f.in" {from}<"$f.out"
    for l in "${steps[@]}"; do
        if [[ $l == "<"* ]]; then
            irc_await "$from" "${l#<}" || { rc=1; break; }
        else
            printf '%s\n' "$l" >&"$to"
        fi
    done
    exec {to}>&- {from}<&-
    wait "$pid" 2>/dev/null || true
    return "$rc"
}

# irc_await FD TEXT: reads the client's output from FD (kept in the work dir's
# irc-session.log) until a line contains TEXT; fails after 20 s without it, or
# when the client has ended, showing the last lines.
irc_await() {
    local fd=$1 want=$2 line log=$SRV_WORK/irc-session.log
    while IFS= read -r -t 20 line <&"$fd"; do
        printf '%s\n' "$line" >>"$log"
        [[ $line == *"$want"* ]] && return 0
    done
    srv_log "IRC: no '$want' from the server; last lines:"
    tail -n 5 "$log" >&2
    return 1
}

# xmpp_drive PORT: XMPP_USER sends CHAT_MESSAGE to itself with Debian's sendxmpp
# twice: in clear (no -t: SASL PLAIN, the only offered mechanism its Perl SASL
# library implements, although STARTTLS is offered), then with -t (STARTTLS
# before SASL, CA-verified).
# perl -X silences XML::Stream's "uninitialized value" warnings on a TLS stream.
xmpp_drive() {
    local port=$1
    local c=(perl -X /usr/bin/sendxmpp -u "$XMPP_USER" -p "$XMPP_PASS" -j "$SRV_IP:$port"
             -o "$XMPP_DOMAIN" -r leakscan)
    printf '%s\n' "$CHAT_MESSAGE" | timeout 30 "${c[@]}" "$XMPP_USER@$XMPP_DOMAIN"
    printf '%s\n' "$CHAT_MESSAGE" | timeout 30 "${c[@]}" -t -a "$SRV_PKI/ca.crt" \
        "$XMPP_USER@$XMPP_DOMAIN"
}

# socks_drive SOCKS_PORT HTTP_PORT: two curl GETs of /index.html on the nginx of
# 127.0.0.1:HTTP_PORT through the SOCKS5 proxy on SOCKS_PORT: with
# SOCKS_USER:SOCKS_PASS (curl offers methods none, GSS-API and username/password;
# Dante picks username/password), then without credentials (method none).
socks_drive() {
    local socks=$1 http=$2
    local c=(curl -sS --fail -o /dev/null)
    "${c[@]}" --socks5 "$SOCKS_USER:$SOCKS_PASS@$SRV_IP:$socks" "http://$SRV_IP:$http/index.html"
    "${c[@]}" --socks5 "$SRV_IP:$socks" "http://$SRV_IP:$http/index.html"
}

# rsh_drive: four logins of RSH_USER, each running `id -un`: netkit rsh as
# root (trusted by .rhosts); netkit rlogin as root (trusted: no password) in a
# pseudo-terminal, typing the command then exit; rlogin again as nobody (not
# trusted: /bin/login asks for the password, typed RSH_PASS); and rexec, with
# a Python client (Debian ships no rexec client) that sends the password and
# asks for no stderr connection.  Fails unless each printed RSH_USER.
rsh_drive() {
    local out
    out=$(timeout 20 rsh -l "$RSH_USER" "$SRV_IP" id -un </dev/null)
    [ "$out" = "$RSH_USER" ] || { srv_log "rsh: unexpected output '$out'"; return 1; }
    rsh_rlogin root ""
    rsh_rlogin nobody "$RSH_PASS"
    /usr/bin/python3 - "$SRV_IP" "$RSH_USER" "$RSH_PASS" <<'PY'
import socket, sys
host, user, password = sys.argv[1:]
s = socket.create_connection((host, 512), timeout=20)
s.sendall(b"0\0" + user.encode() + b"\0" + password.encode() + b"\0id -un\0")
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
if out[:1] != b"\0" or out[1:].strip() != user.encode():
    sys.exit("rexec: unexpected answer %r" % out)
PY
}

# rsh_rlogin AS PASSWORD: netkit rlogin -l RSH_USER to 127.0.0.1, run as the
# local user AS (rlogin is setuid root: it still binds a reserved port) in a
# pseudo-terminal (TERM xterm, 38400 baud); types PASSWORD at a "Password:"
# prompt when one is given, then `id -un; exit` at the shell's prompt.
rsh_rlogin() {
    local as=$1 pass=$2
    TERM=xterm timeout 30 setpriv --reuid="$as" --regid="$(id -g "$as")" --clear-groups \
        /usr/bin/python3 - "$SRV_IP" "$RSH_USER" "$pass" <<'PY'
import os, pty, select, sys, time
host, user, password = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("rlogin", ["rlogin", "-l", user, host])
out = b""


def read_until(want, limit=20):
    global out
    end = time.time() + limit
    while want not in out:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
        if not r:
            sys.exit("rlogin: no %r in %r" % (want, out))
        try:
            b = os.read(fd, 4096)
        except OSError:
            b = b""
        if not b:
            sys.exit("rlogin: closed before %r: %r" % (want, out))
        out += b


if password:
    read_until(b"Password:")
    os.write(fd, password.encode() + b"\r")
read_until(b"$ ")
os.write(fd, b"id -un; exit\r")
try:
    while True:
        b = os.read(fd, 4096)
        if not b:
            break
        out += b
except OSError:
    pass
os.waitpid(pid, 0)
if (b"\n" + user.encode() + b"\r") not in out:
    sys.exit("rlogin session did not log in: %r" % out)
PY
}

# mariadb_drive PORT [CLIENT_OPT...]: user app logs in without a database, runs
# USE shop (COM_INIT_DB), SELECTs the customers, an INSERT and an UPDATE.
mariadb_drive() {
    local port=$1
    shift
    mariadb --no-defaults -h "$SRV_IP" -P "$port" -u "$MARIADB_APP_USER" \
        -p"$MARIADB_APP_PASS" "$@" \
        -e "USE shop; $SQL_SELECT; ${SQL_INSERT/INSERT/INSERT IGNORE}; $SQL_UPDATE; $SQL_JOIN;" \
        >/dev/null
}

# mariadb_report_drive PORT [CLIENT_OPT...]: user report reads the customers of shop.
mariadb_report_drive() {
    local port=$1
    shift
    mariadb --no-defaults -h "$SRV_IP" -P "$port" -u "$MARIADB_REPORT_USER" \
        -p"$MARIADB_REPORT_PASS" "$@" -D shop -e "$SQL_SELECT;" >/dev/null
}

# pgsql_drive PORT USER PASSWORD SSLMODE: psql logs in to shop over TCP and runs
# the SELECT, an INSERT (ignored if the row exists) and the join.
pgsql_drive() {
    local port=$1 user=$2 pass=$3 mode=$4
    PGPASSWORD=$pass PGGSSENCMODE=disable PGSSLMODE=$mode PGCONNECT_TIMEOUT=10 \
        psql -X -q -v ON_ERROR_STOP=1 -h "$SRV_IP" -p "$port" -U "$user" -d shop \
        -c "$SQL_SELECT" -c "$SQL_INSERT ON CONFLICT DO NOTHING" -c "$SQL_JOIN" >/dev/null
}

# redis_drive PORT: five redis-cli connections, one command each.  The default
# user (AUTH pass) stores and reads a session token and a card number; the ACL
# user logs in with AUTH user pass, then with HELLO 3 AUTH user pass, and reads
# the card back.
redis_drive() {
    local port=$1
    local cli=(redis-cli -h "$SRV_IP" -p "$port" --no-auth-warning)
    local key=session:8c1f2a9d4e7b3c6a5f0e1d2c3b4a5968
    "${cli[@]}" -a "$REDIS_PASS" SET "$key" '{"user":"alice","role":"customer"}' EX 3600 >/dev/null
    "${cli[@]}" -a "$REDIS_PASS" SET card:alice 4111111111111111 >/dev/null
    "${cli[@]}" -a "$REDIS_PASS" GET "$key" >/dev/null
    "${cli[@]}" --user "$REDIS_ACL_USER" --pass "$REDIS_ACL_PASS" GET card:alice >/dev/null
    "${cli[@]}" HELLO 3 AUTH "$REDIS_ACL_USER" "$REDIS_ACL_PASS" SETNAME billing >/dev/null
}
