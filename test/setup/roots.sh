#!/usr/bin/env bash
# Builds, once and cached, the Debian roots the tests boot as servers with systemd as PID 1
# (systemd-nspawn -b): Debian 12 (Dovecot 2.3, Postfix 3.7, Node 18) and Debian 13 (Dovecot 2.4,
# Postfix 3.10, Node 20), each with the mail stack installed as on a fresh server (the services
# enabled and started by systemd at boot), openssh-server, OpenDKIM and certbot.
#   bash test/setup/roots.sh [12] [13]     (default: both)
# A root is never used before its stamp is written; a half-built root is rebuilt. Tests never boot
# the cached root itself, only overlays on it (test/helpers/server.ts), so it stays pristine.
set -euo pipefail

CACHE="${MAIL_SETUP_TEST_CACHE:-/var/cache/mail-setup-test}"
ROOTS="$CACHE/roots"
FQDN=mail.example.test
# The mail stack of the tutorial, plus what the later stages and the tests use on a server.
PACKAGES="postfix postfix-mysql dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql mariadb-server
	openssl ca-certificates ssl-cert nodejs npm openssh-server opendkim opendkim-tools certbot procps"
# The stamp holds what the root was built from: changing this script's lists forces a rebuild.
WANT="v4 $(echo $PACKAGES)"

declare -A CODENAME=([12]=bookworm [13]=trixie)
MIRROR="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

# The key the tests log in with (root@server over SSH); made once, shared by every root.
KEY="$ROOTS/ssh/id_ed25519"
mkdir -p "$ROOTS/ssh"
chmod 700 "$ROOTS/ssh"
[[ -f "$KEY" ]] || ssh-keygen -q -t ed25519 -N '' -C mail-setup-test -f "$KEY"

build() {
	local rel="$1" dir="$ROOTS/$1" tmp="$ROOTS/$1.building" t0
	if [[ -f "$dir/.ready" && "$(cat "$dir/.ready")" == "$WANT" ]]; then
		echo "Debian $rel root ready: $dir"
		return
	fi
	echo "building the Debian $rel root at $dir from $MIRROR"
	unmount_below "$tmp"
	rm -rf --one-file-system "$tmp"
	t0=$SECONDS
	timeout 900 debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 \
		"${CODENAME[$rel]}" "$tmp" "$MIRROR" >"$ROOTS/$rel.debootstrap.log" 2>&1 ||
		{ tail -20 "$ROOTS/$rel.debootstrap.log" >&2; echo "debootstrap of Debian $rel failed" >&2; return 1; }
	echo "  debootstrap: $((SECONDS - t0)) s"

	t0=$SECONDS
	# No daemon may start while installing (it would outlive the chroot); removed again below,
	# so that the booted server starts its services as a real one does.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	# The server's name before the packages are installed, as on a real server: Postfix's postinst
	# takes myhostname from it, ssl-cert the snakeoil certificate's name.
	echo mail >"$tmp/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s mail\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$FQDN" >"$tmp/etc/hosts"
	mount -t proc proc "$tmp/proc"
	in_root "$tmp" 60 debconf-set-selections <<-EOF
		postfix postfix/main_mailer_type select Internet Site
		postfix postfix/mailname string $FQDN
	EOF
	in_root "$tmp" 600 apt-get update -q >"$ROOTS/$rel.apt.log" 2>&1
	# shellcheck disable=SC2086
	in_root "$tmp" 1500 apt-get install -y -q --no-install-recommends $PACKAGES >>"$ROOTS/$rel.apt.log" 2>&1 ||
		{ tail -30 "$ROOTS/$rel.apt.log" >&2; echo "apt-get install in the Debian $rel root failed" >&2; return 1; }
	in_root "$tmp" 60 apt-get clean
	umount "$tmp/proc"
	echo "  packages: $((SECONDS - t0)) s"

	# A fresh server as its installer leaves it: root reachable over SSH with a key only, no
	# resolver yet (a test sets one).
	rm -f "$tmp/usr/sbin/policy-rc.d"
	: >"$tmp/etc/resolv.conf"
	install -d -m 700 "$tmp/root/.ssh"
	install -m 600 "$KEY.pub" "$tmp/root/.ssh/authorized_keys"
	# Timers that would reach for the network in the middle of a test.
	for unit in apt-daily.timer apt-daily-upgrade.timer certbot.timer e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$tmp/etc/systemd/system/$unit"
	done
	: >"$tmp/etc/machine-id" # each boot makes its own
	echo "$WANT" >"$tmp/.ready"
	# Tests running now may have the old root under an overlay: move it aside, never delete it in use.
	[[ ! -e "$dir" ]] || mv "$dir" "$ROOTS/.old-$rel-$(date +%s)"
	mv "$tmp" "$dir"
	prune_old
	echo "Debian $rel root ready: $dir"
}

# Old roots are removed two hours after they were moved aside (the time is in their name): no test
# runs that long. (The mount table cannot tell: an overlay keeps the lower dir's name it was given.)
prune_old() {
	local old
	for old in "$ROOTS"/.old-*; do
		[[ -d "$old" ]] || continue
		if ((${old##*-} < $(date +%s) - 7200)); then rm -rf --one-file-system "$old"; fi
	done
}

# in_root ROOT SECONDS COMMAND...: a command chrooted in ROOT with a clean environment, a deadline
# and the host name mail (a UTS namespace of its own).
in_root() {
	local root="$1" limit="$2"
	shift 2
	timeout "$limit" unshare --uts sh -c 'hostname mail && exec "$@"' sh chroot "$root" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Leftover mounts of an interrupted build must never be followed by rm -rf.
unmount_below() {
	local mnt
	for mnt in $(findmnt -rn -o TARGET | grep -E "^$1(/|$)" | sort -r); do umount -l "$mnt" || true; done
}

releases=("$@")
((${#releases[@]})) || releases=(12 13)
# Only this run's own build dirs: another run may be building the other release right now.
trap 'for r in "${releases[@]}"; do unmount_below "$ROOTS/$r.building"; done' EXIT
for rel in "${releases[@]}"; do
	[[ -n "${CODENAME[$rel]:-}" ]] || { echo "roots.sh: no Debian $rel (12 or 13)" >&2; exit 2; }
	# One builder per release at a time: a second one waits, then finds the root ready.
	exec {lock}>"$ROOTS/.lock-$rel"
	flock "$lock"
	build "$rel"
	exec {lock}>&-
done
