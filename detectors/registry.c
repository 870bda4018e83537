/*
 * registry.c - the one table of detectors.
 *
 * Adding a detector is its own file in detectors/ and one line here.  The
 * engine offers each new flow to every detector in this order.
 */
#include "detector.h"

#include <stdio.h>
#include <string.h>

/* Each detector file ends with one of these descriptors. */
extern const struct detector detector_mysql;
extern const struct detector detector_pgsql;
extern const struct detector detector_redis;
extern const struct detector detector_tls;
extern const struct detector detector_ftp;
extern const struct detector detector_pop3;
extern const struct detector detector_imap;
extern const struct detector detector_smtp;
extern const struct detector detector_telnet;
extern const struct detector detector_snmp;
extern const struct detector detector_ldap;
extern const struct detector detector_xmpp;
extern const struct detector detector_http;
extern const struct detector detector_elasticsearch;
extern const struct detector detector_tds;
extern const struct detector detector_socks;
extern const struct detector detector_irc;
extern const struct detector detector_rsh;
extern const struct detector detector_oracle;
extern const struct detector detector_mongodb;
extern const struct detector detector_plain;

const struct detector *const detector_registry[] = {
    &detector_mysql,
    &detector_pgsql,
    &detector_redis,
    &detector_tls,
    &detector_ftp,
    &detector_pop3,
    &detector_imap,
    &detector_smtp,
    &detector_telnet,
    &detector_snmp,
    &detector_ldap,
    &detector_xmpp,
    &detector_http,
    &detector_elasticsearch,
    &detector_tds,
    &detector_socks,
    &detector_irc,
    &detector_rsh,
    &detector_oracle,
    &detector_mongodb,
    &detector_plain,        /* last: takes only flows no other detector wants */
    NULL
};

size_t detector_count(void)
{
    return ARRAY_LEN(detector_registry) - 1;
}

const struct detector *detector_find(const char *name)
{
    for (size_t i = 0; detector_registry[i] != NULL; i++)
        if (strcmp(detector_registry[i]->name, name) == 0)
            return detector_registry[i];
    return NULL;
}

/* Whether name (len bytes) is listed in the comma-separated list. */
static bool list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (end != NULL);
    }
    return false;
}

int detector_select(const char *list, const struct detector **out, char *bad, size_t badlen)
{
    if (strcmp(list, "all") == 0) {
        size_t i = 0;
        for (; detector_registry[i] != NULL; i++)
            out[i] = detector_registry[i];
        out[i] = NULL;
        return 0;
    }
    if (strcmp(list, "none") != 0) {
        /* every listed name must be a detector */
        for (const char *p = list;;) {
            const char *end = strchr(p, ',');
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
            bool known = false;
            for (size_t i = 0; detector_registry[i] != NULL && !known; i++)
                known = strlen(detector_registry[i]->name) == n &&
                        strncmp(detector_registry[i]->name, p, n) == 0;
            if (!known) {
                snprintf(bad, badlen, "%.*s", (int)(n < 64 ? n : 64), p);
                return -1;
            }
            if (end == NULL)
                break;
            p = end + 1;
        }
    }
    /* in the table's order, whatever the list's: plain must stay last */
    size_t k = 0;
    for (size_t i = 0; detector_registry[i] != NULL; i++)
        if (list_has(list, detector_registry[i]->name))
            out[k++] = detector_registry[i];
    out[k] = NULL;
    return 0;
}
