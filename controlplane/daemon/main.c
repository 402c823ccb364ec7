/*
 * main.c - peergraphd, the daemon of one peergraph node. This file only wires: configuration
 * (config.h), the state directory, the identity store, the dataplane's workers (node.h), the
 * graphs (graphs.h) and the control API server (server.h), then the signals: SIGTERM / SIGINT
 * stop it cleanly (every store made durable), SIGHUP reloads the safe settings.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "addr.h"
#include "config.h"
#include "graphs.h"
#include "identity.h"
#include "log.h"
#include "node.h"
#include "pg_config.h"
#include "pg_error.h"
#include "server.h"
#include "trust.h"

#define CONFIG_DEFAULT "/etc/peergraph/peergraphd.conf"

struct daemon {
	struct pgd_config cfg;
	struct pg_keytab *keytab; /* what the dataplane verifies against (trust.h) */
	const char *config_path;  /* NULL: none */
	int sfd;
	struct pgd_server *srv;
	/* the command line's overrides, applied again over a reloaded file */
	char **sets;
	int nsets;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "Usage: peergraphd [OPTIONS]\n"
	       "\n"
	       "The peergraph daemon: one per node. It keeps this node's identities and graphs\n"
	       "under its state directory and serves the control API that libpeergraph and the\n"
	       "`peergraph` command use, on a Unix socket.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE      configuration file (default " CONFIG_DEFAULT ",\n"
	       "                         if it exists); see --print-config for every key\n"
	       "  -d, --state-dir DIR    state directory (daemon.state_dir)\n"
	       "  -s, --socket PATH      control socket (daemon.socket)\n"
	       "  -l, --log-level LEVEL  error, warn, info or debug (daemon.log_level)\n"
	       "      --set SECTION.KEY=VALUE\n"
	       "                         any setting, over the file (repeatable)\n"
	       "      --print-config     print the configuration in effect and exit\n"
	       "      --check-config     check the configuration and exit\n"
	       "  -h, --help             this help\n"
	       "  -V, --version          the version\n"
	       "\n"
	       "Signals: SIGTERM or SIGINT stop the daemon after making every graph's records\n"
	       "durable; SIGHUP re-reads the configuration file and applies the settings that can\n"
	       "change while running (the log says which did, and which need a restart).\n"
	       "\n"
	       "Exit status: 0 after a clean stop, 1 on a failure while running, 2 for a bad\n"
	       "command line or configuration.\n");
}

static int apply_sets(struct daemon *d, struct pgd_config *c)
{
	char err[512];

	for (int i = 0; i < d->nsets; i++) {
		if (pgd_config_set(c, d->sets[i], err, sizeof(err))) {
			fprintf(stderr, "peergraphd: --set %s: %s\n", d->sets[i], err);
			return -EINVAL;
		}
	}
	return 0;
}

/* The configuration: defaults, the file, then the command line. 0 or -errno. */
static int config_build(struct daemon *d, struct pgd_config *c)
{
	char err[1024];
	int rc;

	pgd_config_default(c);
	if (d->config_path && (rc = pgd_config_load(c, d->config_path, err, sizeof(err)))) {
		fprintf(stderr, "peergraphd: %s\n", err);
		return rc;
	}
	return apply_sets(d, c);
}

static int add_set(struct daemon *d, const char *key, const char *value)
{
	char **v = realloc(d->sets, (size_t)(d->nsets + 1) * sizeof(*v));
	size_t len;

	if (!v)
		return -ENOMEM;
	d->sets = v;
	if (!value) {
		d->sets[d->nsets++] = strdup(key);
	} else {
		len = strlen(key) + strlen(value) + 2;
		if ((d->sets[d->nsets] = malloc(len)))
			snprintf(d->sets[d->nsets++], len, "%s=%s", key, value);
	}
	return d->sets[d->nsets - 1] ? 0 : -ENOMEM;
}

static int mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* The trust file, at every SIGHUP (the one the new configuration names). */
static void trust_reload(struct daemon *d, const struct pgd_config *next)
{
	char msg[1024];
	int n = pgd_trust_file(d->keytab, next->trust, msg, sizeof(msg));

	if (n < 0)
		pgd_log(PGD_LOG_ERROR, "reload: %s", msg);
	else if (next->trust[0])
		pgd_log(PGD_LOG_INFO, "reload: trust file %s: %d new key%s", next->trust, n,
			n == 1 ? "" : "s");
}

static bool on_signal(void *ctx)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;
	struct pgd_config next;
	char log[4096];
	int changed;

	if (read(d->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return true;
	if (si.ssi_signo != SIGHUP) {
		pgd_log(PGD_LOG_INFO, "signal %u: stopping", si.ssi_signo);
		sd_notify(0, "STOPPING=1");
		return false;
	}
	sd_notify(0, "RELOADING=1");
	if (config_build(d, &next) == 0) {
		int was = d->cfg.log_level;

		changed = pgd_config_reload(&d->cfg, &next, log, sizeof(log));
		/* what changed is told at the more verbose of the two levels */
		pgd_log_set_level(
		    (enum pgd_log_level)(was > d->cfg.log_level ? was : d->cfg.log_level));
		for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
			pgd_log(PGD_LOG_INFO, "reload: %s", line);
		pgd_log(PGD_LOG_INFO, "reload: %d setting%s changed", changed,
			changed == 1 ? "" : "s");
		pgd_log_set_level((enum pgd_log_level)d->cfg.log_level);
		pgd_server_reconfigure(d->srv, d->cfg.client_queue_bytes, d->cfg.event_queue);
		trust_reload(d, &next);
	} else {
		pgd_log(PGD_LOG_ERROR, "reload: the configuration has errors: nothing changed");
	}
	sd_notify(0, "READY=1");
	return true;
}

static int signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The dataplane's settings from [dataplane] and [fault]. 0, or -EINVAL for an address the
 * configuration's check let through but the resolver refuses now (logged). */
static int node_config(const struct pgd_config *cfg, struct dp_node_config *nc)
{
	char why[PGD_ADDR_WHY_SIZE];

	memset(nc, 0, sizeof(*nc));
	nc->workers = cfg->workers;
	if (cfg->dp_address[0] && strcasecmp(cfg->dp_address, "none") != 0 &&
	    pgd_addr_resolve(cfg->dp_address, true, &nc->addr, &nc->addr_len, why, sizeof(why))) {
		pgd_log(PGD_LOG_ERROR, "[dataplane] address %s: %s", cfg->dp_address, why);
		return -EINVAL;
	}
	nc->backend = cfg->dp_backend;
	nc->node_id = pgd_config_node_id(cfg);
	dp_link_config_default(&nc->link);
	nc->link.max_dgram = cfg->max_datagram;
	nc->link.window = cfg->window;
	nc->link.reasm_timeout_us = cfg->reasm_timeout_ms * 1000u;
	nc->fault = cfg->fault;
	nc->ring_bytes = cfg->ring_bytes;
	nc->timing = cfg->dp_timing;
	nc->slow_us = cfg->slow_us;
	return 0;
}

/* Logs where the dataplane listens, once it started. */
static void node_log(struct dp_node *node, unsigned workers)
{
	struct sockaddr_storage sa;
	char text[PGD_ADDR_TEXT_SIZE];
	socklen_t len;

	if (dp_node_addr(node, &sa, &len) == 0)
		pgd_addr_format((const struct sockaddr *)&sa, len, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "no dataplane socket");
	pgd_log(PGD_LOG_INFO, "dataplane: %u worker%s, %s, backend %s", workers,
		workers == 1 ? "" : "s", text, dp_node_backend(node));
}

static int run(struct daemon *d)
{
	char path[PATH_MAX + 32], msg[1024];
	struct pg_identity_store *ids = NULL;
	struct dp_node_config nc;
	struct pgd_graphs_config gc = {
		.commit_interval_us = d->cfg.commit_interval_us,
		.max_records = d->cfg.max_records,
		.max_bytes = d->cfg.max_bytes,
		.segment_size = d->cfg.segment_size,
		.direct_io = d->cfg.direct_io,
	};
	struct pgd_server_config sc = {
		.socket_path = d->cfg.socket,
		.state_dir = d->cfg.state_dir,
		.group = (gid_t)-1,
		.max_clients = d->cfg.max_clients,
		.client_queue_bytes = d->cfg.client_queue_bytes,
		.event_queue = d->cfg.event_queue,
		.version = PG_VERSION,
	};
	static struct pgd_graphs gs;
	struct dp_node *node = NULL;
	int err;

	snprintf(gc.node_name, sizeof(gc.node_name), "%s", d->cfg.node_name);
	if (d->cfg.socket_group[0]) {
		struct group *gr = getgrnam(d->cfg.socket_group);

		if (!gr) {
			pgd_log(PGD_LOG_ERROR, "socket_group %s: no such group",
				d->cfg.socket_group);
			return -EINVAL;
		}
		sc.group = gr->gr_gid;
	}
	snprintf(path, sizeof(path), "%s/tmp", d->cfg.state_dir);
	if ((err = mkdir_private(d->cfg.state_dir)) || (err = mkdir_private(path))) {
		pgd_log(PGD_LOG_ERROR, "state directory %s: %s (its parent must exist)",
			d->cfg.state_dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/identities", d->cfg.state_dir);
	if ((err = pg_identity_store_open(path, &ids))) {
		pgd_log(PGD_LOG_ERROR, "identity store %s: %s", path, pg_strerror(err));
		return err;
	}
	msg[0] = '\0';
	if ((err = pg_keytab_create(NULL, PGD_TRUST_SLOTS, &d->keytab)) ||
	    (err = pgd_trust_store(d->keytab, ids, msg, sizeof(msg))) ||
	    (err = pgd_trust_file(d->keytab, d->cfg.trust, msg, sizeof(msg))) < 0) {
		pgd_log(PGD_LOG_ERROR, "trusted keys: %s", msg[0] ? msg : pg_strerror(err));
		goto out_ids;
	}
	msg[0] = '\0';
	if (!(err = node_config(&d->cfg, &nc)))
		nc.keytab_fd = pg_keytab_fd(d->keytab);
	if (err || (err = dp_node_create(&nc, &node, msg, sizeof(msg)))) {
		pgd_log(PGD_LOG_ERROR, "dataplane: %s", msg[0] ? msg : pg_strerror(err));
		goto out_ids;
	}
	node_log(node, d->cfg.workers);
	if ((err = pgd_graphs_init(&gs, d->cfg.state_dir, &gc, ids, node))) {
		pgd_log(PGD_LOG_ERROR, "graphs under %s: %s", d->cfg.state_dir, pg_strerror(err));
		goto out_node;
	}
	gs.keytab = d->keytab;
	if ((err = pgd_server_create(&sc, &gs, ids, d->sfd, on_signal, d, &d->srv, msg,
				     sizeof(msg)))) {
		pgd_log(PGD_LOG_ERROR, "control API: %s", msg);
		goto out_graphs;
	}
	pgd_log(PGD_LOG_INFO, "peergraphd %s serving %s (state %s, %u graph%s, %u worker%s)",
		PG_VERSION, d->cfg.socket, d->cfg.state_dir, gs.n, gs.n == 1 ? "" : "s",
		d->cfg.workers, d->cfg.workers == 1 ? "" : "s");
	sd_notifyf(0, "READY=1\nSTATUS=serving %s\nMAINPID=%d", d->cfg.socket, (int)getpid());
	err = pgd_server_run(d->srv);
	pgd_server_stop_accepting(d->srv);
out_graphs:
	pgd_graphs_fini(&gs); /* every store made durable and closed */
	pgd_server_destroy(d->srv);
	d->srv = NULL;
out_node:
	dp_node_destroy(node);
out_ids:
	pg_keytab_destroy(d->keytab); /* after the node: its workers detached first */
	d->keytab = NULL;
	pg_identity_store_close(ids);
	if (!err)
		pgd_log(PGD_LOG_INFO, "stopped cleanly");
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "set", required_argument, NULL, 'S' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct daemon d = { .sfd = -1 };
	bool print = false, check = false;
	int o, err = 0;

	while ((o = getopt_long(argc, argv, "c:d:s:l:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'd':
			err = add_set(&d, "daemon.state_dir", optarg);
			break;
		case 's':
			err = add_set(&d, "daemon.socket", optarg);
			break;
		case 'l':
			err = add_set(&d, "daemon.log_level", optarg);
			break;
		case 'S':
			err = add_set(&d, optarg, NULL);
			break;
		case 'P':
			print = true;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("peergraphd %s\n", PG_VERSION);
			return 0;
		default: /* getopt said what was wrong */
			fprintf(stderr, "peergraphd: see --help for the options\n");
			return 2;
		}
		if (err)
			return 1;
	}
	if (optind < argc) {
		fprintf(stderr, "peergraphd: unexpected argument: %s (see --help)\n", argv[optind]);
		return 2;
	}
	if (!d.config_path && access(CONFIG_DEFAULT, F_OK) == 0)
		d.config_path = CONFIG_DEFAULT;
	if (config_build(&d, &d.cfg))
		return 2;
	if (print)
		return pgd_config_write(&d.cfg, stdout) ? 1 : 0;
	if (check) {
		printf("peergraphd: configuration ok%s%s\n", d.config_path ? ": " : "",
		       d.config_path ? d.config_path : "");
		return 0;
	}
	pgd_log_set_level((enum pgd_log_level)d.cfg.log_level);
	if ((d.sfd = signals_block()) < 0) {
		pgd_log(PGD_LOG_ERROR, "signalfd: %s", strerror(errno));
		return 1;
	}
	err = run(&d);
	close(d.sfd);
	for (int i = 0; i < d.nsets; i++)
		free(d.sets[i]);
	free(d.sets);
	return err ? 1 : 0;
}
