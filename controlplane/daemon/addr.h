/*
 * addr.h - dataplane addresses as peergraphd reads and writes them: "host:port", with an IPv6
 * address in brackets ("[::1]:3587"), to and from socket addresses. The configuration takes
 * numeric addresses only (a bind address; no name service at start); GRAPH_CONNECT takes host
 * names too, resolved with getaddrinfo on the control thread.
 */
#ifndef PGD_ADDR_H
#define PGD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	PGD_HOST_MAX = 253,	  /* bytes of a host name (RFC 1035) or a numeric address */
	PGD_ADDR_TEXT_MAX = 261,  /* "[" host "]:" and 5 digits: the API's ADDRESS bound */
	PGD_ADDR_TEXT_SIZE = 262, /* with its NUL */
	PGD_ADDR_WHY_SIZE = 256,  /* an explanation */
};

/* Splits "host:port" or "[IPv6]:port" into host (brackets removed; cap >= PGD_HOST_MAX + 1)
 * and port (decimal, 0..65535). 0, or -EINVAL with why filled ("what is wrong"). */
int pgd_addr_split(const char *s, char *host, size_t cap, uint16_t *port, char *why, size_t whylen);

/* Resolves "host:port" to its first address (IPv4 or IPv6, UDP): numeric, only a numeric
 * address; else host names too (getaddrinfo: may block on the name service). 0; -EINVAL
 * (malformed: why says how); -EADDRNOTAVAIL (no such host, or no address of a usable family:
 * why says which). */
int pgd_addr_resolve(const char *s, bool numeric, struct sockaddr_storage *out, socklen_t *len,
		     char *why, size_t whylen);

/* Writes a socket address as "a.b.c.d:port" or "[v6]:port" ("?" for another family) into
 * out (cap >= PGD_ADDR_TEXT_SIZE holds any). */
void pgd_addr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t cap);

#endif
