/*
 * test_elasticsearch.c - the Elasticsearch transport detector on messages
 * taken from a real 7.x cluster (the ndpi elasticsearch.pcap capture).
 *
 * Each conversation runs whole and cut at every piece size: the findings
 * must not change with the segmentation.
 */
#include <stdio.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"
#include "unit.h"

extern const struct detector detector_elasticsearch;

/* 'E' 'S', length 0x34, request id 1, status 0x08 (handshake request),
 * version 7.x, variable header, then the action "internal:tcp/handshake" */
static const unsigned char handshake_req[] = {
    0x45, 0x53, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x5c, 0xc6, 0x63, 0x00, 0x00, 0x01, 0x06, 0x78, 0x2d, 0x70, 0x61, 0x63,
    0x6b, 0x16, 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', ':', 't', 'c', 'p', '/', 'h',
    'a', 'n', 'd', 's', 'h', 'a', 'k', 'e', 0x00, 0x04, 0xcb, 0xf6, 0xae, 0x03,
};

/* the response: status 0x09 (handshake response), no action */
static const unsigned char handshake_resp[] = {
    0x45, 0x53, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x09, 0x00, 0x5c, 0xc6, 0x63, 0x00, 0x00, 0xcb, 0xf6, 0xae, 0x03,
};

static struct flow_view view(const unsigned char *head, size_t n)
{
    struct flow_view fv;
    memset(&fv, 0, sizeof fv);
    fv.transport = 6;
    fv.client.family = fv.server.family = 4;
    fv.client.b[0] = 10;
    fv.server.b[0] = 10;
    fv.server.b[3] = 7;
    fv.client_port = 40282;
    fv.server_port = 9300;
    fv.protocol = "Unknown";
    fv.head[DIR_TO_SERVER] = head;
    fv.head_len[DIR_TO_SERVER] = n;
    return fv;
}

/* Runs the conversation cut into pieces of chunk bytes; returns the
 * number of findings and the first one's first excerpt in *excerpt. */
static size_t run(size_t chunk, char *excerpt, size_t len)
{
    const unsigned char *a = guarded_copy(handshake_req, sizeof handshake_req);
    const unsigned char *b = guarded_copy(handshake_resp, sizeof handshake_resp);
    struct det_step steps[] = {
        { DIR_TO_SERVER, a, sizeof handshake_req },
        { DIR_TO_CLIENT, b, sizeof handshake_resp },
    };
    struct flow_view fv = view(a, sizeof handshake_req);
    findings_free();
    engine_run_detector(&detector_elasticsearch, &fv, steps, 2, chunk);
    size_t n = 0;
    struct finding *const *all = findings_sorted(&n);
    excerpt[0] = '\0';
    if (n > 0) {
        struct finding_view v;
        finding_view(all[0], &v);
        if (v.nsamples > 0)
            snprintf(excerpt, len, "%s", v.samples[0].excerpt);
    }
    return n;
}

static void test_handshake_action(void)
{
    char ex[256];
    CHECK_EQ(run(0, ex, sizeof ex), 1);
    CHECK_STR(ex, "internal:tcp/handshake");
    size_t n = 0;
    struct finding *const *all = findings_sorted(&n);
    if (n == 1) {
        struct finding_view v;
        finding_view(all[0], &v);
        CHECK_STR(v.rule->id, "elasticsearch.cleartext-session");
        CHECK_EQ(v.server_port, 9300);
    }
    findings_free();
}

static void test_every_piece_size(void)
{
    for (size_t chunk = 1; chunk <= sizeof handshake_req; chunk++) {
        char ex[256];
        CHECK_EQ(run(chunk, ex, sizeof ex), 1);
        CHECK_STR(ex, "internal:tcp/handshake");
    }
    findings_free();
}

static void test_wants(void)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const unsigned char huge[] = { 'E', 'S', 0x7f, 0xff, 0xff, 0xff, 0, 0 };
    struct flow_view fv = view(handshake_req, sizeof handshake_req);
    CHECK(detector_elasticsearch.wants(&fv));
    fv = view((const unsigned char *)http, sizeof http - 1);
    CHECK(!detector_elasticsearch.wants(&fv));
    fv = view(huge, sizeof huge);
    CHECK(!detector_elasticsearch.wants(&fv));
    fv = view(handshake_req, sizeof handshake_req);
    fv.protocol = "HTTP";
    fv.by_dpi = true;
    CHECK(!detector_elasticsearch.wants(&fv));
}

/* Garbage after a valid message: the detector stops, nothing more fires. */
static void test_garbage(void)
{
    static const char junk[] = "\x01\x02\x03 not the transport protocol at all";
    const unsigned char *g = guarded_copy(junk, sizeof junk - 1);
    struct det_step steps[] = { { DIR_TO_SERVER, g, sizeof junk - 1 } };
    struct flow_view fv = view(g, sizeof junk - 1);
    findings_free();
    for (size_t chunk = 0; chunk < 8; chunk++)
        engine_run_detector(&detector_elasticsearch, &fv, steps, 1, chunk);
    CHECK_EQ(findings_count(), 0);
    findings_free();
}

int main(void)
{
    RUN(test_handshake_action);
    RUN(test_every_piece_size);
    RUN(test_wants);
    RUN(test_garbage);
    return unit_done("test_elasticsearch");
}
