/* virtio-rng (virtio 1.x 5.4) on virtio-mmio: random bytes from the
 * host (QEMU: -device virtio-rng-device), read once at boot to seed the
 * stack's entropy. */
#ifndef DRIVERS_VIRTIO_RNG_H
#define DRIVERS_VIRTIO_RNG_H

#include <stddef.h>
#include "fdt.h"

/* Up to n (at most 64) bytes from the first entropy device the tree
 * lists; how many came: 0 when there is none, it fails or stays silent
 * for 100 ms. The device is reset afterwards. */
size_t virtio_rng_read(const struct fdt_info *fi, void *buf, size_t n);

#endif
