#!/bin/sh
# mksdcard.sh OUT SPL ITB FIRMWARE BOOTSCR: a flashable SD card image for
# the HiFive Unleashed and Unmatched, without root or loop devices.
# Layout (U-Boot's doc/board/sifive/unmatched.rst and unleashed.rst), in
# 512-byte sectors: GPT; partition 1, sectors 34-2081, the SPL (the boot
# ROM loads it by its type GUID); partition 2, 2082-10273, u-boot.itb (the
# SPL reads it from sector 2082); partition 3 from 16384, FAT, with
# firmware-s.bin and boot.scr, marked bootable (the legacy BIOS bootable
# attribute) so that U-Boot's default boot command looks there for boot.scr.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 OUT SPL ITB FIRMWARE BOOTSCR" >&2; exit 2; }
out=$1 spl=$2 itb=$3 fw=$4 scr=$5

SPL_START=34 SPL_END=2081
ITB_START=2082 ITB_END=10273
FAT_START=16384 FAT_MIB=32
SPL_TYPE=5B193300-FC78-40CD-8002-E86C45580B47
ITB_TYPE=2E54B353-1271-4842-806F-E436D6AF6985
FAT_TYPE=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
LEGACY_BOOTABLE_BIT=2

for t in sgdisk:gdisk mkfs.fat:dosfstools mcopy:mtools; do
	command -v "${t%%:*}" >/dev/null ||
		{ echo "mksdcard: ${t%%:*} not found: install ${t#*:} (make deps)" >&2; exit 1; }
done
for f in "$spl" "$itb" "$fw" "$scr"; do
	[ -f "$f" ] || { echo "mksdcard: no such file: $f" >&2; exit 1; }
done
fits() { # file, first sector, last sector
	size=$(wc -c <"$1")
	max=$((($3 - $2 + 1) * 512))
	[ "$size" -le "$max" ] ||
		{ echo "mksdcard: $1 is $size bytes, its partition holds $max" >&2; exit 1; }
}
fits "$spl" $SPL_START $SPL_END
fits "$itb" $ITB_START $ITB_END

fat_sectors=$((FAT_MIB * 2048))
fat_end=$((FAT_START + fat_sectors - 1))
# Room after the FAT partition for the backup GPT (33 sectors), to 1 MiB.
total=$((fat_end + 1 + 2048))
tmp="$out.tmp"
fat="$out.fat"
rm -f "$tmp" "$fat"
trap 'rm -f "$tmp" "$fat"' EXIT

truncate -s $((total * 512)) "$tmp"
sgdisk --clear --set-alignment=1 \
	--new=1:$SPL_START:$SPL_END --change-name=1:spl --typecode=1:$SPL_TYPE \
	--new=2:$ITB_START:$ITB_END --change-name=2:uboot --typecode=2:$ITB_TYPE \
	--new=3:$FAT_START:$fat_end --change-name=3:rvnet --typecode=3:$FAT_TYPE \
	--attributes=3:set:$LEGACY_BOOTABLE_BIT \
	"$tmp" >/dev/null

# The FAT file system is built as a file of its own and copied in: mtools
# works on files, so nothing needs mounting.
mkfs.fat -n RVNET -C "$fat" $((fat_sectors / 2)) >/dev/null
mcopy -i "$fat" "$fw" ::firmware-s.bin
mcopy -i "$fat" "$scr" ::boot.scr

dd if="$spl" of="$tmp" bs=512 seek=$SPL_START conv=notrunc status=none
dd if="$itb" of="$tmp" bs=512 seek=$ITB_START conv=notrunc status=none
dd if="$fat" of="$tmp" bs=512 seek=$FAT_START conv=notrunc status=none
mv "$tmp" "$out"
echo "  SDCARD  $out ($((total / 2048)) MiB): write it with dd (see README, Flashing a HiFive board)"
