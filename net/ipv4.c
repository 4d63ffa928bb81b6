#include "net.h"
void ip_init(void) { ip_reass_init(); }
void ip_input(struct pkt *p) { pkt_free(p); }
int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto) { (void)src; (void)dst; (void)proto; pkt_free(p); return NET_ERR_RTE; }
void ip_tick(uint32_t now) { ip_reass_tick(now); }
int ip_is_bcast(uint32_t a) { return a == 0xffffffffu; }
int ip_is_mcast(uint32_t a) { return (a >> 28) == 14; }
