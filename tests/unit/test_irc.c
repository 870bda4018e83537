/*
 * test_irc.c - the IRC detector on the registration of the ndpi irc.pcap
 * capture (a client on freenode) and on crafted logins with passwords,
 * replayed whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_irc;

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03,
};

/* The capture: USER and NICK, the server's notices and welcome, then a
 * JOIN.  Medium: nothing secret, but who is chatting, and what, is clear. */
static void test_capture_registration(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 8000, "IRC");
    conv_text(&c, DIR_TO_SERVER, "USER xxxxx +iw xxxxx :Xxxxxx Xxxx\r\n");
    conv_text(&c, DIR_TO_SERVER, "NICK molochtest\r\n");
    conv_text(&c, DIR_TO_CLIENT,
              ":card.freenode.net NOTICE * :*** Looking up your hostname...\r\n");
    conv_text(&c, DIR_TO_CLIENT,
              ":card.freenode.net 001 molochtest :Welcome to the freenode Internet Relay "
              "Chat Network molochtest\r\n:card.freenode.net 002 molochtest :Your host is "
              "card.freenode.net[38.229.70.20/8000], running version ircd-seven-1.1.3\r\n");
    conv_text(&c, DIR_TO_SERVER, "MODE molochtest +iw\r\nJOIN #moloch-fpc -\r\n");
    conv_text(&c, DIR_TO_SERVER, "NICK molochtest2\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("irc.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "xxxxx"));
    CHECK(conv_sample(&v, "nick", "molochtest"));
    CHECK(!conv_sample(&v, "nick", "molochtest2"));   /* a nick change, not a login */
    CHECK_EQ(v.occurrences, 2);
    CHECK_EQ(v.rule->severity, SEV_MEDIUM);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* PASS (a bouncer's "user:password"), then NickServ IDENTIFY, OPER and
 * the NS alias: every password is masked, account names are shown. */
static void test_passwords(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    conv_text(&c, DIR_TO_SERVER, "PASS znc-user:bouncer-pw\r\nNICK alice\r\n"
                                 "USER alice 0 * :Alice\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net 001 alice :Welcome\r\n");
    conv_text(&c, DIR_TO_SERVER, "PRIVMSG NickServ :IDENTIFY alice nickserv-pw\r\n");
    conv_text(&c, DIR_TO_SERVER, "OPER admin oper-pw\r\n");
    conv_text(&c, DIR_TO_SERVER, "NS IDENTIFY other-pw\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("irc.cleartext-password", &v));
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK_EQ(v.distinct_secrets, 4);
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK(conv_sample(&v, "account", "alice"));
    CHECK(!conv_sample(&v, "password", "bouncer"));
    CHECK(!conv_sample(&v, "password", "nickserv"));
    CHECK(conv_finding("irc.cleartext-login", &v));
    CHECK(conv_sample(&v, "nick", "alice"));
    CHECK_EQ(conv_nfindings(), 2);
    conv_free(&c);
}

/* Channel keys: JOIN with keys (a channel without one passes), MODE +k
 * after a +l limit; the keys masked, the channels named. */
static void test_channel_keys(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    conv_text(&c, DIR_TO_SERVER, "NICK bob\r\nUSER bob 0 * :Bob\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net 001 bob :Welcome\r\n");
    conv_text(&c, DIR_TO_SERVER, "JOIN #ops,#public,#db ops-key-1,,db-key-22\r\n");
    conv_text(&c, DIR_TO_SERVER, "JOIN #lobby\r\n");
    conv_text(&c, DIR_TO_SERVER, "MODE #ops +lk 10 new-ops-key\r\nMODE bob +i\r\n");
    /* member and list modes take a parameter too; a removed limit does not */
    conv_text(&c, DIR_TO_SERVER, "MODE #db +ok alice db-key-33\r\n"
                                 "MODE #db -l+bk *!*@bad.host db-key-444\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("irc.cleartext-password", &v));
    CHECK_EQ(v.occurrences, 10);        /* five channel keys and their channels */
    CHECK_EQ(v.distinct_secrets, 5);
    CHECK(!conv_sample(&v, "channel-key", "(5 chars)"));    /* not the nick alice */
    CHECK(conv_sample(&v, "channel", "#ops"));
    CHECK(conv_sample(&v, "channel-key", "(9 chars)"));
    CHECK(!conv_sample(&v, "channel", "#public"));
    CHECK(!conv_sample(&v, "channel-key", "ops-key-1"));
    conv_free(&c);
}

/* IRCv3 SASL PLAIN: the decoded user is shown, the password masked. */
static void test_sasl_plain(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    conv_text(&c, DIR_TO_SERVER, "CAP LS 302\r\nNICK alice\r\nUSER alice 0 * :Alice\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net CAP * LS :multi-prefix sasl\r\n");
    conv_text(&c, DIR_TO_SERVER, "CAP REQ :sasl\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net CAP alice ACK :sasl\r\n");
    conv_text(&c, DIR_TO_SERVER, "AUTHENTICATE PLAIN\r\n");
    conv_text(&c, DIR_TO_CLIENT, "AUTHENTICATE +\r\n");
    /* base64 of "\0alice\0s3cret-sasl" */
    conv_text(&c, DIR_TO_SERVER, "AUTHENTICATE AGFsaWNlAHMzY3JldC1zYXNs\r\nCAP END\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net 903 alice :SASL authentication successful\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("irc.cleartext-password", &v));
    CHECK(conv_sample(&v, "user", "alice"));
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK(!conv_sample(&v, "password", "s3cret"));
    conv_free(&c);
}

/* A card number in a private message goes to the secrets engine. */
static void test_message_secret(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net 001 bob :Welcome\r\n");
    conv_text(&c, DIR_TO_SERVER, "PRIVMSG carol :my card is 4111 1111 1111 1111\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    CHECK(conv_finding("pii.card-number", &(struct finding_view){ 0 }));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* STARTTLS answered 670, then TLS: nothing after the switch is read. */
static void test_starttls(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    conv_text(&c, DIR_TO_SERVER, "STARTTLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, ":irc.example.net 670 * :STARTTLS successful\r\n");
    conv_add(&c, DIR_TO_SERVER, client_hello, sizeof client_hello, false);
    conv_text(&c, DIR_TO_SERVER, "PASS looks-like-text-but-is-encrypted\r\n");
    conv_seal(&c);
    conv_check(&detector_irc, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* Lines that are not IRC commands, and an overlong line: no finding. */
static void test_garbage(void)
{
    static char line[6000];
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 6667, "IRC");
    memset(line, 'N', sizeof line - 3);
    memcpy(line + sizeof line - 3, "\r\n", 3);
    conv_text(&c, DIR_TO_SERVER, "\x01\x02\x03 random bytes\r\nPASSWORD x\r\nNICKNAME y\r\n");
    conv_text(&c, DIR_TO_SERVER, line);
    conv_text(&c, DIR_TO_SERVER, "PASS\r\nOPER onlyone\r\n");
    conv_seal(&c);
    static const size_t chunks[] = { 1, 2, 3, 7, 100, 4095, 4096, 4097, 5999 };
    conv_check(&detector_irc, &fv, &c, chunks, sizeof chunks / sizeof chunks[0]);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

static struct flow_view heads(const char *client, const char *server)
{
    struct flow_view fv = conv_view(6, 6667, "Unknown");
    if (client != NULL) {
        fv.head[DIR_TO_SERVER] = guarded_copy(client, strlen(client));
        fv.head_len[DIR_TO_SERVER] = strlen(client);
    }
    if (server != NULL) {
        fv.head[DIR_TO_CLIENT] = guarded_copy(server, strlen(server));
        fv.head_len[DIR_TO_CLIENT] = strlen(server);
    }
    return fv;
}

static void test_wants(void)
{
    struct flow_view fv;
    fv = heads("NICK molochtest\r\n", NULL);
    CHECK(detector_irc.wants(&fv));
    fv = heads("USER xxxxx +iw xxxxx :Xxxxxx Xxxx\r\nNICK x\r\n", NULL);
    CHECK(detector_irc.wants(&fv));
    fv = heads("CAP LS 302\r\n", NULL);
    CHECK(detector_irc.wants(&fv));
    fv = heads(NULL, ":card.freenode.net NOTICE * :*** Looking up your hostname...\r\n");
    CHECK(detector_irc.wants(&fv));
    fv = heads(NULL, "NOTICE AUTH :*** Processing connection\r\n");
    CHECK(detector_irc.wants(&fv));
    /* not a whole line, wrong shape, other protocols */
    fv = heads("NICK molochtest", NULL);
    CHECK(!detector_irc.wants(&fv));
    fv = heads("USER alice\r\n", NULL);
    CHECK(!detector_irc.wants(&fv));
    fv = heads("PASS secret\r\n", "+OK POP3 ready\r\n");
    CHECK(!detector_irc.wants(&fv));
    fv = heads("NICK molochtest\r\n", ":irc.example.net NOTICE * :*** Looking up\r\n");
    CHECK(detector_irc.wants(&fv));
    fv = heads("GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    CHECK(!detector_irc.wants(&fv));
    fv = heads("NICK a\tb\r\n", NULL);
    CHECK(!detector_irc.wants(&fv));
    fv = heads(NULL, "220 mail ESMTP NOTICE\r\n");
    CHECK(!detector_irc.wants(&fv));
    fv = heads("NICK molochtest\r\n", NULL);
    fv.transport = 17;
    CHECK(!detector_irc.wants(&fv));
    fv = conv_view(6, 8000, "IRC");
    CHECK(detector_irc.wants(&fv));
}

int main(void)
{
    RUN(test_capture_registration);
    RUN(test_passwords);
    RUN(test_channel_keys);
    RUN(test_sasl_plain);
    RUN(test_message_secret);
    RUN(test_starttls);
    RUN(test_garbage);
    RUN(test_wants);
    return unit_done("test_irc");
}
