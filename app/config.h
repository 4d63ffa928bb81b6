/*
 * The application's and the superloop's options, #ifndef-guarded like
 * net/config.h (override with -DNAME=value or the RVNET_OPTS header).
 */
#ifndef APP_CONFIG_H
#define APP_CONFIG_H

#ifdef RVNET_OPTS
#include RVNET_OPTS
#endif

/* ---- where the address comes from, until ip= says otherwise ----
 * 0: the static address below. The default, for every image: QEMU user
 * networking would hand out the same 10.0.2.15 by DHCP, and a static
 * address answers the moment the firmware is up (make run, the tests).
 * 1: DHCP (net/dhcp.c): the address is there once leased and probed,
 * some 3..8 s after boot. A board on a real LAN: ip=dhcp in its boot
 * arguments, or an image built with -DCFG_IP_DHCP=1. */
#ifndef CFG_IP_DHCP
#define CFG_IP_DHCP 0
#endif

/* ---- addresses, until boot arguments (ip=, gw=) say otherwise ---- */
#ifndef CFG_IP_ADDR
#define CFG_IP_ADDR "10.0.2.15" /* QEMU user networking's guest address */
#endif
#ifndef CFG_IP_PREFIX
#define CFG_IP_PREFIX 24
#endif
_Static_assert(CFG_IP_PREFIX >= 1 && CFG_IP_PREFIX <= 31, "CFG_IP_PREFIX: a subnet of two hosts or more");
#ifndef CFG_IP_GW
#define CFG_IP_GW "10.0.2.2"
#endif

/* ---- the echo service ---- */
#ifndef CFG_ECHO_PORT
#define CFG_ECHO_PORT 7 /* port= overrides */
#endif
/* Source ports never answered (below 256; the service's own port is
 * always refused too): another echo, chargen, daytime, ... service would
 * answer back and the two would loop forever. */
#ifndef CFG_ECHO_DENY_PORTS
#define CFG_ECHO_DENY_PORTS {0, 7, 13, 17, 19, 37, 53, 123, 161}
#endif

/* ---- the telemetry service (make APP=telemetry; app/telemetry.c) ---- */
#ifndef CFG_TELEM_PERIOD_MS
#define CFG_TELEM_PERIOD_MS 10000 /* a report this often */
#endif
#ifndef CFG_TELEM_PORT
#define CFG_TELEM_PORT 8125 /* the collector's UDP port, at the gateway (statsd's) */
#endif
#ifndef CFG_TELEM_BACKOFF_MS
#define CFG_TELEM_BACKOFF_MS 60000 /* no reports this long after an ICMP error about one */
#endif

/* ---- the superloop ---- */
#ifndef CFG_RX_BUDGET
#define CFG_RX_BUDGET 32 /* frames handled per pass, so timers and console run under a flood */
#endif
/* Adaptive polling: after a pass that took frames, keep polling the rings
 * this many microseconds (from the timer) before sleeping in wfi, as
 * Linux's NAPI busy-poll does: a frame that comes soon is taken without
 * an interrupt and a wake-up. Every polling pass counts as busy time, and
 * with one datagram at a time most of the window is spent waiting for
 * the next, so instructions per echo rise with it: 0 (off) by default.
 * The boot argument poll=US overrides it (0..CFG_BUSY_POLL_MAX_US). */
#ifndef CFG_BUSY_POLL_US
#define CFG_BUSY_POLL_US 0
#endif
#ifndef CFG_BUSY_POLL_MAX_US
#define CFG_BUSY_POLL_MAX_US 1000000 /* a second: longer polling is no longer a wait */
#endif
_Static_assert(CFG_BUSY_POLL_US <= CFG_BUSY_POLL_MAX_US, "CFG_BUSY_POLL_US above CFG_BUSY_POLL_MAX_US");

#endif
