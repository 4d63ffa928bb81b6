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
/* Up to budget (at most CFG_RX_BATCH) received frames into the stack;
 * how many there were. Then, once the pass's other work is done, one of:
 * port_flush for a pass that goes on without sleeping, port_idle (the
 * flush too) before sleeping, interrupts masked: nonzero if there is
 * work. Both keep the stack's link state following the NIC's (port_idle
 * only when there is work: see nic.h). */
unsigned long port_poll(unsigned long budget);
void port_flush(void);
int port_idle(void);
/* After the timers ran (a driver may watch its link from one): the
 * stack told of a change. */
void port_link(void);

/* The calls port_poll and port_idle make through memory, for a caller
 * that holds them in registers across its passes (the superloop: each
 * call would have them loaded again). They stay fixed once the NIC is
 * attached and port_raw_input called (at the app's start). */
struct port_pass {
	unsigned long (*rx)(struct pkt **v, unsigned long max);
	nic_deliver_fn input;
	int (*idle)(void);
};
struct port_pass port_pass(void);

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
			port_link(); /* see port_idle */
	return busy;
}
int port_tx(struct pkt *p);       /* a raw frame out; takes ownership */
void port_tick(uint32_t now_ms);  /* the stack's clock and timers */

#endif
