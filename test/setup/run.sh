#!/usr/bin/env bash
# The tests, as root on a Debian or Ubuntu machine (after npm install):
#   npm test            bash test/setup/run.sh all   installs the test tools (apt-get), builds the
#                                                    Debian 12 and 13 roots (cached), builds,
#                                                    typechecks, runs the unit tests, then the e2e
#   npm run test:unit   bash test/setup/run.sh unit  the unit tests, on tools and roots already there
#   npm run test:e2e    bash test/setup/run.sh e2e   the end-to-end tests, likewise
# Where it cannot work (not root, no apt-get, no roots yet) it stops at once with one line saying
# what is missing and how to run it. Every phase has a deadline; the timings are printed at the
# end. Last, it proves the tests left this machine's /etc/dovecot, /etc/postfix and MariaDB alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE="${1:-all}"
NAME="npm test"
[[ "$MODE" == all ]] || NAME="npm run test:$MODE"
# What the tests run on this machine (the mail stack itself only ever runs inside the roots).
TOOLS="debootstrap systemd-container iproute2 util-linux tmux openssh-client openssl ca-certificates curl swaks libnet-ssleay-perl dnsmasq-base python3-dkim sslscan"
# Let's Encrypt offline: an ACME test CA, and a web server on the laptop (python3 -m http.server).
TOOLS="$TOOLS pebble python3"
CACHE="${MAIL_SETUP_TEST_CACHE:-/var/cache/mail-setup-test}"

refuse() {
	echo "$NAME: $*" >&2
	exit 1
}
[[ $EUID -eq 0 ]] || refuse "run it as root (sudo $NAME): the tests boot Debian servers with systemd-nspawn in network namespaces"
[[ -d node_modules ]] || refuse "run npm install first"
missing_tools() {
	local package
	for package in $TOOLS; do
		[[ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null)" == installed ]] || printf '%s ' "$package"
	done
}
if [[ "$MODE" == all ]]; then
	command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
		refuse "needs a Debian or Ubuntu machine (apt-get): it installs $TOOLS"
else
	missing="$(missing_tools 2>/dev/null || true)"
	[[ -z "$missing" ]] || refuse "missing ${missing% }: run npm test once (it installs them)"
	for release in 12 13; do
		[[ -f "$CACHE/roots/$release/.ready" ]] || refuse "no Debian $release root in $CACHE/roots: run npm test once (it builds them), or bash test/setup/roots.sh"
	done
fi

# This machine's own mail configuration and packages, to compare after the run.
host_state() {
	local p
	for p in /etc/dovecot /etc/postfix /etc/mysql /var/lib/mysql; do
		if [[ -e "$p" ]]; then find "$p" -printf '%y %m %U:%G %p\n' -type f -exec sha256sum {} + | sort; else echo "$p absent"; fi
	done
	dpkg-query -W -f='${Package} ${db:Status-Status}\n' postfix dovecot-core mariadb-server 2>/dev/null || true
}
BEFORE="$(host_state)"

# Every temp file of the run goes under one directory, removed at the end: a test that forgets its own
# leaves nothing behind. Open to all, as /tmp is: some commands of the tests run as nobody.
TMPDIR="$(mktemp -d /tmp/mail-setup-tests.XXXXXX)"
chmod 1777 "$TMPDIR"
export TMPDIR
trap 'rm -rf --one-file-system "$TMPDIR"' EXIT

timings=()
report() {
	echo "=== timings"
	printf '%s\n' "${timings[@]}"
}
# phase NAME SECONDS COMMAND...: one step with a deadline; records its wall time.
phase() {
	local name="$1" limit="$2" start=$SECONDS
	shift 2
	echo "=== $name"
	if ! timeout "$limit" "$@" </dev/null; then
		timings+=("$(printf '%-12s %5d s  FAILED' "$name" $((SECONDS - start)))")
		report
		exit 1
	fi
	timings+=("$(printf '%-12s %5d s' "$name" $((SECONDS - start)))")
}

install_tools() {
	local missing
	missing="$(missing_tools)"
	[[ -n "$missing" ]] || { echo "test tools installed"; return; }
	echo "installing $missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; }
}

# (timeout runs programs, not shell functions)
export TOOLS
export -f missing_tools install_tools

UNIT=(node --import tsx --test --test-concurrency=2 test/*.test.ts test/*.test.tsx)
E2E=(node --import tsx --test --test-concurrency=2 test/e2e/*.test.ts)
case "$MODE" in
all)
	phase tools 900 bash -c install_tools
	phase roots 2400 bash test/setup/roots.sh
	phase build 300 npm run --silent build
	phase typecheck 300 npx tsc --noEmit
	phase unit 1200 "${UNIT[@]}"
	phase e2e 1800 "${E2E[@]}"
	;;
unit)
	phase build 300 npm run --silent build
	phase unit 1200 "${UNIT[@]}"
	;;
e2e)
	phase build 300 npm run --silent build
	phase e2e 1800 "${E2E[@]}"
	;;
*) refuse "unknown mode $MODE (all, unit or e2e)" ;;
esac

if [[ "$(host_state)" != "$BEFORE" ]]; then
	diff <(echo "$BEFORE") <(host_state) | head -20 >&2
	timings+=("host-state   FAILED: this machine's /etc/dovecot, /etc/postfix, MariaDB or mail packages changed")
	report
	exit 1
fi
timings+=("host-state   unchanged: /etc/dovecot, /etc/postfix, /etc/mysql, /var/lib/mysql, mail packages")
report
