/*
 * golden_cmp.c - compare a leakscan report with its golden copy.
 *
 *   golden_cmp EXPECTED.json ACTUAL.json
 *
 * Both documents are canonicalised first: what legitimately varies between
 * runs is removed (scan.start, scan.end, tool.version, tool.libpcap,
 * tool.ndpi) and every scan.inputs[].path is replaced by its basename.  The
 * rest must be identical, object keys in the same order (the report is
 * written in a fixed order) and numbers equal as doubles.  The first
 * difference is printed as one line naming its JSON path, as Zeek's btest
 * canonifiers let a baseline diff point at the field that moved.
 *
 * Exit status: 0 equal, 1 different, 2 unreadable or invalid JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#define GOLDEN_MAX_FILE  (64L * 1024 * 1024)  /* a report is far smaller */
#define GOLDEN_MAX_SHOWN 160                  /* characters of a value printed */
#define GOLDEN_MAX_PATH  1024

/* Reads and parses one file.  Returns a document the caller frees with
 * cJSON_Delete(), or NULL after printing why. */
static cJSON *golden_load(const char *file)
{
    FILE *f = fopen(file, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    const char *end = NULL;
    cJSON *doc = NULL;

    if (f == NULL) {
        fprintf(stderr, "golden: cannot open %s\n", file);
        return NULL;
    }
    do {
        if (len == cap) {
            char *nb = cap < GOLDEN_MAX_FILE ? realloc(buf, cap + 65536) : NULL;
            if (nb == NULL) {
                fprintf(stderr, "golden: %s: too large or out of memory\n", file);
                goto out;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        fprintf(stderr, "golden: cannot read %s\n", file);
        goto out;
    }
    buf[len] = '\0';    /* the last fread returned 0, so len < cap */
    doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (doc != NULL)
        end += strspn(end, " \t\r\n");   /* cJSON stops at the value's end */
    else
        end = cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : buf;
    if (doc == NULL || end != buf + len) {
        fprintf(stderr, "golden: %s: invalid JSON near byte %ld\n", file, (long)(end - buf));
        cJSON_Delete(doc);
        doc = NULL;
    }
out:
    free(buf);
    fclose(f);
    return doc;
}

/* Removes the fields that vary from run to run; see the file comment. */
static void golden_canonicalise(cJSON *doc)
{
    cJSON *tool = cJSON_GetObjectItemCaseSensitive(doc, "tool");
    cJSON *scan = cJSON_GetObjectItemCaseSensitive(doc, "scan");
    cJSON *inputs = cJSON_GetObjectItemCaseSensitive(scan, "inputs");
    cJSON *in;

    cJSON_DeleteItemFromObjectCaseSensitive(tool, "version");
    cJSON_DeleteItemFromObjectCaseSensitive(tool, "libpcap");
    cJSON_DeleteItemFromObjectCaseSensitive(tool, "ndpi");
    cJSON_DeleteItemFromObjectCaseSensitive(scan, "start");
    cJSON_DeleteItemFromObjectCaseSensitive(scan, "end");
    cJSON_ArrayForEach(in, inputs) {
        cJSON *path = cJSON_GetObjectItemCaseSensitive(in, "path");
        const char *base;
        if (!cJSON_IsString(path))
            continue;
        base = strrchr(path->valuestring, '/');
        base = base ? base + 1 : path->valuestring;
        cJSON_ReplaceItemInObjectCaseSensitive(in, "path", cJSON_CreateString(base));
    }
}

/* Prints a value compactly, cut to GOLDEN_MAX_SHOWN characters; NULL
 * (absent) prints as "nothing". */
static void golden_show(const cJSON *v)
{
    char *s;
    if (v == NULL) {
        fputs("nothing", stdout);
        return;
    }
    s = cJSON_PrintUnformatted(v);
    if (s == NULL) {
        fputs("(unprintable)", stdout);
        return;
    }
    if (strlen(s) > GOLDEN_MAX_SHOWN)
        printf("%.*s...", GOLDEN_MAX_SHOWN, s);
    else
        fputs(s, stdout);
    free(s);
}

/* Reports the first difference at path: the two values, or a message. */
static int golden_differ(const char *path, const cJSON *want, const cJSON *got,
                         const char *why)
{
    printf("golden: first difference at %s: ", path);
    if (why != NULL) {
        puts(why);
        return 1;
    }
    fputs("expected ", stdout);
    golden_show(want);
    fputs(", got ", stdout);
    golden_show(got);
    putchar('\n');
    return 1;
}

/* Compares two values recursively; path is the JSON path of both.
 * Returns 0 when equal, 1 after printing the first difference. */
static int golden_compare(const char *path, const cJSON *a, const cJSON *b)
{
    char sub[GOLDEN_MAX_PATH];
    const cJSON *x, *y;
    int i = 0;

    if ((a->type & 0xff) != (b->type & 0xff))
        return golden_differ(path, a, b, NULL);
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble ? 0 : golden_differ(path, a, b, NULL);
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0 ? 0 : golden_differ(path, a, b, NULL);
    if (!cJSON_IsArray(a) && !cJSON_IsObject(a))
        return 0;   /* true, false, null: equal types are equal values */

    for (x = a->child, y = b->child; x != NULL || y != NULL; i++) {
        if (cJSON_IsArray(a))
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
        else
            snprintf(sub, sizeof sub, "%s.%s", path, x ? x->string : y->string);
        if (x == NULL || y == NULL)
            return golden_differ(sub, x, y, NULL);
        if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) {
            /* A key present on one side only reads better than "order". */
            if (!cJSON_HasObjectItem(b, x->string))
                return golden_differ(sub, x, NULL, NULL);
            snprintf(sub, sizeof sub, "%s.%s", path, y->string);
            if (!cJSON_HasObjectItem(a, y->string))
                return golden_differ(sub, NULL, y, NULL);
            printf("golden: first difference at %s: key order: expected \"%s\", got \"%s\"\n",
                   path, x->string, y->string);
            return 1;
        }
        if (golden_compare(sub, x, y) != 0)
            return 1;
        x = x->next;
        y = y->next;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cJSON *want, *got;
    int rc = 2;

    if (argc != 3) {
        fprintf(stderr, "usage: golden_cmp EXPECTED.json ACTUAL.json\n");
        return 2;
    }
    want = golden_load(argv[1]);
    got = want ? golden_load(argv[2]) : NULL;
    if (want != NULL && got != NULL) {
        golden_canonicalise(want);
        golden_canonicalise(got);
        rc = golden_compare("$", want, got);
    }
    cJSON_Delete(want);
    cJSON_Delete(got);
    return rc;
}
