#!/usr/bin/env bash
# manifest-check.sh - partial assertions on the shared captures.
#
#   tests/tools/manifest-check.sh [-b BIN] [-d DIR] [-f FILE]... [FAMILY...]
#
# Scans captures listed in DIR/MANIFEST.tsv (default ../shared/pcaps) with
# BIN (default $LEAKSCAN or ./leakscan) and checks a few facts per capture,
# never a whole report, as suricata-verify's test.yaml checks a few fields of
# eve.json.  Always checked:
#   - a capture with an expected token malformed:* ends incomplete
#     (scan.complete false, or exit 3);
#   - a capture expected to hold nothing (`none`, or category benign) has no
#     finding of severity high or critical.
# With FAMILY arguments (rule prefixes: mysql pgsql redis http tls ...), every
# capture is also checked for those families only, with the token-to-rule
# table of ../shared/tools/score: each expected token whose rules belong to an
# enforced family must have one of them fire (naming the user when the token
# says user=), and no rule of an enforced family may fire unless a token of
# the capture allows it.  tls:/starttls:X:yes tokens are facts about
# encrypted services and are checked in `services` when family tls (resp. X
# or starttls) is enforced.  -f limits the run to the named manifest files.
#
# Prints `ok FILE` or `FAIL FILE: reason` per checked capture, then
# `manifest: N passed, M failed`.  Exit 0, 1 on any failure, 2 on bad usage.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LEAKSCAN:-./leakscan}
dir=$root/../shared/pcaps
only=()
while getopts b:d:f: opt; do
    case $opt in
        b) bin=$OPTARG ;;
        d) dir=$OPTARG ;;
        f) only+=("$OPTARG") ;;
        *) echo "usage: $0 [-b BIN] [-d DIR] [-f FILE]... [FAMILY...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
families=" $* "
nfamilies=$#
manifest=$dir/MANIFEST.tsv
if [[ ! -r $manifest ]]; then
    echo "manifest-check: cannot read $manifest" >&2
    exit 2
fi
if [[ ! -x $bin ]] || ! command -v jq >/dev/null; then
    echo "manifest-check: needs an executable $bin and jq" >&2
    exit 2
fi

# Token pattern -> acceptable rules (any one matches); first match wins.
# Kept in step with RULES in ../shared/tools/score.
RULES=(
    '^cleartext:mysql:login mysql.cleartext-login'
    '^cleartext:mysql:password mysql.cleartext-password'
    '^cleartext:mysql:query mysql.cleartext-query'
    '^cleartext:mysql:(resultset|rows) mysql.cleartext-resultset'
    '^cleartext:mysql(:session)?$ mysql.cleartext-session'
    '^cleartext:pgsql:login pgsql.cleartext-login'
    '^cleartext:pgsql:password(-cleartext|:plain) pgsql.cleartext-password'
    '^cleartext:pgsql:password(-md5|:md5) pgsql.md5-password'
    '^starttls:pgsql:(requested-not-upgraded|refused) pgsql.ssl-refused'
    '^cleartext:pgsql:query pgsql.cleartext-query'
    '^cleartext:pgsql(:session)?$ pgsql.cleartext-session'
    '^cleartext:redis:auth redis.cleartext-auth'
    '^cleartext:redis(:command|:session)?$ redis.cleartext-session'
    '^cleartext:[a-z0-9]+:pii:pan pii.card-number'
    '^cleartext:[a-z0-9]+:pii:ssn pii.ssn'
    '^cleartext:http:basic-auth http.basic-auth'
    '^cleartext:http:proxy-auth http.basic-auth'
    '^cleartext:http:cookie http.session-cookie'
    '^cleartext:http:set-cookie http.insecure-set-cookie'
    '^cleartext:http:bearer http.bearer-token secret.jwt'
    '^cleartext:http:form-password http.form-password'
    '^cleartext:http:url-token http.url-credential'
    '^cleartext:http:digest http.digest-auth'
    '^cleartext:http:ntlm http.ntlm-auth'
    '^cleartext:http:authorization http.other-auth http.bearer-token http.basic-auth'
    '^cleartext:http(:plain)?$ http.cleartext'
    '^cleartext:[a-z0-9]+:jwt secret.jwt http.bearer-token'
    '^cleartext:[a-z0-9]+:api-key secret.api-key http.url-credential'
    '^cleartext:[a-z0-9]+:private-key secret.private-key'
    '^cleartext:ftp ftp.cleartext-login'
    '^cleartext:telnet telnet.cleartext-session'
    '^cleartext:pop3 pop3.cleartext-login'
    '^cleartext:imap imap.cleartext-login'
    '^cleartext:smtp:auth smtp.cleartext-auth'
    '^cleartext:smtp smtp.cleartext-session starttls.not-used'
    '^cleartext:ldap ldap.simple-bind'
    '^cleartext:snmp snmp.community'
    '^cleartext:(mssql|tds5?):login tds.cleartext-login tds.encryption-off'
    '^cleartext:(mssql|tds5?) tds.cleartext-query tds.encryption-off'
    '^cleartext:oracle oracle.cleartext-session'
    '^cleartext:elasticsearch elasticsearch.cleartext-session http.cleartext'
    '^cleartext:socks socks.cleartext-auth'
    '^cleartext:rsh rsh.cleartext-login'
    '^cleartext:irc irc.cleartext-login'
    '^cleartext:mongodb:auth mongodb.cleartext-auth'
    '^cleartext:mongodb mongodb.cleartext-session'
    '^tls:(ssl2|ssl3|1\.0|1\.1)(-obsolete)?$ tls.obsolete-version'
    '^ssl:[23]\.0$ tls.obsolete-version'
    '^tls:[a-z0-9]+:(ssl2|ssl3|1\.0|1\.1)$ tls.obsolete-version'
    '^tls:weak-cipher tls.weak-cipher'
    '^tls:cert-expired tls.cert-expired'
    '^tls:cert-self-signed tls.cert-self-signed'
    '^tls:cert-weak-key tls.cert-weak-key'
    '^starttls:[a-z0-9]+:no starttls.not-used'
)
# 'Prefix rule...': rules that may accompany a rule starting with the prefix
# without being unexpected.
COMPANIONS=(
    'mysql. mysql.cleartext-session mysql.tls-not-enforced mysql.cleartext-resultset mysql.cleartext-query mysql.cleartext-login'
    'pgsql. pgsql.cleartext-session pgsql.ssl-refused pgsql.cleartext-query pgsql.cleartext-login pgsql.md5-password pgsql.cleartext-resultset'
    'redis. redis.cleartext-session'
    'tds. tds.cleartext-query tds.encryption-off tds.cleartext-login'
    'irc. irc.cleartext-password'
    'http. http.cleartext'
    'pii. pii.email'
    'secret.jwt http.bearer-token'
    'http.bearer-token secret.jwt'
    'tls.obsolete-version tls.weak-cipher'
)
SERVICE='^(tls:([a-z0-9]+):(1\.[0-3]|ssl3)|tls:(1\.[23])|tls:([a-z0-9]+)|starttls:([a-z0-9]+):yes)$'
UNSCORED='^(mysql:login-failed|mysql:tls-required-refused|cleartext:[a-z0-9]+:session-token|cleartext:pgsql:sasl-scram|tls:client-hello-only|tls:client-offer-max:.*|tls:1\.3-draft|snmp:v3:.*|ldap:(sasl|anonymous)-bind|none|benign.*)$'

findings=() services=()   # of the capture being checked, filled by check()

# Manifest tokens known to be wrong (tests/manifest-exceptions: file, token,
# reason, tab-separated): not asserted, and listed here so they stay visible.
# Lines "file<TAB>token<TAB>why" skip a token; lines "file<TAB>+rule<TAB>why"
# allow a rule the manifest does not list (a real finding it missed).
declare -A EXCEPTION=() EXTRA=()
if [[ -r $root/tests/manifest-exceptions ]]; then
    while IFS=$'\t' read -r xfile xtok _; do
        [[ -z $xfile || $xfile == \#* ]] && continue
        if [[ $xtok == +* ]]; then
            EXTRA[$xfile]+=" ${xtok#+} "
        else
            EXCEPTION["$xfile|$xtok"]=1
        fi
    done <"$root/tests/manifest-exceptions"
fi
# The manifest records no certificate facts: certificate rules are facts
# about the certificate on the wire (SHA-1/MD5 signatures, 1024-bit keys,
# expired or self-signed test certificates, checked by hand), not errors.
CERT_RULES=" tls.cert-expired tls.cert-not-yet-valid tls.cert-self-signed tls.cert-weak-key tls.cert-weak-signature "
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints the rules acceptable for a token, or nothing for an unknown token.
rules_for() {
    local row
    for row in "${RULES[@]}"; do
        if [[ $1 =~ ${row%% *} ]]; then
            echo "${row#* }"
            return
        fi
    done
}

# Succeeds when one of the rule ids (words of $1) belongs to an enforced family.
enforced() {
    local r
    for r in $1; do
        [[ $families == *" ${r%%.*} "* ]] && return 0
    done
    return 1
}

# Flattens the report into tab-separated lines, one jq run per capture:
#   complete <scan.complete>
#   finding  <severity> <rule> <the finding as lower-case JSON>
#   service  <TLS versions (or tls object) of an encrypted service, lower case>
FACTS='if type != "object" then error("not an object") else
    "complete\t\(.scan.complete)",
    (.findings[]? | select(type == "object")
     | "finding\t\(.severity)\t\(.rule)\t\(tojson | ascii_downcase)"),
    (.services[]? | select(type == "object" and .encrypted == true)
     | "service\t\((.tls // {}) | (.versions // .) | tojson | ascii_downcase)")
    end'

# Succeeds when a finding of one of the rules (words of $1) mentions $2.
finding_mentions() {
    local line rule
    for line in "${findings[@]}"; do
        rule=${line#*$'\t'}
        rule=${rule%%$'\t'*}
        [[ " $1 " == *" $rule "* && ${line#*$'\t'*$'\t'} == *"$2"* ]] && return 0
    done
    return 1
}

# Succeeds when an encrypted service was seen, with TLS version $1 when set
# (as "tls 1.2" or "1.2"; ssl3 as "ssl 3").
service_ok() {
    local v
    for v in "${services[@]}"; do
        [[ -z $1 || $v == *"$1"* ]] && return 0
        [[ $1 == ssl3 && $v == *"ssl 3"* ]] && return 0
    done
    return 1
}

# Checks one capture; prints its line and returns 0 (ok), 1 (fail) or
# 2 (nothing to check in this mode).
check() {
    local file=$1 expected=$2 categories=$3
    local rc tok rules r row fired allowed high complete ver hit user kind a b rest last
    local want_incomplete=0 benign=0 userre='user=([^;:]+)'
    local -a toks why=()
    IFS=';' read -r -a toks <<<"$expected"
    [[ ";$expected;" == *";malformed:"* ]] && want_incomplete=1
    [[ ";$expected;" == *";none;"* || ";$categories;" == *";benign;"* ]] && benign=1
    if ((nfamilies == 0 && want_incomplete == 0 && benign == 0)); then
        return 2
    fi

    rm -f "$tmp/r.json"
    timeout -k 5 60 "$bin" -r "$dir/$file" -o "$tmp/r.json" --quiet >"$tmp/out" 2>&1
    rc=$?
    if [[ $rc != 0 && $rc != 1 && $rc != 3 ]]; then
        [[ $rc == 124 ]] && rc="124 (timeout after 60 s)"
        last=$(tail -n 1 "$tmp/out")
        echo "FAIL $file: exit $rc${last:+: $last}"
        return 1
    fi
    if ! jq -r "$FACTS" "$tmp/r.json" >"$tmp/facts" 2>/dev/null; then
        echo "FAIL $file: no parseable report (exit $rc)"
        return 1
    fi
    findings=() services=() complete="" fired=" " high=""
    while IFS=$'\t' read -r kind a b rest; do
        case $kind in
            complete) complete=$a ;;
            service) services+=("$a") ;;
            finding)
                findings+=("$a"$'\t'"$b"$'\t'"$rest")
                [[ $a != info && $fired != *" $b "* ]] && fired+="$b "
                [[ ($a == high || $a == critical) && ,$high, != *",$b,"* ]] && high+="${high:+,}$b"
                ;;
        esac
    done <"$tmp/facts"

    if [[ $want_incomplete == 1 && $complete != false && $rc != 3 ]]; then
        why+=("malformed input but scan.complete=$complete, exit $rc")
    fi
    if [[ $benign == 1 && -n $high ]]; then
        why+=("nothing expected, yet $high")
    fi

    allowed=" pii.email $CERT_RULES ${EXTRA[$file]:-} "
    for tok in "${toks[@]}"; do
        tok=${tok// /}
        [[ -z $tok || $tok =~ $UNSCORED || $tok == malformed:* ]] && continue
        [[ -n ${EXCEPTION["$file|$tok"]:-} ]] && continue
        if [[ $tok =~ $SERVICE ]]; then
            ver=${BASH_REMATCH[3]:-${BASH_REMATCH[4]}}
            rules="tls.x"
            [[ $tok == starttls:* ]] && rules="${BASH_REMATCH[6]}.x starttls.x"
            if enforced "$rules" && ! service_ok "$ver"; then
                why+=("$tok: no encrypted service${ver:+ with TLS $ver}")
            fi
            continue
        fi
        rules=$(rules_for "$tok")
        [[ -z $rules ]] && continue
        allowed+="$rules "
        for r in $rules; do
            for row in "${COMPANIONS[@]}"; do
                [[ $r == "${row%% *}"* ]] && allowed+="${row#* } "
            done
        done
        enforced "$rules" || continue
        hit=0 user=""
        for r in $rules; do
            [[ $fired == *" $r "* ]] && hit=1
        done
        if [[ $hit == 1 && $tok =~ $userre ]]; then
            user=${BASH_REMATCH[1],,}
            finding_mentions "$rules" "$user" || hit=0
        fi
        [[ $hit == 0 ]] && why+=("$tok: none of ${rules// /|}${user:+ naming $user}")
    done
    for r in $fired; do
        if enforced "$r" && [[ $allowed != *" $r "* ]]; then
            why+=("unexpected $r")
        fi
    done

    if ((${#why[@]})); then
        local IFS=';'
        echo "FAIL $file: ${why[*]}"
        return 1
    fi
    echo "ok $file"
    return 0
}

pass=0 fail=0
while IFS=$'\t' read -r file _ _ _ _ _ _ categories expected _; do
    [[ $file == file || -z $file || ! -f $dir/$file ]] && continue
    if ((${#only[@]})); then
        keep=0
        for f in "${only[@]}"; do
            [[ $f == "$file" ]] && keep=1
        done
        ((keep)) || continue
    fi
    check "$file" "$expected" "$categories"
    case $? in
        0) pass=$((pass + 1)) ;;
        1) fail=$((fail + 1)) ;;
    esac
done <"$manifest"
echo "manifest: $pass passed, $fail failed"
((fail == 0))
