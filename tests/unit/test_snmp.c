/*
 * test_snmp.c - the SNMP detector on v1, v2c and v3 datagrams (RFC 1157,
 * 3416, 3412 in BER).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_snmp;

/* v1 GetRequest, community "public", one varbind sysDescr.0 NULL:
 *   30 26 | 02 01 00 | 04 06 "public" | a0 19 02 01 01 02 01 00 02 01 00
 *   30 0e 30 0c 06 08 2b 06 01 02 01 01 01 00 05 00 */
static const uint8_t v1_get[] = {
    0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
    0xa0, 0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
    0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,
    0x05, 0x00,
};

/* v2c GetResponse, community "[R0_C@cti!]" (long-form outer length). */
static const uint8_t v2c_resp[] = {
    0x30, 0x81, 0x1f, 0x02, 0x01, 0x01, 0x04, 0x0b, '[', 'R', '0', '_', 'C', '@', 'c', 't', 'i',
    '!', ']', 0xa2, 0x0d, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x02,
    0x30, 0x00,
};

/* v3: version 3, then msgGlobalData, no community. */
static const uint8_t v3_get[] = {
    0x30, 0x11, 0x02, 0x01, 0x03, 0x30, 0x0c, 0x02, 0x01, 0x01, 0x02, 0x02, 0x05, 0xdc,
    0x04, 0x01, 0x04, 0x02, 0x01, 0x03,
};

static void test_v1(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(17, 161, "SNMP");
    conv_add(&c, DIR_TO_SERVER, v1_get, sizeof v1_get, false);
    conv_add(&c, DIR_TO_SERVER, v1_get, sizeof v1_get, false);
    conv_seal(&c);
    conv_reset();
    CHECK_EQ(engine_run_detector(&detector_snmp, &fv, c.steps, c.nsteps, 0), 0);
    struct finding_view v;
    CHECK(conv_finding("snmp.community", &v));
    CHECK(conv_sample(&v, "community (v1)", "****** (6 chars)"));
    CHECK(!conv_sample(&v, "community (v1)", "public"));
    CHECK_EQ(v.occurrences, 1);
    conv_free(&c);
}

static void test_v2c_response_only(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(17, 161, "Unknown");
    conv_add(&c, DIR_TO_CLIENT, v2c_resp, sizeof v2c_resp, false);
    conv_seal(&c);
    conv_reset();
    CHECK_EQ(engine_run_detector(&detector_snmp, &fv, c.steps, c.nsteps, 0), 0);
    struct finding_view v;
    CHECK(conv_finding("snmp.community", &v));
    CHECK(conv_sample(&v, "community (v2c)", "11 chars"));
    conv_free(&c);
}

/* v3, and every truncation of a v1 message: no finding, no over-read. */
static void test_v3_and_truncated(void)
{
    struct flow_view fv = conv_view(17, 161, "SNMP");
    struct det_step s = { DIR_TO_SERVER, guarded_copy(v3_get, sizeof v3_get), sizeof v3_get };
    conv_reset();
    CHECK_EQ(engine_run_detector(&detector_snmp, &fv, &s, 1, 0), 0);
    CHECK_EQ(conv_nfindings(), 0);
    for (size_t cut = 0; cut < 15; cut++) {
        struct det_step t = { DIR_TO_SERVER, guarded_copy(v1_get, cut), cut };
        conv_reset();
        CHECK_EQ(engine_run_detector(&detector_snmp, &fv, &t, 1, 0), 0);
        CHECK_EQ(conv_nfindings(), 0);
    }
    conv_reset();
}

static void test_wants(void)
{
    struct flow_view fv = conv_view(17, 161, "Unknown");
    fv.head[DIR_TO_SERVER] = v1_get;
    fv.head_len[DIR_TO_SERVER] = sizeof v1_get;
    CHECK(detector_snmp.wants(&fv));
    fv.server_port = 5353;
    CHECK(!detector_snmp.wants(&fv));
    fv.server_port = 161;
    fv.transport = 6;
    CHECK(!detector_snmp.wants(&fv));
}

int main(void)
{
    RUN(test_v1);
    RUN(test_v2c_response_only);
    RUN(test_v3_and_truncated);
    RUN(test_wants);
    return unit_done("test_snmp");
}
