/*
 * registry.c - the one table of detectors.
 *
 * Adding a detector is its own file in detectors/ and one line here.  The
 * engine offers each new flow to every detector in this order.
 */
#include "detector.h"

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
