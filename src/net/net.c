/*
 * Back-end selection and the messages that name a -netdev: the one place
 * that maps a netdev_config kind to its implementation.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

void net_describe(const struct netdev_config *cfg, char *buf, size_t size)
{
	if (cfg->kind == NETDEV_TAP)
		snprintf(buf, size, "-netdev tap,id=%s,ifname=%.*s", cfg->id,
			 (int)sizeof(cfg->ifname), cfg->ifname);
	else
		snprintf(buf, size, "-netdev user,id=%s", cfg->id);
}

void net_describe_hostfwd(const struct hostfwd *f, char *buf, size_t size)
{
	char haddr[INET_ADDRSTRLEN] = "", gaddr[INET_ADDRSTRLEN] = "";
	struct in_addr a;
	if (f->host_addr) {
		a.s_addr = f->host_addr;
		inet_ntop(AF_INET, &a, haddr, sizeof(haddr));
	}
	if (f->guest_addr) {
		a.s_addr = f->guest_addr;
		inet_ntop(AF_INET, &a, gaddr, sizeof(gaddr));
	}
	snprintf(buf, size, "%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", haddr,
		 f->host_port, gaddr, f->guest_port);
}

int net_backend_open(const struct netdev_config *cfg, const struct net_env *env,
		     const struct net_client *client, struct net_backend **out,
		     struct error *e)
{
	switch (cfg->kind) {
	case NETDEV_TAP:
		return net_tap_open(cfg, "/dev/net/tun", env, client, out, e);
	case NETDEV_USER:
		return net_user_open(cfg, env, client, out, e);
	}
	return error_set(e, -EINVAL, "-netdev id=%s: unknown kind", cfg->id);
}

void net_backend_close(struct net_backend *be)
{
	if (be)
		be->ops->close(be);
}
