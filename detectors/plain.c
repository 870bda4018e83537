/*
 * plain.c - the secrets engine on streams nobody else reads: a card number
 * in an unknown protocol on port 9000 is still found.
 *
 * Attaches to flows nDPI could not name (not even by a port guess that it
 * confirmed from the bytes), and to the FTP data connections it names, that
 * no other detector wants, when the
 * first bytes seen look like text.  Every byte then goes through
 * detectors/secrets.c (secrets.h), streamed per direction so a secret split
 * across segments is found once.  Binary or encrypted streams cost almost
 * nothing: the first PLAIN_SNIFF bytes of each direction are counted, and a
 * direction that is not mostly printable makes the detector detach (an
 * encrypted protocol nDPI does not know, compressed or media streams).
 * UDP datagrams are scanned one by one.
 * What it does not do: name the protocol, or report the session itself (an
 * unknown text protocol is not a finding; the secrets in it are).
 */
#include "detector.h"

#include <string.h>

#include "secrets.h"

/* Bytes of each direction looked at before deciding the stream is text,
 * and the share of them that must be printable ASCII (tab, CR, LF count):
 * text protocols are close to 100%, compressed or encrypted bytes ~37%. */
#define PLAIN_SNIFF             4096u
#define PLAIN_TEXT_PERCENT      75u

struct plain_state {
    struct secrets_stream ss[2];
    uint32_t seen[2];           /* bytes counted for the text test */
    uint32_t text[2];           /* printable among them */
    bool plaintext_done;        /* detector_flow_plaintext() called */
};

extern const struct detector detector_plain;

static bool plain_printable(uint8_t b)
{
    return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n';
}

/* Printable bytes among the first max of p/n. */
static size_t plain_count_text(const uint8_t *p, size_t n, size_t max, size_t *looked)
{
    size_t k = n < max ? n : max, t = 0;
    for (size_t i = 0; i < k; i++)
        t += plain_printable(p[i]);
    *looked = k;
    return t;
}

static bool plain_mostly_text(size_t text, size_t seen)
{
    return text * 100 >= seen * PLAIN_TEXT_PERCENT;
}

/* Unknown flows that no other detector takes, whose first bytes (when
 * there are any yet) look like text. */
static bool plain_wants(const struct flow_view *f)
{
    if (f->transport != 6 && f->transport != 17)
        return false;
    /* unknown streams, and FTP data connections nDPI names (file contents:
     * the FTP detector reads the control connection only) */
    bool ftp_data = flow_dpi_is(f, "FTP_DATA");
    if (!ftp_data && (f->by_dpi || f->protocol == NULL || strcmp(f->protocol, "Unknown") != 0))
        return false;
    const struct detector *const *active = detector_active();
    for (size_t i = 0; active[i] != NULL; i++) {
        const struct detector *det = active[i];
        /* another detector of this run reads this flow (and calls the
         * engine itself); one left out by --detectors does not */
        if (det != &detector_plain && !det->tls && det->wants != NULL && det->wants(f))
            return false;
    }
    for (int d = 0; d < 2; d++) {
        size_t looked;
        if (f->head[d] == NULL || f->head_len[d] == 0)
            continue;
        size_t t = plain_count_text(f->head[d], f->head_len[d], PLAIN_SNIFF, &looked);
        if (!plain_mostly_text(t, looked))
            return false;
    }
    return true;
}

static size_t plain_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct plain_state *st = ctx->state;
    if (st->seen[d] < PLAIN_SNIFF) {
        size_t looked;
        st->text[d] += (uint32_t)plain_count_text(p, n, PLAIN_SNIFF - st->seen[d], &looked);
        st->seen[d] += (uint32_t)looked;
        if (!plain_mostly_text(st->text[d], st->seen[d]) && st->seen[d] >= 256) {
            /* binary or encrypted: nothing for the secrets engine here */
            detector_detach(ctx);
            return n;
        }
        if (st->seen[d] >= PLAIN_SNIFF && !st->plaintext_done) {
            st->plaintext_done = true;
            detector_flow_plaintext(ctx, NULL);
        }
    }
    if (ctx->flow->transport == 17)
        secrets_scan(ctx, d, "datagram", p, n);
    else
        secrets_stream_feed(ctx, &st->ss[d], d, "data", p, n);
    return n;
}

/* A gap cuts the stream: what was before it is decided as it is. */
static void plain_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct plain_state *st = ctx->state;
    (void)len;
    secrets_stream_end(ctx, &st->ss[d], d, "data");
}

static void plain_on_end(struct det_ctx *ctx)
{
    struct plain_state *st = ctx->state;
    for (int d = 0; d < 2; d++)
        secrets_stream_end(ctx, &st->ss[d], (enum dir)d, "data");
    /* a short text stream (under PLAIN_SNIFF bytes) is plaintext too */
    bool text = st->seen[0] + st->seen[1] > 0 &&
                plain_mostly_text(st->text[0] + st->text[1], st->seen[0] + st->seen[1]);
    if (text && !st->plaintext_done) {
        st->plaintext_done = true;
        detector_flow_plaintext(ctx, NULL);
    }
}

const struct detector detector_plain = {
    .name       = "plain",                  /* protocol name in the report */
    .rules      = secrets_rules,            /* rules this file can fire */
    .nrules     = SECRETS_NRULES,
    .state_size = sizeof(struct plain_state),
    .wants      = plain_wants,              /* unknown, unclaimed, text-looking flows */
    .on_data    = plain_on_data,            /* every byte through the secrets engine */
    .on_gap     = plain_on_gap,             /* decide what came before the gap */
    .on_end     = plain_on_end,             /* decide the held bytes */
};
