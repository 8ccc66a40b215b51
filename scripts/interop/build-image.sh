#!/usr/bin/env bash
# Builds (or reuses) the interop lab's VM image: a Debian bookworm minbase
# root with the Linux PPTP peers (kernel ppp_generic/ppp_async/ppp_mppe/pptp,
# pppd, pptp-linux, pptpd) and a few tools, packed as an uncompressed
# initramfs with our own /init, plus the kernel to boot it with.
#
#   scripts/interop/build-image.sh          print the image directory (build it if missing)
#   scripts/interop/build-image.sh --force  rebuild even if a cached image exists
#
# The image lives outside the repository, in $PPTP_TS_INTEROP_CACHE
# (default /var/cache/pptp-ts-interop), in a directory named after a hash of
# the files that define it (this script, init, agent.c), so editing any of them
# builds a new image and an unchanged tree reuses the old one. Downloaded
# .debs are kept in $PPTP_TS_INTEROP_CACHE/debs for rebuilds. The last line
# on stdout is the image directory; progress goes to stderr. It needs root,
# debootstrap, cpio and network access to a Debian mirror
# ($PPTP_TS_INTEROP_MIRROR, default http://deb.debian.org/debian).
#
# The image directory holds:
#   vmlinux       the uncompressed kernel (ELF with a PVH entry; booted with -kernel)
#   bzImage       the kernel as Debian ships it (fallback)
#   initrd.cpio   the root file system (newc, uncompressed)
#   manifest.txt  kernel release, package versions, sizes, build time
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${PPTP_TS_INTEROP_CACHE:-/var/cache/pptp-ts-interop}"
mirror="${PPTP_TS_INTEROP_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
force=0
[[ "${1:-}" == "--force" ]] && force=1

# Userland in the VM. kmod: modprobe; busybox: syslogd (pptpd and pppd log
# only to syslog) and small tools; tini: PID 1 that reaps orphans;
# dnsmasq-base: the DNS server behind pptpd; netcat-openbsd: TCP transfers.
packages=(kmod busybox tini iproute2 iputils-ping ppp pptp-linux pptpd dnsmasq-base tcpdump netcat-openbsd)
# Kernel modules to put in the image (their dependencies come along).
modules=(virtio_pci virtio_net virtio_console virtio_rng ppp_generic ppp_async ppp_synctty ppp_mppe pptp
  ppp_deflate bsd_comp)

die() {
  echo "build-image: error: $*" >&2
  exit 1
}
log() { echo "build-image: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot need it)"
for tool in debootstrap cpio chroot flock timeout sha256sum dpkg-deb gcc; do
  command -v "$tool" >/dev/null || die "'$tool' not found; install: apt-get install debootstrap cpio gcc libc6-dev"
done

key="$(cat "$here/build-image.sh" "$here/init" "$here/agent.c" | sha256sum | cut -c1-16)"
image="$cache/image-$key"
mkdir -p "$cache/debs"

# One build at a time (two test processes may start together); the second
# waits and then finds the image the first one built.
exec 9>"$cache/build.lock"
timeout 900 flock 9 || die "timed out waiting for another build ($cache/build.lock)"

if [[ $force -eq 0 && -f "$image/manifest.txt" ]]; then
  echo "$image"
  exit 0
fi

start=$(date +%s)
work="$(mktemp -d "$cache/work-$key.XXXXXX")"
root="$work/root"
cleanup() {
  # debootstrap may leave proc/sys mounted inside the root on failure.
  for m in proc sys dev/pts dev; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

log "compiling the agent"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/lab-agent" "$here/agent.c" || die "cannot compile agent.c"

log "debootstrap $suite minbase into $root (mirror $mirror)"
include="$(
  IFS=,
  echo "${packages[*]}"
)"
if ! timeout 480 debootstrap --variant=minbase --include="$include" --cache-dir="$cache/debs" \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [[ -f "$root/debootstrap/debootstrap.log" ]] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed or took longer than 480 s (log above)"
fi

# The kernel comes as a .deb we unpack ourselves: installing it in the root
# would pull initramfs-tools and build an initramfs we do not use.
log "fetching the kernel package"
cp /etc/resolv.conf "$root/etc/resolv.conf"
kpkg="$(chroot "$root" apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')"
[[ -n "$kpkg" ]] || die "could not resolve linux-image-amd64 in $suite"
mkdir -p "$root/tmp/kdeb"
(cd "$root/tmp/kdeb" && timeout 300 chroot "$root" sh -c "cd /tmp/kdeb && apt-get download -q $kpkg") >&2 ||
  die "apt-get download $kpkg failed"
kdeb="$(ls "$root"/tmp/kdeb/*.deb)"
cp -f "$kdeb" "$cache/debs/" 2>/dev/null || true
dpkg-deb -x "$kdeb" "$root/tmp/kernel"
kver="$(ls "$root/tmp/kernel/lib/modules")"
[[ -f "$root/tmp/kernel/boot/vmlinuz-$kver" ]] || die "no vmlinuz in $kpkg"

log "kernel $kver: selecting modules"
chroot "$root" depmod -b /tmp/kernel "$kver"
for m in "${modules[@]}"; do
  chroot "$root" modprobe -d /tmp/kernel -S "$kver" --show-depends "$m" >>"$work/moddeps" ||
    die "modprobe --show-depends $m failed: no such module in $kver"
done
mkdir -p "$root/lib/modules/$kver"
while read -r what path _; do
  [[ "$what" == insmod ]] || continue
  rel="${path#/tmp/kernel/lib/modules/$kver/}"
  mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
  cp -f "$root$path" "$root/lib/modules/$kver/$rel"
done <"$work/moddeps"
cp "$root/tmp/kernel/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
chroot "$root" depmod "$kver"
cp "$root/tmp/kernel/boot/vmlinuz-$kver" "$work/bzImage"
cp "$root/tmp/kernel/boot/config-$kver" "$work/config"

log "configuring the root"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$work/lab-agent" "$root/usr/local/sbin/lab-agent"
# Empty defaults: every option the lab uses is in the per-case files the
# harness writes, so Debian's defaults (auth, lock, modem...) cannot leak in.
: >"$root/etc/ppp/options"
: >"$root/etc/ppp/options.pptp"
rm -f "$root/etc/pptpd.conf" "$root/etc/ppp/pptpd-options"
echo lab >"$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
mkdir -p "$root/var/run/pptp" "$root/var/log" "$root/run"

log "stripping"
versions="$(chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' "${packages[@]}")"
rm -rf "$root/tmp/kernel" "$root/tmp/kdeb" "$root/debootstrap" \
  "$root"/usr/share/{doc,man,info,locale,i18n,lintian,linda,common-licenses,zoneinfo,bash-completion,bug} \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
  "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/share/perl5 "$root"/usr/lib/x86_64-linux-gnu/perl-base \
  "$root"/usr/bin/perl* "$root"/var/log/*.log \
  "$root"/var/lib/dpkg "$root"/usr/lib/apt "$root"/usr/lib/x86_64-linux-gnu/libapt-* "$root"/usr/bin/apt* \
  "$root"/usr/lib/locale "$root"/usr/share/keyrings "$root"/etc/apt "$root"/var/cache/debconf

log "packing"
(cd "$root" && find . -xdev -print0 | sort -z | cpio --null --quiet -o -H newc --owner=0:0) >"$work/initrd.cpio"

# The bzImage carries the kernel compressed; qemu boots an uncompressed ELF
# vmlinux directly through its PVH entry, which skips the decompressor (slow
# under TCG). Find the compressed payload by its magic and unpack it.
extract_vmlinux() {
  local img="$1" out="$2" magic tool off
  for pair in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dc' '\x02\x21\x4c\x18:lz4 -dc'; do
    magic="${pair%%:*}"
    tool="${pair#*:}"
    for off in $(grep -obUaP "$magic" "$img" | cut -d: -f1); do
      tail -c +$((off + 1)) "$img" | $tool >"$out" 2>/dev/null || true
      if [[ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]]; then
        return 0
      fi
    done
  done
  return 1
}
extract_vmlinux "$work/bzImage" "$work/vmlinux" || die "could not extract vmlinux from the bzImage"

{
  echo "built $(date -u +%FT%TZ) in $(($(date +%s) - start)) s from $mirror $suite"
  echo "kernel $kver ($kpkg)"
  echo "initrd.cpio $(stat -c %s "$work/initrd.cpio") bytes"
  echo "vmlinux $(stat -c %s "$work/vmlinux") bytes"
  echo "modules: ${modules[*]}"
  echo "$versions"
} >"$work/manifest.txt"

rm -rf "$image"
mkdir -p "$image"
mv "$work/vmlinux" "$work/bzImage" "$work/initrd.cpio" "$work/config" "$image/"
mv "$work/manifest.txt" "$image/manifest.txt" # last: its presence marks a complete image
# Older images (other keys) are dead weight once a new one exists.
find "$cache" -maxdepth 1 -name 'image-*' ! -name "image-$key" -exec rm -rf {} +
log "image ready in $image ($(($(date +%s) - start)) s)"
echo "$image"
