#!/usr/bin/env bash
# Installs the mail stack and the test tools on this Debian host (root) for the tests and the e2e,
# and keeps a snapshot of the config files exactly as the packages wrote them
# (/var/cache/mail-setup-test/pristine-<release>/etc), because the e2e later edits the live /etc.
# Fast no-op when everything is installed and the snapshot exists.
set -euo pipefail

PACKAGES="postfix postfix-mysql dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql mariadb-server swaks libnet-ssleay-perl curl debootstrap iproute2 tmux openssl jq"
# Packages whose postinst writes the files we snapshot.
CONFIG_PACKAGES="postfix postfix-mysql dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql"
RELEASE="$(. /etc/os-release && echo "${VERSION_ID%%.*}")"
PRISTINE="/var/cache/mail-setup-test/pristine-$RELEASE"

installed() {
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for p in $PACKAGES; do
	installed "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 && -d "$PRISTINE/etc/dovecot" ]]; then
	echo "stack installed, pristine snapshot at $PRISTINE"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [[ ! -d "$PRISTINE/etc/dovecot" ]] && { installed postfix || installed dovecot-core; }; then
	# No snapshot, but the packages are already here: their files may have been edited since.
	# Purge and reinstall so the snapshot below is what the packages write on a fresh server.
	echo "no pristine snapshot: purging $CONFIG_PACKAGES to reinstall them fresh"
	timeout 300 apt-get purge -y -q $CONFIG_PACKAGES
	rm -rf /etc/dovecot /etc/postfix # files the purge leaves (ours, backups)
fi

debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string mail.example.test
EOF
timeout 600 apt-get update -q
timeout 1200 apt-get install -y -q --no-install-recommends $PACKAGES

if [[ ! -d "$PRISTINE/etc/dovecot" ]]; then
	# Copy to a temp dir first: an interrupted copy must not pass for a snapshot.
	rm -rf "$PRISTINE.tmp"
	mkdir -p "$PRISTINE.tmp/etc"
	cp -a /etc/dovecot /etc/postfix /etc/passwd /etc/group /etc/mailname "$PRISTINE.tmp/etc/"
	rm -rf "$PRISTINE"
	mv "$PRISTINE.tmp" "$PRISTINE"
fi
echo "stack installed, pristine snapshot at $PRISTINE"
