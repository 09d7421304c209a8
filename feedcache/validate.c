/* SPDX-License-Identifier: ISC */
/*
 * Body validation. libxml2 runs with network access off and without
 * entity substitution or DTD loading, so a hostile feed cannot make us
 * fetch anything or expand a billion laughs; jansson parses JSON.
 */
#include <errno.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "validate.h"

static void
quiet_xml_errors(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

void
validate_init(void)
{
	xmlInitParser();
	/* Errors are reported through xmlGetLastError, not stderr. */
	xmlSetGenericErrorFunc(NULL, quiet_xml_errors);
}

static int
validate_xml(const char *body, size_t len, char *why, size_t why_size)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	const xmlError *e;
	int rc = 0;

	if (len > (size_t)INT32_MAX) {
		snprintf(why, why_size, "too large to parse as XML");
		return -EINVAL;
	}
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	        XML_PARSE_NOCDATA);
	if (doc == NULL) {
		e = xmlGetLastError();
		snprintf(why, why_size, "not well-formed XML: line %d: %.*s",
		    e != NULL ? e->line : 0,
		    e != NULL && e->message != NULL
		        ? (int)strcspn(e->message, "\n")
		        : 7,
		    e != NULL && e->message != NULL ? e->message : "unknown");
		return -EINVAL;
	}
	/* Well-formed XHTML is still an error page, not a feed. */
	root = xmlDocGetRootElement(doc);
	if (root == NULL) {
		snprintf(why, why_size, "XML document without a root element");
		rc = -EINVAL;
	} else if (strcasecmp((const char *)root->name, "html") == 0) {
		snprintf(why, why_size, "an HTML page, not an XML document");
		rc = -EINVAL;
	}
	xmlFreeDoc(doc);
	return rc;
}

static int
validate_json(const char *body, size_t len, char *why, size_t why_size)
{
	json_error_t e;
	json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &e);

	if (v == NULL) {
		snprintf(why, why_size, "not valid JSON: line %d: %s", e.line,
		    e.text);
		return -EINVAL;
	}
	json_decref(v);
	return 0;
}

bool
validate_reads_body(int kind)
{
	return kind == VALIDATE_XML || kind == VALIDATE_JSON;
}

int
validate_body(
    int kind, const char *body, size_t len, char *why, size_t why_size)
{
	switch (kind) {
	case VALIDATE_NONE:
		return 0;
	case VALIDATE_NONEMPTY:
		break;
	case VALIDATE_XML:
		if (len == 0)
			break;
		return validate_xml(body, len, why, why_size);
	case VALIDATE_JSON:
		if (len == 0)
			break;
		return validate_json(body, len, why, why_size);
	}
	if (len == 0) {
		snprintf(why, why_size, "empty body");
		return -EINVAL;
	}
	return 0;
}
