/*
 * compliance.c - the requirement sets findings refer to.
 *
 * Each rule points at the subset that really applies to it:
 *   PCI DSS v4.0   4.2.1 strong cryptography for PAN over open networks;
 *                  8.3.2 authentication factors unreadable in transmission;
 *                  2.2.7 non-console administrative access encrypted;
 *                  12.3.3 cipher suites and protocols inventoried and reviewed.
 *   HIPAA          45 CFR 164.312(e)(1) transmission security;
 *                  164.312(e)(2)(ii) encryption of ePHI in transit.
 *   NIST SP 800-53 SC-8 / SC-8(1) transmission confidentiality (cryptographic);
 *                  IA-5(1)(c) passwords only transmitted cryptographically protected.
 *   CIS Controls v8 3.10 encrypt sensitive data in transit.
 */
#include "finding.h"

#define PCI "PCI DSS v4.0"
#define HIPAA "HIPAA"
#define NIST "NIST SP 800-53 Rev. 5"
#define CIS "CIS Controls v8"

const struct compliance_ref COMPLIANCE_CREDENTIALS[] = {
    { PCI, "8.3.2" },
    { HIPAA, "45 CFR 164.312(e)(1)" },
    { HIPAA, "45 CFR 164.312(e)(2)(ii)" },
    { NIST, "IA-5(1)(c)" },
    { NIST, "SC-8(1)" },
    { CIS, "3.10" },
    { NULL, NULL },
};

const struct compliance_ref COMPLIANCE_CARDHOLDER[] = {
    { PCI, "4.2.1" },
    { NIST, "SC-8" },
    { NIST, "SC-8(1)" },
    { CIS, "3.10" },
    { NULL, NULL },
};

const struct compliance_ref COMPLIANCE_SENSITIVE[] = {
    { PCI, "4.2.1" },
    { HIPAA, "45 CFR 164.312(e)(1)" },
    { HIPAA, "45 CFR 164.312(e)(2)(ii)" },
    { NIST, "SC-8" },
    { NIST, "SC-8(1)" },
    { CIS, "3.10" },
    { NULL, NULL },
};

const struct compliance_ref COMPLIANCE_ADMIN[] = {
    { PCI, "2.2.7" },
    { PCI, "8.3.2" },
    { HIPAA, "45 CFR 164.312(e)(1)" },
    { NIST, "SC-8" },
    { NIST, "IA-5(1)(c)" },
    { CIS, "3.10" },
    { NULL, NULL },
};

const struct compliance_ref COMPLIANCE_CRYPTO[] = {
    { PCI, "4.2.1" },
    { PCI, "12.3.3" },
    { HIPAA, "45 CFR 164.312(e)(2)(ii)" },
    { NIST, "SC-8(1)" },
    { CIS, "3.10" },
    { NULL, NULL },
};

const struct compliance_ref COMPLIANCE_INVENTORY[] = {
    { PCI, "12.3.3" },
    { NULL, NULL },
};
