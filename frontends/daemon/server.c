/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "log.h"
#include "tls.h"
#include "workers.h"
#include "xmlrpc.h"

#define IO_THREADS 2
#define CONNECTION_LIMIT 1024
#define IDLE_TIMEOUT_S 120
/* After an answer this large, the memory it took goes back to the system
 * (glibc keeps freed memory otherwise, and a listing of 10,000 VMs takes
 * tens of MiB for a moment). */
#define TRIM_AFTER (256u << 10)
/* A body over max_body is read and dropped, so that the client (still
 * sending) gets the 413 rather than a reset; past this much, the
 * connection is cut. */
#define MAX_DISCARD (64u << 20)

struct listener {
	struct server *srv;
	bool is_unix;
	int fd;
	struct MHD_Daemon *mhd;
};

struct server {
	const struct xvmd_config *cfg;
	struct rpc *rpc;
	struct workers *workers;
	struct listener tcp, local;
	char *unix_path;
	struct tls_pair tls;
};

enum route { ROUTE_JSONRPC, ROUTE_XMLRPC };
enum state { RQ_BODY, RQ_RUNNING, RQ_DONE };

struct request {
	struct server *srv;
	struct MHD_Connection *conn;
	enum route route;
	enum state state;
	struct rpc_peer peer;
	char *body;
	size_t len, cap;
	size_t discarded;           /* of a body over max_body */
	char *resp;
	size_t resp_len;
};

/* Set while the daemon stops: answers close their connections, so that
 * server_stop sees when the last one has gone out. */
static atomic_bool stopping;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (atomic_load(&stopping))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);
	return body ? reply(conn, status, "text/plain", body, strlen(body)) : MHD_NO;
}

static void peer_of(struct listener *l, struct MHD_Connection *conn, struct rpc_peer *peer)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (l->is_unix) {
		struct ucred cred;
		socklen_t n = sizeof(cred);
		bool ok = ci && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) == 0;
		peer->local_root = ok && cred.uid == 0;
		if (ok)
			snprintf(peer->addr, sizeof(peer->addr), "unix:pid=%d,uid=%u", (int)cred.pid, (unsigned)cred.uid);
		else
			snprintf(peer->addr, sizeof(peer->addr), "unix:?");
		return;
	}
	const union MHD_ConnectionInfo *ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "";
	if (ai && ai->client_addr)
		getnameinfo(ai->client_addr,
			    ai->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
			    host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(peer->addr, sizeof(peer->addr), "%s:%s", host, port);
}

static void run_request(void *data)
{
	struct request *rq = data;
	rq->resp = rq->route == ROUTE_JSONRPC ? jsonrpc_handle(rq->srv->rpc, &rq->peer, rq->body, rq->len)
					      : xmlrpc_handle(rq->srv->rpc, &rq->peer, rq->body, rq->len);
	rq->resp_len = rq->resp ? strlen(rq->resp) : 0;
	rq->state = RQ_DONE;
	MHD_resume_connection(rq->conn);
}

static bool route_of(const char *url, enum route *ret)
{
	if (strcmp(url, "/jsonrpc") == 0)
		*ret = ROUTE_JSONRPC;
	else if (strcmp(url, "/") == 0 || strcmp(url, "/RPC2") == 0)
		*ret = ROUTE_XMLRPC;
	else
		return false;
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
	struct listener *l = cls;
	struct server *srv = l->srv;
	struct request *rq = *ctx;
	if (!rq) {
		enum route route;
		if (!route_of(url, &route))
			return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: the API is at /jsonrpc, / and /RPC2\n");
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "the API takes POST requests\n");
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_body + MAX_DISCARD)
			return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		rq->srv = srv;
		rq->conn = conn;
		rq->route = route;
		peer_of(l, conn, &rq->peer);
		*ctx = rq;
		return MHD_YES;
	}
	if (rq->state == RQ_BODY && *upload_size) {
		if (rq->discarded || rq->len + *upload_size > srv->cfg->max_body) {
			rq->discarded += *upload_size;
			*upload_size = 0;
			return rq->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
		}
		if (rq->len + *upload_size + 1 > rq->cap) {
			size_t cap = (rq->len + *upload_size + 1) * 2;
			char *grown = realloc(rq->body, cap);
			if (!grown)
				return MHD_NO;
			rq->body = grown;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload, *upload_size);
		rq->len += *upload_size;
		rq->body[rq->len] = 0;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->state == RQ_BODY && rq->discarded)
		return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
	if (rq->state == RQ_BODY) {
		rq->state = RQ_RUNNING;
		MHD_suspend_connection(conn);
		if (workers_submit(srv->workers, run_request, rq) < 0) {
			rq->state = RQ_DONE;
			MHD_resume_connection(conn);
		}
		return MHD_YES;
	}
	if (rq->state == RQ_DONE) {
		if (!rq->resp)
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		char *body = rq->resp;
		rq->resp = NULL;
		return reply(conn, MHD_HTTP_OK, rq->route == ROUTE_JSONRPC ? "application/json" : "text/xml", body,
			     rq->resp_len);
	}
	return MHD_YES; /* running: microhttpd does not call while suspended */
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode why)
{
	struct request *rq = *ctx;
	if (!rq)
		return;
	if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		xlog_debug("request from %s ended early (%d)", rq->peer.addr, (int)why);
	bool large = rq->resp_len > TRIM_AFTER || rq->len > TRIM_AFTER;
	free(rq->body);
	free(rq->resp);
	free(rq);
	*ctx = NULL;
	if (large)
		malloc_trim(0);
}

static int listen_tcp(const struct xvmd_config *cfg, bool *ipv6)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg->port);
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int r = getaddrinfo(cfg->address, port, &hints, &ai);
	if (r) {
		xlog_error("cannot listen on %s: %s (give a numeric address)", cfg->address, gai_strerror(r));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		xlog_error("cannot listen on %s port %u: %s", cfg->address, cfg->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	*ipv6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return fd;
}

/* Only root and the admin group may connect; everyone must still log in. */
static int listen_unix(const struct xvmd_config *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(cfg->unix_socket) >= sizeof(sa.sun_path)) {
		xlog_error("the unix socket path %s is too long", cfg->unix_socket);
		return -1;
	}
	strcpy(sa.sun_path, cfg->unix_socket);
	struct stat st;
	/* A socket left by an earlier run is replaced; anything else is not ours. */
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0660) < 0 ||
	    listen(fd, 128) < 0) {
		xlog_error("cannot listen on %s: %s", cfg->unix_socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct group *g = getgrnam(cfg->admin_group);
	if (g && chown(sa.sun_path, 0, g->gr_gid) < 0)
		xlog_warning("cannot give %s to the group %s: %s", cfg->unix_socket, cfg->admin_group, strerror(errno));
	return fd;
}

static int start_mhd(struct server *s, struct listener *l, bool ipv6, bool tls)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_TURBO | (ipv6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_LISTEN_SOCKET, l->fd, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, IO_THREADS, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls.cert },
		{ tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls.key },
		{ MHD_OPTION_END, 0, NULL },
	};
	l->srv = s;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!l->mhd) {
		xlog_error("cannot start the HTTP server");
		return -1;
	}
	return 0;
}

static void log_tcp(const struct xvmd_config *cfg, int fd)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &n) == 0)
		getnameinfo((struct sockaddr *)&ss, n, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	bool v6 = ss.ss_family == AF_INET6;
	xlog_info("listening on %s://%s%s%s:%s", cfg->tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

int server_start(const struct xvmd_config *cfg, struct rpc *rpc, struct server **ret)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->cfg = cfg;
	s->rpc = rpc;
	s->tcp.fd = s->local.fd = -1;
	s->local.is_unix = true;
	bool ipv6 = false;
	if (cfg->tls && tls_load_or_create(cfg->certificate, cfg->key, &s->tls) < 0)
		goto fail;
	if (workers_start(cfg->workers, &s->workers) < 0) {
		xlog_error("cannot start %u workers", cfg->workers);
		goto fail;
	}
	if ((s->tcp.fd = listen_tcp(cfg, &ipv6)) < 0 || start_mhd(s, &s->tcp, ipv6, cfg->tls) < 0)
		goto fail;
	log_tcp(cfg, s->tcp.fd);
	if (*cfg->unix_socket) {
		if ((s->local.fd = listen_unix(cfg)) < 0 || start_mhd(s, &s->local, false, false) < 0)
			goto fail;
		s->unix_path = strdup(cfg->unix_socket);
		xlog_info("listening on unix:%s", cfg->unix_socket);
	}
	*ret = s;
	return 0;
fail:
	server_stop(s);
	return -1;
}

static void listener_quiesce(struct listener *l)
{
	if (l->mhd)
		MHD_quiesce_daemon(l->mhd);
}

#define DRAIN_MS 2000

/* Waits, a bounded time, for the listener's connections to close. */
static void listener_drain(struct listener *l)
{
	for (int waited = 0; l->mhd && waited < DRAIN_MS; waited += 10) {
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!info || info->num_connections == 0)
			return;
		usleep(10000);
	}
}

static void listener_close(struct listener *l)
{
	if (l->mhd)
		MHD_stop_daemon(l->mhd);
	if (l->fd >= 0)
		close(l->fd);
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	atomic_store(&stopping, true);
	listener_quiesce(&s->tcp);
	listener_quiesce(&s->local);
	/* Every suspended connection gets its answer before microhttpd stops... */
	workers_stop(s->workers);
	/* ...and has it sent: the answers of the last calls are still queued. */
	listener_drain(&s->tcp);
	listener_drain(&s->local);
	listener_close(&s->tcp);
	listener_close(&s->local);
	if (s->unix_path)
		unlink(s->unix_path);
	free(s->unix_path);
	tls_pair_clear(&s->tls);
	free(s);
}
