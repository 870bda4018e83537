/*
 * json.c - the JSON report (../shared/docs/FINDINGS.md, "Report shape").
 *
 * Top-level keys in this order: report_version, tool, scan, summary,
 * services, findings.  Everything is sorted (services by address and port,
 * findings by severity, rule, server), and nothing depends on memory
 * addresses or hash order, so the same input gives the same report apart
 * from the scan's own start and end times.  This is the only file that
 * includes cJSON.
 */
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "../scanner/stats.h"
#include "finding.h"
#include "hash.h"
#include "service.h"

#define REPORT_VERSION "1.0"

void report_time(uint64_t ns, char *buf, size_t len)
{
    time_t s = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
        return;
    }
    /* every field is brought into its range, so the text is always 27
     * characters (a capture dated past year 9999 is garbage anyway) */
    snprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)(ns % 1000000000ULL / 1000) % 1000000u);
}

static bool meta_has_drops(const struct report_meta *m)
{
    for (size_t i = 0; i < m->nifaces; i++)
        if (m->ifaces[i].dropped > 0 || m->ifaces[i].ifdropped > 0 || m->ifaces[i].error[0])
            return true;
    return false;
}

static bool meta_has_input_errors(const struct report_meta *m)
{
    for (size_t i = 0; i < m->ninputs; i++)
        if (m->inputs[i].truncated || m->inputs[i].error[0])
            return true;
    return false;
}

bool report_complete(const struct report_meta *m)
{
    return !meta_has_input_errors(m) && !meta_has_drops(m) && !stats_incomplete() &&
           !m->interrupted;
}

bool report_failed(const struct report_meta *m)
{
    return findings_max_severity() >= m->fail_on;
}

/* cJSON stores numbers as doubles: exact up to 2^53, which no counter of
 * ours reaches. */
static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_time(cJSON *o, const char *k, uint64_t ns)
{
    char buf[40];
    if (ns == 0) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    report_time(ns, buf, sizeof buf);
    cJSON_AddStringToObject(o, k, buf);
}

static void add_addr(cJSON *o, const char *k, const struct ipaddr *a)
{
    char buf[ADDR_STRLEN];
    addr_format(a, buf, sizeof buf);
    cJSON_AddStringToObject(o, k, buf);
}

static cJSON *addr_array(const struct ipaddr *a, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char buf[ADDR_STRLEN];
        addr_format(&a[i], buf, sizeof buf);
        cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
    }
    return arr;
}

static const char *transport_name(uint8_t t)
{
    return t == 6 ? "tcp" : t == 17 ? "udp" : "ip";
}

static cJSON *json_tool(const struct report_meta *m)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", "leakscan");
    cJSON_AddStringToObject(t, "version", LEAKSCAN_VERSION);
    cJSON_AddStringToObject(t, "libpcap", m->libpcap_version ? m->libpcap_version : "");
    cJSON_AddStringToObject(t, "ndpi", m->ndpi_version ? m->ndpi_version : "");
    return t;
}

static cJSON *json_inputs(const struct report_meta *m)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < m->ninputs; i++) {
        const struct report_input *in = &m->inputs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", in->path);
        cJSON_AddStringToObject(o, "sha256", in->sha256);
        cJSON_AddStringToObject(o, "format", in->format ? in->format : "unknown");
        cJSON_AddStringToObject(o, "link_type", in->link_type);
        add_u64(o, "packets", in->packets);
        add_u64(o, "bytes", in->bytes);
        add_time(o, "first_packet", in->first_ns);
        add_time(o, "last_packet", in->last_ns);
        cJSON_AddBoolToObject(o, "truncated", in->truncated);
        if (in->error[0])
            cJSON_AddStringToObject(o, "error", in->error);
        else
            cJSON_AddNullToObject(o, "error");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *json_ifaces(const struct report_meta *m)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < m->nifaces; i++) {
        const struct report_iface *f = &m->ifaces[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->name);
        if (f->filter)
            cJSON_AddStringToObject(o, "filter", f->filter);
        else
            cJSON_AddNullToObject(o, "filter");
        cJSON_AddStringToObject(o, "link_type", f->link_type);
        add_u64(o, "packets", f->packets);
        cJSON *st = cJSON_AddObjectToObject(o, "capture_stats");
        cJSON_AddBoolToObject(st, "available", f->stats_ok);
        add_u64(st, "received", f->received);
        add_u64(st, "dropped", f->dropped);
        add_u64(st, "ifdropped", f->ifdropped);
        cJSON_AddStringToObject(o, "stop_reason", f->stop_reason);
        if (f->error[0])
            cJSON_AddStringToObject(o, "error", f->error);
        else
            cJSON_AddNullToObject(o, "error");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *json_incomplete_reasons(const struct report_meta *m)
{
    cJSON *arr = cJSON_CreateArray();
    char buf[REPORT_ERR_LEN + 300];
    for (size_t i = 0; i < m->ninputs; i++) {
        const struct report_input *in = &m->inputs[i];
        if (in->error[0]) {
            snprintf(buf, sizeof buf, "%s: %s", in->path, in->error);
            cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
        }
    }
    for (size_t i = 0; i < m->nifaces; i++) {
        const struct report_iface *f = &m->ifaces[i];
        if (f->dropped || f->ifdropped) {
            snprintf(buf, sizeof buf,
                     "%s: %llu packets dropped by the kernel, %llu by the interface", f->name,
                     (unsigned long long)f->dropped, (unsigned long long)f->ifdropped);
            cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
        }
        if (f->error[0]) {
            snprintf(buf, sizeof buf, "%s: %s", f->name, f->error);
            cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
        }
    }
    static const struct {
        size_t off;
        const char *text;
    } caps[] = {
        { offsetof(struct stats, flows_evicted), "flow table full (FLOW_MAX): flows evicted" },
        { offsetof(struct stats, reasm_ooo_cap), "out-of-order buffer cap hit" },
        { offsetof(struct stats, reasm_memcap), "reassembly memory cap hit" },
        { offsetof(struct stats, reasm_pending_cap), "detector pending-buffer cap hit" },
        { offsetof(struct stats, findings_dropped), "findings cap hit (FINDINGS_MAX)" },
        { offsetof(struct stats, services_dropped), "services cap hit (SERVICES_MAX)" },
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        uint64_t v = *(const uint64_t *)((const char *)&g_stats + caps[i].off);
        if (v > 0) {
            snprintf(buf, sizeof buf, "%s: %llu", caps[i].text, (unsigned long long)v);
            cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
        }
    }
    if (m->interrupted)
        cJSON_AddItemToArray(arr, cJSON_CreateString("interrupted before the end of input"));
    return arr;
}

static cJSON *json_scan(const struct report_meta *m)
{
    cJSON *s = cJSON_CreateObject();
    add_time(s, "start", m->start_ns);
    add_time(s, "end", m->end_ns);
    cJSON_AddStringToObject(s, "mode", m->live ? "live" : "offline");
    cJSON_AddItemToObject(s, "inputs", json_inputs(m));
    cJSON_AddItemToObject(s, "interfaces", json_ifaces(m));
    if (m->skipped_files)
        add_u64(s, "skipped_files", m->skipped_files);
    cJSON_AddBoolToObject(s, "complete", report_complete(m));
    cJSON_AddItemToObject(s, "incomplete_reasons", json_incomplete_reasons(m));
    cJSON_AddBoolToObject(s, "secrets_shown", m->show_secrets);
    if (m->detectors != NULL) {
        /* a restricted scan says so: what it did not look for, it cannot report */
        cJSON *d = cJSON_AddArrayToObject(s, "detectors_only");
        for (size_t i = 0; i < m->ndetectors; i++)
            cJSON_AddItemToArray(d, cJSON_CreateString(m->detectors[i]));
    }
    cJSON *c = cJSON_AddObjectToObject(s, "counters");
    for (unsigned i = 0; i < stats_count(); i++)
        if (stats_value(i) != 0)
            add_u64(c, stats_name(i), stats_value(i));
    add_u64(c, "flows_active_peak", g_stats.flows_active_peak);
    add_u64(c, "reassembly_bytes_peak", g_stats.reasm_bytes_peak);
    return s;
}

static cJSON *json_traffic(uint64_t flows, uint64_t bytes)
{
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "flows", flows);
    add_u64(o, "bytes", bytes);
    return o;
}

static cJSON *json_summary(const struct report_meta *m)
{
    cJSON *s = cJSON_CreateObject();
    const struct traffic_totals *t = services_totals();
    add_u64(s, "packets", g_stats.packets);
    add_u64(s, "bytes", g_stats.bytes);
    add_u64(s, "flows", g_stats.flows);
    uint64_t enc_f = t->flows[SV_ENCRYPTED] + t->flows[SV_UPGRADED];
    uint64_t enc_b = t->bytes[SV_ENCRYPTED] + t->bytes[SV_UPGRADED];
    cJSON_AddItemToObject(s, "encrypted", json_traffic(enc_f, enc_b));
    cJSON_AddItemToObject(s, "plaintext", json_traffic(t->flows[SV_PLAINTEXT],
                                                       t->bytes[SV_PLAINTEXT]));
    cJSON_AddItemToObject(s, "unknown", json_traffic(t->flows[SV_UNKNOWN], t->bytes[SV_UNKNOWN]));
    add_u64(s, "upgraded_flows", t->flows[SV_UPGRADED]);
    uint64_t all = enc_b + t->bytes[SV_PLAINTEXT] + t->bytes[SV_UNKNOWN];
    /* rounded to 4 decimals so the printed number is stable */
    double share = all ? (double)(enc_b * 10000 / all) / 10000.0 : 0.0;
    cJSON_AddNumberToObject(s, "encrypted_share", share);

    cJSON *protos = cJSON_AddArrayToObject(s, "protocols");
    size_t np = 0;
    const struct proto_count *pc = services_protocols(&np);
    for (size_t i = 0; i < np; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", pc[i].name);
        add_u64(o, "flows", pc[i].flows);
        add_u64(o, "bytes", pc[i].bytes);
        cJSON_AddItemToArray(protos, o);
    }
    uint64_t per[SEV_COUNT];
    findings_per_severity(per);
    cJSON *fs = cJSON_AddObjectToObject(s, "findings");
    uint64_t total = 0;
    for (int i = SEV_COUNT - 1; i >= 0; i--) {
        add_u64(fs, severity_name((enum severity)i), per[i]);
        total += per[i];
    }
    add_u64(fs, "total", total);
    cJSON_AddStringToObject(s, "fail_on", severity_name((enum severity)m->fail_on));
    cJSON_AddStringToObject(s, "verdict", report_failed(m) ? "fail" : "pass");
    return s;
}

static void tls_version_name(uint16_t v, char *buf, size_t len)
{
    if (v == 0x0002)
        snprintf(buf, len, "SSL 2.0");
    else if (v == 0x0300)
        snprintf(buf, len, "SSL 3.0");
    else if (v >= 0x0301 && v <= 0x0304)
        snprintf(buf, len, "TLS 1.%u", (unsigned)(v - 0x0301));
    else if ((v & 0xff00) == 0x7f00)
        snprintf(buf, len, "TLS 1.3 draft %u", (unsigned)(v & 0xff));
    else
        snprintf(buf, len, "0x%04x", (unsigned)v);
}

static cJSON *string_array(const char *const *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
    return arr;
}

static cJSON *json_cert(const struct service_tls *t)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "subject", t->cert_subject);
    cJSON_AddStringToObject(c, "issuer", t->cert_issuer);
    cJSON_AddStringToObject(c, "sans", t->cert_sans);
    add_time(c, "not_before", t->cert_not_before_ns);
    add_time(c, "not_after", t->cert_not_after_ns);
    cJSON_AddStringToObject(c, "key", t->cert_key);
    cJSON_AddStringToObject(c, "signature_algorithm", t->cert_sig_alg);
    cJSON_AddBoolToObject(c, "self_signed", t->cert_self_signed);
    cJSON_AddStringToObject(c, "sha256", t->cert_sha256);
    return c;
}

/* The TLS a service showed, or NULL when it showed none. */
static cJSON *json_service_tls(const struct service_view *v)
{
    if (v->ntls_versions == 0 && v->ntls_ciphers == 0 && v->ntls_certs == 0 &&
        v->ntls_snis == 0 && v->ntls_ja3 == 0 && v->ntls_ja4 == 0 && !v->tls_cert_encrypted)
        return NULL;
    cJSON *t = cJSON_CreateObject();
    cJSON *vers = cJSON_AddArrayToObject(t, "versions");
    for (size_t i = 0; i < v->ntls_versions; i++) {
        char buf[32];
        tls_version_name(v->tls_versions[i], buf, sizeof buf);
        cJSON_AddItemToArray(vers, cJSON_CreateString(buf));
    }
    cJSON_AddItemToObject(t, "ciphers", string_array(v->tls_cipher_names, v->ntls_ciphers));
    cJSON_AddItemToObject(t, "sni", string_array(v->tls_snis, v->ntls_snis));
    cJSON_AddItemToObject(t, "ja3", string_array(v->tls_ja3, v->ntls_ja3));
    cJSON_AddItemToObject(t, "ja4", string_array(v->tls_ja4, v->ntls_ja4));
    cJSON_AddBoolToObject(t, "certificate_encrypted", v->tls_cert_encrypted);
    cJSON *certs = cJSON_AddArrayToObject(t, "certificates");
    for (size_t i = 0; i < v->ntls_certs; i++)
        cJSON_AddItemToArray(certs, json_cert(v->tls_certs[i]));
    return t;
}

static cJSON *json_services(void)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = services_count();
    for (size_t i = 0; i < n; i++) {
        struct service_view v;
        service_view_at(i, &v);
        cJSON *o = cJSON_CreateObject();
        add_addr(o, "ip", &v.server);
        cJSON_AddNumberToObject(o, "port", v.port);
        cJSON_AddStringToObject(o, "transport", transport_name(v.transport));
        cJSON_AddStringToObject(o, "protocol", v.protocol);
        cJSON_AddStringToObject(o, "identified_by", v.by_dpi ? "content" : "none");
        if (v.nprotocols > 1) {
            cJSON *pa = cJSON_AddArrayToObject(o, "protocols_seen");
            for (size_t k = 0; k < v.nprotocols; k++)
                cJSON_AddItemToArray(pa, cJSON_CreateString(v.protocols[k]));
        }
        uint64_t enc = v.flows_encrypted + v.flows_upgraded;
        cJSON_AddBoolToObject(o, "encrypted", enc > 0 && v.flows_plaintext == 0);
        cJSON_AddBoolToObject(o, "mixed", enc > 0 && v.flows_plaintext > 0);
        cJSON *fl = cJSON_AddObjectToObject(o, "flows_by_verdict");
        add_u64(fl, "encrypted", v.flows_encrypted);
        add_u64(fl, "upgraded", v.flows_upgraded);
        add_u64(fl, "plaintext", v.flows_plaintext);
        add_u64(fl, "unknown", v.flows_unknown);
        if (v.nhosts > 0)
            cJSON_AddItemToObject(o, "hosts", string_array(v.hosts, v.nhosts));
        cJSON *tls = json_service_tls(&v);
        if (tls != NULL)
            cJSON_AddItemToObject(o, "tls", tls);
        cJSON_AddItemToObject(o, "clients", addr_array(v.clients, v.nclients));
        add_u64(o, "clients_total", v.clients_total);
        add_u64(o, "flows", v.flows);
        add_u64(o, "packets", v.packets);
        add_u64(o, "bytes", v.bytes);
        add_time(o, "first_seen", v.first_ns);
        add_time(o, "last_seen", v.last_ns);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* A stable id: the same finding in the same capture gets the same id. */
static void finding_id(const struct finding_view *v, char out[20])
{
    static const char digits[] = "0123456789abcdef";
    char key[160];
    char ip[ADDR_STRLEN];
    uint8_t md[32];
    addr_format(&v->server, ip, sizeof ip);
    int n = snprintf(key, sizeof key, "%s|%s|%s|%u", v->rule->id, transport_name(v->transport),
                     ip, v->server_port);
    sha256_once(key, n > 0 ? (size_t)n : 0, md);
    memcpy(out, "LS-", 3);
    for (int i = 0; i < 6; i++) {
        out[3 + 2 * i] = digits[md[i] >> 4];
        out[4 + 2 * i] = digits[md[i] & 15];
    }
    out[15] = '\0';
}

static cJSON *json_evidence(const struct finding_view *v)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < v->nsamples; i++) {
        const struct finding_sample *s = &v->samples[i];
        cJSON *o = cJSON_CreateObject();
        add_u64(o, "packet", s->pkt_no);
        add_time(o, "time", s->ts_ns);
        cJSON_AddStringToObject(o, "direction", s->dir == FDIR_TO_SERVER ? "client-to-server"
                                                                         : "server-to-client");
        cJSON_AddStringToObject(o, "field", s->field);
        cJSON_AddStringToObject(o, "excerpt", s->excerpt);
        if (s->fingerprint[0])
            cJSON_AddStringToObject(o, "fingerprint", s->fingerprint);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *json_findings(void)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = 0;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        struct finding_view v;
        char id[20];
        finding_view(all[i], &v);
        finding_id(&v, id);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "rule", v.rule->id);
        cJSON_AddStringToObject(o, "severity", severity_name(v.rule->severity));
        cJSON_AddStringToObject(o, "title", v.rule->title);
        cJSON_AddStringToObject(o, "protocol", v.protocol ? v.protocol : "Unknown");
        cJSON *srv = cJSON_AddObjectToObject(o, "server");
        add_addr(srv, "ip", &v.server);
        cJSON_AddNumberToObject(srv, "port", v.server_port);
        cJSON_AddStringToObject(srv, "transport", transport_name(v.transport));
        cJSON_AddItemToObject(o, "clients", addr_array(v.clients, v.nclients));
        add_u64(o, "clients_total", v.clients_total);
        add_time(o, "first_seen", v.first_ns);
        add_time(o, "last_seen", v.last_ns);
        add_u64(o, "occurrences", v.occurrences);
        add_u64(o, "flows", v.flows);
        if (v.distinct_secrets > 0)
            add_u64(o, "distinct_secrets", v.distinct_secrets);
        cJSON_AddItemToObject(o, "evidence", json_evidence(&v));
        cJSON *comp = cJSON_AddArrayToObject(o, "compliance");
        for (const struct compliance_ref *c = v.rule->compliance; c && c->framework; c++) {
            cJSON *co = cJSON_CreateObject();
            cJSON_AddStringToObject(co, "framework", c->framework);
            cJSON_AddStringToObject(co, "requirement", c->requirement);
            cJSON_AddItemToArray(comp, co);
        }
        cJSON_AddStringToObject(o, "remediation", v.rule->remediation ? v.rule->remediation : "");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static char *report_render(const struct report_meta *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "report_version", REPORT_VERSION);
    cJSON_AddItemToObject(root, "tool", json_tool(m));
    cJSON_AddItemToObject(root, "scan", json_scan(m));
    cJSON_AddItemToObject(root, "summary", json_summary(m));
    cJSON_AddItemToObject(root, "services", json_services());
    cJSON_AddItemToObject(root, "findings", json_findings());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int report_write(const struct report_meta *m, const char *path, char *err, size_t errlen)
{
    char *text = report_render(m);
    if (text == NULL) {
        snprintf(err, errlen, "%s: out of memory while building the report", path);
        return -1;
    }
    size_t len = strlen(text);
    int rc = -1;
    if (strcmp(path, "-") == 0) {
        if (write_all(STDOUT_FILENO, text, len) == 0 && write_all(STDOUT_FILENO, "\n", 1) == 0)
            rc = 0;
        else
            snprintf(err, errlen, "standard output: %s", strerror(errno));
        free(text);
        return rc;
    }
    /* the temporary file sits next to the target so rename() is atomic */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (tmp == NULL) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 ||
        write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write the report: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write the report: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    free(text);
    return rc;
}
