#!/usr/bin/env bash
# Builds (once, cached) a Debian 13 "trixie" root with the mail stack installed, for the
# Dovecot 2.4 / Postfix 3.10 tests: test/helpers/trixie.ts runs its doveconf, the e2e runs
# the whole scenario in it. A second run is a no-op; a half-built root (no stamp) is rebuilt.
# Also snapshots the freshly installed config files into pristine-13 next to the root,
# because the e2e may later change the root's own /etc.
set -euo pipefail

ROOT="${TRIXIE_ROOT:-/var/cache/mail-setup-test/trixie}"
PRISTINE="$(dirname "$ROOT")/pristine-13"
STAMP="$ROOT/.mail-setup-test-ready"
PACKAGES="postfix postfix-mysql dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql mariadb-server openssl ca-certificates nodejs npm swaks libnet-ssleay-perl curl"
# The stamp holds the package list: changing the list above forces a rebuild.
WANT="v1 $PACKAGES"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -d "$PRISTINE/etc/dovecot" ]]; then
	echo "trixie root ready: $ROOT"
	exit 0
fi

# Same mirror as the host (the only archive this network reaches).
MIRROR="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

# Unmounts everything below $ROOT (deepest first): a leftover /proc or a test's bind
# mount must never be followed by rm -rf or left behind.
unmount_all() {
	local mnt
	for mnt in $(findmnt -rn -o TARGET | grep -E "^$ROOT(/|$)" | sort -r); do
		umount -l "$mnt" || true
	done
}
trap unmount_all EXIT

# run_in_root SECONDS COMMAND...: a command inside the root, with a deadline.
run_in_root() {
	local limit="$1"
	shift
	# Clean environment: nothing of the host's (TMPDIR, locale, npm config) leaks in.
	timeout "$limit" chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

echo "building trixie root at $ROOT from $MIRROR"
unmount_all
rm -rf --one-file-system "$ROOT" "$PRISTINE"
mkdir -p "$(dirname "$ROOT")"

t0=$SECONDS
timeout 900 debootstrap --variant=minbase trixie "$ROOT" "$MIRROR"
echo "debootstrap: $((SECONDS - t0)) s"

t0=$SECONDS
# No daemon may start inside the chroot during installs (they would outlive the script).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
run_in_root 60 debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string mail.example.test
EOF
run_in_root 600 apt-get update -q
run_in_root 1200 apt-get install -y -q --no-install-recommends $PACKAGES
run_in_root 60 apt-get clean
umount "$ROOT/proc"
echo "install in chroot: $((SECONDS - t0)) s"

# Pristine copies, taken before anything else touches them (same layout as pristine-12).
mkdir -p "$PRISTINE/etc"
cp -a "$ROOT/etc/dovecot" "$ROOT/etc/postfix" "$ROOT/etc/passwd" "$ROOT/etc/group" \
	"$ROOT/etc/mailname" "$PRISTINE/etc/"

run_in_root 30 dovecot --version
echo "$WANT" >"$STAMP"
echo "trixie root ready: $ROOT"
