/* SPDX-License-Identifier: ISC */
/*
 * entropyd's configuration reader: the INI layer and its custom parsers
 * (listen addresses, CIDR lists, rates). Whatever it accepts must hold
 * TLS files, at least one listener, and a positive rate.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entropyd_conf conf;
	struct conf_error err;

	if (entropyd_conf_load_buf(
	        "fuzz.conf", (const char *)data, size, &conf, &err) < 0)
		return 0;
	if (conf.tls_cert == NULL || conf.tls_key == NULL ||
	    conf.listen.count == 0 || conf.listen.count > LISTEN_MAX ||
	    !(conf.rate_per_s > 0) || conf.burst == 0)
		abort();
	entropyd_conf_free(&conf);
	return 0;
}
