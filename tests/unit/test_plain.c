/*
 * test_plain.c - the plain-text detector: which flows it takes, and the
 * secrets it finds in them, replayed whole and cut at every segment size
 * (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "../../scanner/engine.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_plain;

/* An unknown flow (nDPI could not name it) that opens like IMAP on 143. */
static struct flow_view imap_like(void)
{
    static const char head[] = "* OK ready\r\na1 LOGIN x y\r\n";
    struct flow_view fv = conv_view(6, 143, "Unknown");
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)head;
    fv.head_len[DIR_TO_CLIENT] = sizeof head - 1;
    return fv;
}

/* The IMAP detector wants such a flow, so plain leaves it; when a
 * restricted scan runs plain alone, plain takes it (what the user asked
 * to look at is looked at). */
static void test_wants_defers_to_active_only(void)
{
    struct flow_view fv = imap_like();
    engine_use_detectors(NULL);
    CHECK(!detector_plain.wants(&fv));
    static const struct detector *const only_plain[] = { &detector_plain, NULL };
    engine_use_detectors(only_plain);
    CHECK(detector_plain.wants(&fv));
    engine_use_detectors(NULL);
}

/* FTP data connections nDPI names are file contents: taken when text,
 * other named protocols are not. */
static void test_wants_ftp_data(void)
{
    static const char file[] = "id,card\n1,4111111111111111\n";
    struct flow_view fv = conv_view(6, 30001, "FTP_DATA");
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)file;
    fv.head_len[DIR_TO_CLIENT] = sizeof file - 1;
    CHECK(detector_plain.wants(&fv));
    fv.protocol = "SSH";
    CHECK(!detector_plain.wants(&fv));
}

/* A card number split across segments of a text stream is found once. */
static void test_stream(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 30001, "FTP_DATA");
    conv_text(&c, DIR_TO_CLIENT, "id,card\n1,4111 1111 ");
    conv_text(&c, DIR_TO_CLIENT, "1111 1111\n2,none\n");
    conv_seal(&c);
    conv_check(&detector_plain, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 1);
    conv_free(&c);
}

int main(void)
{
    RUN(test_wants_defers_to_active_only);
    RUN(test_wants_ftp_data);
    RUN(test_stream);
    return unit_done("test_plain");
}
