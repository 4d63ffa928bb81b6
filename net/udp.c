#include "net.h"
#include "udp.h"
void udp_init(void) {}
void udp_input(struct pkt *p) { pkt_free(p); }
struct udp_pcb *udp_new(void) { return NULL; }
void udp_remove(struct udp_pcb *pcb) { (void)pcb; }
int udp_bind(struct udp_pcb *pcb, uint32_t ip, uint16_t port) { (void)pcb; (void)ip; (void)port; return NET_ERR_USE; }
int udp_connect(struct udp_pcb *pcb, uint32_t ip, uint16_t port) { (void)pcb; (void)ip; (void)port; return NET_ERR_USE; }
void udp_disconnect(struct udp_pcb *pcb) { (void)pcb; }
void udp_recv(struct udp_pcb *pcb, udp_recv_fn fn, void *arg) { (void)pcb; (void)fn; (void)arg; }
int udp_sendto(struct udp_pcb *pcb, struct pkt *p, uint32_t dst_ip, uint16_t dst_port) { (void)pcb; (void)dst_ip; (void)dst_port; pkt_free(p); return NET_ERR_RTE; }
int udp_send(struct udp_pcb *pcb, struct pkt *p) { (void)pcb; pkt_free(p); return NET_ERR_RTE; }
struct pkt *udp_poll(struct udp_pcb *pcb, uint32_t *src_ip, uint16_t *src_port) { (void)pcb; (void)src_ip; (void)src_port; return NULL; }
