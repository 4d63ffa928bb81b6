/*
 * The one software finish of a partial L4 checksum (PKT_F_CSUM_PART),
 * for every driver whose device cannot finish it (virtio without
 * VIRTIO_NET_F_CSUM, the GEM): a frame never leaves with its checksum
 * half done. A file of its own so that the host builds of each driver
 * (unit tests, fuzzer) link it without the driver table.
 */
#include "net/csum.h"
#include "nic.h"

int nic_csum_finish(struct pkt *p, struct nic_stats *s)
{
	unsigned start = p->csum_start, off = p->csum_off;
	if (start > p->len || off + 2u > p->len - start)
		return -1;
	/* The field holds the pseudo-header's sum, so it is summed with the rest. */
	uint16_t c = csum_finish(csum_add(0, p->data + start, p->len - start));
	c = c ? c : 0xffff; /* UDP: 0 would say "no checksum" */
	uint8_t *f = p->data + start + off;
	f[0] = (uint8_t)(c >> 8);
	f[1] = (uint8_t)c;
	p->flags &= (uint8_t)~PKT_F_CSUM_PART;
	s->csum_fixed++;
	return 0;
}
