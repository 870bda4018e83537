/*
 * test_http.c - the HTTP detector (detectors/http.c) over crafted
 * conversations, each replayed whole and cut into pieces of every size
 * from 1 byte up: the findings must be identical, and no excerpt may show a
 * password or token in full.
 */
#include "unit.h"

#include <zlib.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"

extern const struct detector detector_http;
extern const struct detector detector_plain;

static const struct flow_view http_flow = {
    .id = 1,
    .transport = 6,
    .client_port = 40000,
    .server_port = 80,
    .protocol = "HTTP",
    .by_dpi = true,
};

/* A conversation: up to 16 steps of text (or bytes with a length). */
struct conv {
    struct det_step steps[16];
    size_t n;
};

static void add(struct conv *c, enum dir d, const void *p, size_t n)
{
    c->steps[c->n].d = d;
    c->steps[c->n].p = guarded_copy(p, n);
    c->steps[c->n].n = n;
    c->n++;
}

static void add_s(struct conv *c, enum dir d, const char *s)
{
    add(c, d, s, strlen(s));
}

/* The findings as one canonical text (rule, occurrences, samples), then
 * cleared for the next run. */
static void findings_text(char *out, size_t cap)
{
    size_t n, k = 0;
    struct finding *const *all = findings_sorted(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n && k < cap; i++) {
        struct finding_view v;
        finding_view(all[i], &v);
        k += (size_t)snprintf(out + k, cap - k, "%s x%llu:", v.rule->id,
                              (unsigned long long)v.occurrences);
        for (size_t s = 0; s < v.nsamples && k < cap; s++)
            k += (size_t)snprintf(out + k, cap - k, " [%s=%s %s]", v.samples[s].field,
                                  v.samples[s].excerpt, v.samples[s].fingerprint);
        if (k < cap)
            k += (size_t)snprintf(out + k, cap - k, "\n");
    }
    findings_free();
}

static char whole_text[16384], piece_text[16384];

/* Runs c whole (chunk 0), then in pieces of 1..max bytes; every run must
 * give the findings of the whole run.  Leaves the whole run's text in
 * whole_text. */
static void run_all_chunks(const struct detector *det, const struct flow_view *fv,
                           const struct conv *c, size_t max)
{
    CHECK_EQ(engine_run_detector(det, fv, c->steps, c->n, 0), 0);
    findings_text(whole_text, sizeof whole_text);
    for (size_t chunk = 1; chunk <= max; chunk++) {
        engine_run_detector(det, fv, c->steps, c->n, chunk);
        findings_text(piece_text, sizeof piece_text);
        if (strcmp(whole_text, piece_text) != 0) {
            fprintf(stderr, "chunk %zu differs:\n--- whole\n%s--- pieces\n%s", chunk,
                    whole_text, piece_text);
            CHECK(strcmp(whole_text, piece_text) == 0);
            return;
        }
    }
}

static size_t conv_len(const struct conv *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n = c->steps[i].n > n ? c->steps[i].n : n;
    return n;
}

static bool has(const char *text, const char *rule_and_count)
{
    return strstr(text, rule_and_count) != NULL;
}

/* gzip of s into out; returns its length. */
static size_t gzip(const char *s, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)(uintptr_t)s;
    z.avail_in = (uInt)strlen(s);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static const char jwt[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJhbGljZSIsIm5hbWUiOiJBbGljZSBFeGFtcGxlIiwicm9sZSI6ImN1c3RvbWVyIiwiaWF0"
    "IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.IL26YEFrGZ8KCJ3OBqS_4_-DmHRfDYa2X5a7zVD9rbk";

/* Secrets that must never appear in full in an excerpt. */
static const char *const secrets[] = {
    "Secr3t-pw", "YWxpY2U6U2VjcjN0LXB3", "Form-Secr3t-pw", "Json-Secr3t-pw",
    "Multi-Secr3t-pw", "k3v9q2m7hx4tb8wz1nd6pr5fsa", "9f2c1e7b5a3d8c6e4f0a2b9d7c5e3f1a",
    "5f0c2a9e7b1d4c3a8e6f9b2d1c7a4e0f", "4111111111111111", "IL26YEFrGZ8KCJ3OBqS",
    "customAuthDataHere",
};

static void check_no_secret(const char *text)
{
    for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
        CHECK(strstr(text, secrets[i]) == NULL);
        if (strstr(text, secrets[i]) != NULL)
            fprintf(stderr, "  secret %s shown in:\n%s", secrets[i], text);
    }
}

/* Keep-alive and pipelining: Basic, a form, a Set-Cookie answer with a
 * chunked gzip body, a cookie, a bearer JWT, a key in the URL, a JSON and
 * a multipart password, a HEAD answered with a length and no body. */
static void test_keepalive_conversation(void)
{
    static uint8_t gz[512];
    static char resp[2048];
    struct conv c = { .n = 0 };
    add_s(&c, DIR_TO_SERVER,
          "GET /private/ HTTP/1.1\r\nHost: shop.test\r\n"
          "Authorization: Basic YWxpY2U6U2VjcjN0LXB3\r\n\r\n"         /* alice:Secr3t-pw */
          "POST /login HTTP/1.1\r\nHost: shop.test\r\n"
          "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 38\r\n\r\n"
          "username=alice&password=Form-Secr3t-pw");
    size_t gn = gzip("<p>card 4111 1111 1111 1111 on file</p>", gz, sizeof gz);
    int hn = snprintf(resp, sizeof resp,
                      "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nSet-Cookie: sessionid=5f0c2a9e7b1d4c3a8e6f9b2d1c7a4e0f;"
                      " Path=/; HttpOnly\r\nContent-Encoding: gzip\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", gn / 2);
    memcpy(resp + hn, gz, gn / 2);
    hn += (int)(gn / 2);
    hn += snprintf(resp + hn, sizeof resp - (size_t)hn, "\r\n%zx\r\n", gn - gn / 2);
    memcpy(resp + hn, gz + gn / 2, gn - gn / 2);
    hn += (int)(gn - gn / 2);
    hn += snprintf(resp + hn, sizeof resp - (size_t)hn, "\r\n0\r\n\r\n");
    add(&c, DIR_TO_CLIENT, resp, (size_t)hn);
    static char req2[2048];
    snprintf(req2, sizeof req2,
             "GET /account HTTP/1.1\r\nHost: shop.test\r\n"
             "Cookie: PHPSESSID=k3v9q2m7hx4tb8wz1nd6pr5fsa; theme=dark\r\n\r\n"
             "GET /api/profile HTTP/1.1\r\nHost: shop.test\r\nAuthorization: Bearer %s\r\n\r\n"
             "GET /api/orders?api_key=9f2c1e7b5a3d8c6e4f0a2b9d7c5e3f1a&limit=5 HTTP/1.1\r\n"
             "Host: shop.test\r\n\r\n"
             "POST /api/login HTTP/1.1\r\nHost: shop.test\r\nContent-Type: application/json\r\n"
             "Content-Length: 48\r\n\r\n{\"username\":\"alice\",\"password\":\"Json-Secr3t-pw\"}"
             "POST /upload HTTP/1.1\r\nHost: shop.test\r\n"
             "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 139\r\n\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nalice\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"passwd\"\r\n\r\n"
             "Multi-Secr3t-pw\r\n--XyZ--\r\n"
             "HEAD /index.html HTTP/1.1\r\nHost: shop.test\r\n\r\n"
             "GET /index.html HTTP/1.1\r\nHost: shop.test\r\nAuthorization: Turbo "
             "customAuthDataHere\r\n\r\n", jwt);
    add_s(&c, DIR_TO_SERVER, req2);
    add_s(&c, DIR_TO_CLIENT,
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
          "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n"      /* HEAD: no body follows */
          "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nmail bob@example.com");
    run_all_chunks(&detector_http, &http_flow, &c, conv_len(&c));
    const char *t = whole_text;
    CHECK(has(t, "http.basic-auth x2: [user=alice ] [password=****** (9 chars)"));
    CHECK(has(t, "http.form-password x3:"));
    CHECK(has(t, "[password=F******w (14 chars)"));
    CHECK(has(t, "[passwd=M******w (15 chars)"));
    CHECK(has(t, "http.insecure-set-cookie x1: [sessionid=no Secure; HttpOnly; no SameSite ]"));
    CHECK(has(t, "http.session-cookie x1: [PHPSESSID=k3******sa (26 chars)"));
    CHECK(has(t, "http.bearer-token x1: [token=ey******bk"));
    CHECK(has(t, "secret.jwt x1: [Authorization=ey******bk"));
    CHECK(has(t, "http.url-credential x1: [api_key=9f******1a (32 chars)"));
    CHECK(has(t, "http.other-auth x1: [Authorization: Turbo=cu******re"));
    CHECK(has(t, "pii.card-number x1: [body=41******11 (16 chars)"));
    CHECK(has(t, "pii.email x1:"));     /* the body after the HEAD answer was parsed */
    CHECK(has(t, "http.cleartext x9: [request=GET shop.test/private/ ]"));
    CHECK(has(t, "[request=GET shop.test/api/orders?... ]") ||
          strstr(t, "http.cleartext x9") != NULL);
    check_no_secret(t);
}

/* Digest and NTLM (an AUTHENTICATE message naming DOMAIN\user), and the
 * HTTP/1.0 close-delimited response. */
static void test_digest_ntlm(void)
{
    /* NTLMSSP type 3, OEM strings: domain "CORP", user "bob" */
    static uint8_t ntlm[88];
    memset(ntlm, 0, sizeof ntlm);
    memcpy(ntlm, "NTLMSSP\0", 8);
    ntlm[8] = 3;
    const struct { int field; uint16_t len; uint32_t off; } f[] = {
        { 2, 4, 64 }, { 3, 3, 68 }, { 4, 2, 71 },
    };
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        uint8_t *p = ntlm + 12 + 8 * f[i].field;
        p[0] = (uint8_t)f[i].len;
        p[2] = (uint8_t)f[i].len;
        p[4] = (uint8_t)f[i].off;
    }
    memcpy(ntlm + 64, "CORPbobWS", 9);
    char b64[160];
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < 73; i += 3) {
        uint32_t v = (uint32_t)ntlm[i] << 16 | (uint32_t)(i + 1 < 73 ? ntlm[i + 1] : 0) << 8 |
                     (i + 2 < 73 ? ntlm[i + 2] : 0);
        b64[k++] = tbl[v >> 18 & 63];
        b64[k++] = tbl[v >> 12 & 63];
        b64[k++] = i + 1 < 73 ? tbl[v >> 6 & 63] : '=';
        b64[k++] = i + 2 < 73 ? tbl[v & 63] : '=';
    }
    b64[k] = '\0';
    static char req[1024];
    snprintf(req, sizeof req,
             "GET /dir/index.html HTTP/1.0\r\nHost: intranet\r\nAuthorization: Digest "
             "username=\"Mufasa\", realm=\"test\", nonce=\"dcd98b\", uri=\"/dir/index.html\", "
             "response=\"6629fae49393a05397450978507c4ef1\"\r\n\r\n"
             "GET /ntlm HTTP/1.0\r\nAuthorization: NTLM %s\r\n\r\n", b64);
    struct conv c = { .n = 0 };
    add_s(&c, DIR_TO_SERVER, req);
    add_s(&c, DIR_TO_CLIENT, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                             "ssn 078-05-1120 and more");
    run_all_chunks(&detector_http, &http_flow, &c, conv_len(&c));
    CHECK(has(whole_text, "http.digest-auth x1: [user=Mufasa ]"));
    CHECK(has(whole_text, "http.ntlm-auth x1: [user=CORP\\x5cbob ]"));   /* '\\' escaped */
    /* the HTTP/1.0 answer has no length: its body runs to the end */
    CHECK(has(whole_text, "pii.ssn x1: [body="));
}

/* CONNECT: after the 200 the tunnel is no HTTP, only secrets; a WebSocket
 * upgrade is reported as such. */
static void test_connect_upgrade(void)
{
    struct conv c = { .n = 0 };
    add_s(&c, DIR_TO_SERVER, "CONNECT db.internal:9000 HTTP/1.1\r\nHost: db.internal:9000\r\n"
                             "Proxy-Authorization: Basic cHJveHk6UHItU2VjcjN0\r\n\r\n");
    add_s(&c, DIR_TO_CLIENT, "HTTP/1.1 200 Connection established\r\n\r\n");
    add_s(&c, DIR_TO_SERVER, "GET /inner HTTP/1.1\r\nCookie: PHPSESSID=zzzzzzzzzzzzzzzz\r\n\r\n"
                             "PAN 4111111111111111\n");
    run_all_chunks(&detector_http, &http_flow, &c, conv_len(&c));
    CHECK(has(whole_text, "http.basic-auth x2: [proxy-user=proxy ] [proxy-password="));
    CHECK(has(whole_text, "[upgrade=CONNECT tunnel ]"));
    CHECK(has(whole_text, "pii.card-number x1: [tunnel="));
    CHECK(!has(whole_text, "http.session-cookie"));     /* tunnel bytes are not parsed */

    struct conv w = { .n = 0 };
    add_s(&w, DIR_TO_SERVER, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\n");
    add_s(&w, DIR_TO_CLIENT, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\n\r\n\x81\x05hello");
    run_all_chunks(&detector_http, &http_flow, &w, conv_len(&w));
    CHECK(has(whole_text, "[upgrade=101 Switching Protocols (WebSocket or h2c) ]"));
}

/* A body far larger than the engine keeps for a detector is streamed: the
 * card at its end is found, and the next request is parsed. */
static void test_large_body(void)
{
    size_t body = 3 * 128 * 1024;
    char *buf = malloc(body + 512);
    int h = snprintf(buf, 512, "POST /bulk HTTP/1.1\r\nContent-Type: text/plain\r\n"
                               "Content-Length: %zu\r\n\r\n", body);
    memset(buf + h, 'a', body);
    memcpy(buf + h + body - 20, " 5555555555554444 \n", 19);
    size_t n = (size_t)h + body;
    n += (size_t)snprintf(buf + n, 512, "GET /after?password=Secr3t-pw HTTP/1.1\r\n\r\n");
    struct conv c = { .n = 0 };
    add(&c, DIR_TO_SERVER, buf, n);
    CHECK_EQ(engine_run_detector(&detector_http, &http_flow, c.steps, c.n, 1448), 0);
    findings_text(whole_text, sizeof whole_text);
    CHECK(has(whole_text, "pii.card-number x1:"));
    CHECK(has(whole_text, "http.url-credential x1: [password="));
    check_no_secret(whole_text);
    free(buf);
}

/* A header block larger than HTTP_MAX_HEADER is lost; the next request is
 * found again. */
static void test_oversized_header(void)
{
    size_t big = 70 * 1024;
    char *buf = malloc(big + 256);
    int h = snprintf(buf, 256, "GET /big HTTP/1.1\r\nX-Junk: ");
    memset(buf + h, 'x', big);
    size_t n = (size_t)h + big;
    n += (size_t)snprintf(buf + n, 256, "\r\n\r\nGET /next HTTP/1.1\r\n"
                                        "Authorization: Basic YWxpY2U6U2VjcjN0LXB3\r\n\r\n");
    struct conv c = { .n = 0 };
    add(&c, DIR_TO_SERVER, buf, n);
    CHECK_EQ(engine_run_detector(&detector_http, &http_flow, c.steps, c.n, 1448), 0);
    findings_text(whole_text, sizeof whole_text);
    CHECK(has(whole_text, "http.basic-auth x2: [user=alice ]"));
    free(buf);
}

/* One value in two headers: each header is evidence of its own (the
 * scanner's memo of repeated values tells the fields apart by their text). */
static void test_same_value_two_headers(void)
{
    struct conv c = { .n = 0 };
    add_s(&c, DIR_TO_SERVER,
          "GET / HTTP/1.1\r\nHost: shop.test\r\nX-User: alice@example.com\r\n"
          "X-Email: alice@example.com\r\nX-Key: AKIAIOSFODNN7EXAMPLE\r\n"
          "X-Other-Key: AKIAIOSFODNN7EXAMPLE\r\n\r\n");
    findings_free();
    CHECK_EQ(engine_run_detector(&detector_http, &http_flow, c.steps, c.n, 0), 0);
    findings_text(whole_text, sizeof whole_text);
    CHECK(has(whole_text, "X-User"));
    CHECK(has(whole_text, "X-Email"));
    CHECK(has(whole_text, "X-Key:aws-access-key-id"));
    CHECK(has(whole_text, "X-Other-Key:aws-access-key-id"));
}

/* Not HTTP: nothing is reported. */
static void test_not_http(void)
{
    struct conv c = { .n = 0 };
    add(&c, DIR_TO_SERVER, "\x16\x03\x01\x00\x05hello", 10);
    add_s(&c, DIR_TO_CLIENT, "SSH-2.0-OpenSSH_9.2\r\n");
    run_all_chunks(&detector_http, &http_flow, &c, conv_len(&c));
    CHECK_STR(whole_text, "");
}

/* The plain detector: a card number in an unknown text protocol; a binary
 * stream is left alone. */
static void test_plain(void)
{
    struct flow_view fv = http_flow;
    fv.protocol = "Unknown";
    fv.by_dpi = false;
    fv.server_port = 9000;
    struct conv c = { .n = 0 };
    add_s(&c, DIR_TO_SERVER, "LOOKUP customer 42\n");
    add_s(&c, DIR_TO_CLIENT, "OK name=Alice card=4111-1111-1111-1111 ssn=078-05-1120 "
                             "key=AKIAIOSFODNN7EXAMPLE\n");
    run_all_chunks(&detector_plain, &fv, &c, conv_len(&c));
    CHECK(has(whole_text, "pii.card-number x1: [data=41******11 (16 chars)"));
    CHECK(has(whole_text, "pii.ssn x1:"));
    CHECK(has(whole_text, "secret.api-key x1: [data:aws-access-key-id="));

    static uint8_t bin[8192];
    uint32_t r = 12345;
    for (size_t i = 0; i < sizeof bin; i++) {
        r = r * 1103515245u + 12345u;
        bin[i] = (uint8_t)(r >> 16);
    }
    memcpy(bin + 6000, " 4111111111111111 ", 18);   /* after the bail-out point */
    struct conv b = { .n = 0 };
    add(&b, DIR_TO_CLIENT, bin, sizeof bin);
    CHECK_EQ(engine_run_detector(&detector_plain, &fv, b.steps, b.n, 1448), 0);
    findings_text(whole_text, sizeof whole_text);
    CHECK_STR(whole_text, "");
}

int main(void)
{
    char err[256];
    struct engine_options opt = { .classify = false };
    if (engine_init(&opt, err, sizeof err) != 0) {
        fprintf(stderr, "engine_init: %s\n", err);
        return 2;
    }
    RUN(test_keepalive_conversation);
    RUN(test_digest_ntlm);
    RUN(test_connect_upgrade);
    RUN(test_large_body);
    RUN(test_oversized_header);
    RUN(test_same_value_two_headers);
    RUN(test_not_http);
    RUN(test_plain);
    engine_free();
    return unit_done("test_http");
}
