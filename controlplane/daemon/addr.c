/*
 * addr.c - dataplane addresses to and from text (addr.h).
 *
 * The one syntax is host ':' port, the host in brackets when it is an IPv6 address (RFC 3986's
 * authority form), so a colon inside an IPv6 address is never taken for the port's. A bare
 * IPv6 address without brackets is refused with a hint rather than guessed at.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int pgd_addr_split(const char *s, char *host, size_t cap, uint16_t *port, char *why, size_t whylen)
{
	const char *colon, *h = s, *p;
	size_t hlen;
	unsigned long v = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(why, whylen,
				 "'[' without ']:PORT' (an IPv6 address is [ADDR]:PORT)");
			return -EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(why, whylen, "no ':PORT' (HOST:PORT, or [IPv6]:PORT)");
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen)) {
			snprintf(why, whylen, "an IPv6 address goes in brackets: [ADDR]:PORT");
			return -EINVAL;
		}
	}
	if (hlen == 0 || hlen > PGD_HOST_MAX || hlen >= cap) {
		snprintf(why, whylen, "the host is 1 to %d bytes", PGD_HOST_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < hlen; i++) {
		if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f) {
			snprintf(why, whylen, "the host is printable ASCII without spaces");
			return -EINVAL;
		}
	}
	p = colon + 1;
	if (!*p || strlen(p) > 5) {
		snprintf(why, whylen, "the port is a number from 0 to 65535");
		return -EINVAL;
	}
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			snprintf(why, whylen, "the port is a number from 0 to 65535");
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535) {
		snprintf(why, whylen, "the port is a number from 0 to 65535");
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int pgd_addr_resolve(const char *s, bool numeric, struct sockaddr_storage *out, socklen_t *len,
		     char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP };
	struct addrinfo *res = NULL, *ai;
	char host[PGD_HOST_MAX + 1], service[8];
	uint16_t port;
	int err, rc;

	if ((err = pgd_addr_split(s, host, sizeof(host), &port, why, whylen)))
		return err;
	snprintf(service, sizeof(service), "%u", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		if (numeric)
			snprintf(why, whylen, "'%s' is not a numeric IPv4 or IPv6 address", host);
		else
			snprintf(why, whylen, "cannot resolve '%s': %s", host,
				 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return numeric ? -EINVAL : -EADDRNOTAVAIL;
	}
	err = -EADDRNOTAVAIL;
	snprintf(why, whylen, "'%s' has no IPv4 or IPv6 address", host);
	for (ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(*out)) {
			memset(out, 0, sizeof(*out));
			memcpy(out, ai->ai_addr, ai->ai_addrlen);
			*len = (socklen_t)ai->ai_addrlen;
			err = 0;
			break;
		}
	}
	freeaddrinfo(res);
	if (!err && whylen)
		why[0] = '\0';
	return err;
}

void pgd_addr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, cap, "?");
	}
}
