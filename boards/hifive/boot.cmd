# rvnet on a HiFive board (Unleashed, Unmatched): load firmware-s.bin and
# start it with booti, which hands it the hart id and U-Boot's device tree.
# `make` turns this into build/boot.scr (mkimage -T script); U-Boot's
# default boot command finds boot.scr on the card's FAT partition (the
# one marked bootable), or run it by hand:
#   load mmc 0:3 ${scriptaddr} boot.scr; source ${scriptaddr}
#
# Variables it reads (env set NAME VALUE; env save keeps them where
# U-Boot has somewhere to keep its environment):
#   rvnet_src   where the image comes from: mmc (the default), tftp, or
#               mem (already at ${kernel_addr_r}: loady, a debugger, a test)
#   rvnet_part  the FAT partition for mmc; default: the one this script
#               was found on, else 0:3 (mmc 0, partition 3)
#   rvnet_file  the file to load, default firmware-s.bin
#   rvnet_args  the firmware's boot arguments (bootargs), e.g.
#               "ip=192.168.1.50/24 gw=192.168.1.1 port=7"
#   serverip    for tftp: the TFTP server; ipaddr too, else DHCP asks

if test -z "${rvnet_src}"; then setenv rvnet_src mmc; fi
if test -z "${rvnet_file}"; then setenv rvnet_file firmware-s.bin; fi
if test -z "${rvnet_part}"; then
	if test -n "${distro_bootpart}"; then
		setenv rvnet_part ${devnum}:${distro_bootpart}
	else
		setenv rvnet_part 0:3
	fi
fi

# (U-Boot's hush does not leave a script on `exit` inside an if: a
# shell variable carries the outcome instead.)
rvnet_loaded=no
if test "${rvnet_src}" = "mmc"; then
	echo "rvnet: loading ${rvnet_file} from mmc ${rvnet_part}"
	if fatload mmc ${rvnet_part} ${kernel_addr_r} ${rvnet_file}; then rvnet_loaded=yes; fi
elif test "${rvnet_src}" = "tftp"; then
	if test -z "${ipaddr}"; then
		setenv autoload no
		dhcp
	fi
	echo "rvnet: loading ${rvnet_file} from TFTP server ${serverip}"
	if tftpboot ${kernel_addr_r} ${rvnet_file}; then rvnet_loaded=yes; fi
elif test "${rvnet_src}" = "mem"; then
	echo "rvnet: the image is already at ${kernel_addr_r}"
	rvnet_loaded=yes
else
	echo "rvnet: rvnet_src is ${rvnet_src}: it must be mmc, tftp or mem"
fi

if test "${rvnet_loaded}" = "yes"; then
	# A Linux command line left in bootargs means nothing to rvnet (it
	# ignores words it does not know); rvnet_args, when set, replaces it.
	if test -n "${rvnet_args}"; then setenv bootargs "${rvnet_args}"; fi
	echo "rvnet: booti ${kernel_addr_r} - ${fdtcontroladdr}, bootargs: ${bootargs}"
	booti ${kernel_addr_r} - ${fdtcontroladdr}
fi
echo "rvnet: not started"
