/*
 * The port: connects the one probed NIC to the stack. It fills netif
 * from the NIC (MAC, MTU, transmit hook), keeps netif's link state
 * following the NIC's, and pumps received frames and the clock into
 * the stack. The only file of drivers/ that knows net/'s interface.
 */
#ifndef DRIVERS_PORT_H
#define DRIVERS_PORT_H

#include <stdint.h>
#include "config.h"
#include "nic.h"

void port_attach(struct nic *n);  /* NULL: no NIC, the port does nothing */
struct nic *port_nic(void);
/* Received frames go to fn instead of the stack (the L2 reflector). */
void port_raw_input(nic_deliver_fn fn);
/* After the timers ran (a driver may watch its link from one): the
 * stack told of a change. */
void port_link(void);

/* The NIC's per-pass calls, for the superloop to hold in registers
 * across its passes (read through memory, each call would load them
 * again). They stay fixed once the NIC is attached and port_raw_input
 * called (at the app's start). */
struct port_pass {
	unsigned long (*rx)(struct pkt **v, unsigned long max);
	nic_deliver_fn input;
	int (*idle)(void);
};
struct port_pass port_pass(void);

/* A pass: port_poll_by takes up to budget (at most CFG_RX_BATCH)
 * received frames off the ring at once, then hands them up one by one
 * (the driver's loop over its ring runs without a call); how many there
 * were. Then, once the pass's other work is done, one of: port_flush for
 * a pass that goes on without sleeping, port_idle_by (the flush too)
 * before sleeping, interrupts masked: nonzero if there is work. Both
 * keep the stack's link state following the NIC's; port_idle_by only
 * when the driver's idle says the link changed (NIC_IDLE_LINK, nic.h),
 * so no other pass looks at it for nothing. */
void port_flush(void);

static inline unsigned long port_poll_by(const struct port_pass *pp, unsigned long budget)
{
	struct pkt *v[CFG_RX_BATCH];
	unsigned long k = pp->rx(v, budget < CFG_RX_BATCH ? budget : CFG_RX_BATCH);
	for (unsigned long i = 0; i < k; i++)
		pp->input(v[i]);
	return k;
}

static inline int port_idle_by(const struct port_pass *pp)
{
	int busy = pp->idle();
	if (busy) /* first: a pass that sleeps tests nothing more */
		if (busy & NIC_IDLE_LINK)
			port_link();
	return busy;
}
int port_tx(struct pkt *p);       /* a raw frame out; takes ownership */
void port_tick(uint32_t now_ms);  /* the stack's clock and timers */

#endif
