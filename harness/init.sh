#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the harness initramfs: run every test in /tests.list, report each
# one's exit code and the kernel messages it caused, then power off.
/bin/busybox --install -s /bin
export PATH=/bin TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e /dev/kvm ] || echo "@@NOTE /dev/kvm missing"

read -r test_timeout </test-timeout
echo "@@BOOTED $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "@@DMESG-START (boot)"
dmesg -c
echo "@@DMESG-END (boot)"
while IFS='	' read -r name cmd; do
	[ -n "$name" ] || continue
	echo "@@TEST-START $name"
	start=$(cut -d' ' -f1 /proc/uptime)
	(cd /tmp && exec timeout -s KILL "$test_timeout" sh -c "$cmd" </dev/null)
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "@@TEST-END $name rc=$rc start=$start end=$end"
	echo "@@DMESG-START $name"
	dmesg -c
	echo "@@DMESG-END $name"
done </tests.list

if [ -w /sys/kernel/debug/kmemleak ]; then
	# Two scans: kmemleak only reports objects that stayed unreferenced.
	echo scan >/sys/kernel/debug/kmemleak; sleep 6
	echo scan >/sys/kernel/debug/kmemleak
fi
echo "@@DMESG-START (shutdown)"
dmesg -c
[ -r /sys/kernel/debug/kmemleak ] && cat /sys/kernel/debug/kmemleak
echo "@@DMESG-END (shutdown)"
echo "@@DONE"
sync
reboot -f
