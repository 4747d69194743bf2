# Shared by the e2e scripts (sourced, not run). Every wait has a deadline; every daemon is
# stopped by its pid file; nothing here is run by hand on a production machine.
# shellcheck shell=bash

FQDN=mail.example.test
DOMAIN=example.test
TEST_USER="test@$DOMAIN"
SERVER_NS=ms-server
LAPTOP_NS=ms-laptop
SERVER_IP=192.0.2.1 # TEST-NET-1 (RFC 5737): our own test hosts only
LAPTOP_IP=192.0.2.2
CACHE=/var/cache/mail-setup-test
PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- output -----------------------------------------------------------------------------------
log() { printf '[e2e %s] %s\n' "${REL:-}" "$*" >&2; }
fail() {
	printf '[e2e %s] FAIL: %s\n' "${REL:-}" "$*" >&2
	[[ -z "${LOGS:-}" || ! -d "$LOGS" ]] || printf '%s\n' "$*" >"$LOGS/failure.txt" # for run.sh's summary
	exit 1
}

# Timing: `phase NAME` starts a phase (and ends the previous one); `phase_end` ends the last.
PHASE=''
PHASE_T0=''
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
phase_end() {
	[[ -n "$PHASE" ]] || return 0
	local took
	took="$(elapsed "$PHASE_T0")"
	printf '[e2e %s] phase %-22s %6s s\n' "$REL" "$PHASE" "$took" >&2
	printf '%s\t%s\t%s\n' "$REL" "$PHASE" "$took" >>"$TIMINGS"
	PHASE=''
}
phase() {
	phase_end
	PHASE="$1"
	PHASE_T0="$(now)"
}

# --- where things are ---------------------------------------------------------------------------
# use_root DIR: the server's files live under DIR ('' = this machine, Debian 12; the trixie root for 13).
use_root() {
	ROOT="$1"
	local clean=(/usr/bin/env -i PATH="$PATH_IN" HOME=/root LC_ALL=C.UTF-8)
	if [[ -n "$ROOT" ]]; then ENTER=(chroot "$ROOT" "${clean[@]}"); else ENTER=("${clean[@]}"); fi
}
r() { printf '%s%s' "$ROOT" "$1"; } # a path on the server → the same file seen from here

# Run on the server: inside its namespace and root, with a clean environment. srv SECONDS COMMAND...
srv() {
	local limit="$1"
	shift
	timeout "$limit" ip netns exec "$SERVER_NS" "${ENTER[@]}" "$@"
}
# In the server's root, outside the namespace (package installs, files). inroot SECONDS COMMAND...
inroot() {
	local limit="$1"
	shift
	timeout "$limit" "${ENTER[@]}" "$@"
}
# Run on the laptop: this machine's tools, the other namespace. Usage: lap SECONDS COMMAND...
# Each command's exit code and duration go to $LOGS/laptop.log (where the time goes).
lap() {
	local limit="$1" t0 rc=0
	shift
	t0="$(now)"
	timeout "$limit" ip netns exec "$LAPTOP_NS" "$@" || rc=$?
	printf '%5s s  exit %3s  %s\n' "$(elapsed "$t0")" "$rc" "${*:1:6}" >>"$LOGS/laptop.log"
	return "$rc"
}

# --- network namespaces -------------------------------------------------------------------------
netns_up() {
	netns_down
	ip netns add "$SERVER_NS"
	ip netns add "$LAPTOP_NS"
	ip link add ms-veth-s type veth peer name ms-veth-l
	ip link set ms-veth-s netns "$SERVER_NS"
	ip link set ms-veth-l netns "$LAPTOP_NS"
	ip -n "$SERVER_NS" addr add "$SERVER_IP/24" dev ms-veth-s
	ip -n "$LAPTOP_NS" addr add "$LAPTOP_IP/24" dev ms-veth-l
	local ns
	for ns in "$SERVER_NS" "$LAPTOP_NS"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$SERVER_NS" link set ms-veth-s up
	ip -n "$LAPTOP_NS" link set ms-veth-l up
	# The link needs a moment (DAD, carrier): wait until the laptop reaches the server.
	local deadline=$((SECONDS + 10))
	# (no ping here: a TCP RST from a port nobody listens on proves the path works)
	until [[ "$(timeout 2 ip netns exec "$LAPTOP_NS" bash -c "exec 3<>/dev/tcp/$SERVER_IP/9" 2>&1)" == *refused* ]]; do
		((SECONDS < deadline)) || fail "netns: $LAPTOP_NS cannot reach $SERVER_IP within 10 s"
		sleep 0.2
	done
}
netns_down() {
	local ns
	for ns in "$SERVER_NS" "$LAPTOP_NS"; do
		if ip netns list | grep -qx "$ns\( (id: [0-9]*)\)\?"; then ip netns delete "$ns" || true; fi
	done
	# Deleting a namespace deletes its end of the veth pair, and with it the peer.
	ip link delete ms-veth-s 2>/dev/null || true
}

# --- daemons ------------------------------------------------------------------------------------
# pid from a pid file, only when that process is alive and is the program we expect
# (guards against a stale file whose pid was reused: we never kill by name, only check it).
live_pid() {
	local file="$1" comm="$2" pid
	[[ -f "$file" ]] || return 1
	pid="$(tr -dc '0-9' <"$file")"
	[[ -n "$pid" && -d "/proc/$pid" ]] || return 1
	[[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
	printf '%s' "$pid"
}
# stop_pidfiles FILE:COMM...: TERM every live one at once, wait up to 20 s, then KILL the rest.
stop_pidfiles() {
	local spec pid pids=() deadline
	for spec in "$@"; do
		pid="$(live_pid "${spec%:*}" "${spec##*:}")" || continue
		log "stopping ${spec##*:} (pid $pid from ${spec%:*})"
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	deadline=$((SECONDS + 20))
	for pid in ${pids[@]+"${pids[@]}"}; do
		while [[ -d "/proc/$pid" ]] && ((SECONDS < deadline)); do sleep 0.05; done
		if [[ -d "/proc/$pid" ]]; then
			log "pid $pid ignored TERM for 20 s: KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}
POSTFIX_PID=/var/spool/postfix/pid/master.pid
DOVECOT_PID=/run/dovecot/master.pid
MYSQL_PID=/run/mysqld/mysqld.pid
stop_daemons() {
	stop_pidfiles "$(r "$POSTFIX_PID"):master" "$(r "$DOVECOT_PID"):dovecot" "$(r "$MYSQL_PID"):mariadbd"
}
refuse_running_daemons() {
	local spec file comm
	for spec in "$POSTFIX_PID:master" "$DOVECOT_PID:dovecot" "$MYSQL_PID:mariadbd"; do
		file="$(r "${spec%%:*}")"
		comm="${spec##*:}"
		if live_pid "$file" "$comm" >/dev/null; then
			fail "$comm is already running (pid file $file): this test starts from stopped daemons; stop it first"
		fi
	done
}

# Starts MariaDB inside the server namespace on an empty datadir of its own, Debian's socket path.
DATADIR=/var/tmp/mail-setup-e2e-mysql
start_mariadb() {
	rm -rf "$(r "$DATADIR")"
	mkdir -p "$(r "$DATADIR")" "$(r /run/mysqld)"
	inroot 30 chown mysql:mysql "$DATADIR" /run/mysqld
	inroot 120 mariadb-install-db --no-defaults --user=mysql --datadir="$DATADIR" --skip-name-resolve --skip-test-db \
		>"$LOGS/mariadb-install.log" 2>&1 || {
		tail -20 "$LOGS/mariadb-install.log" >&2
		fail "mariadb-install-db failed"
	}
	# No Debian my.cnf: the bind address and socket are spelled out (Debian's own defaults).
	ip netns exec "$SERVER_NS" "${ENTER[@]}" setsid mariadbd --no-defaults --user=mysql --datadir="$DATADIR" \
		--socket=/run/mysqld/mysqld.sock --pid-file="$MYSQL_PID" --bind-address=127.0.0.1 --port=3306 \
		</dev/null >"$LOGS/mariadb.log" 2>&1 &
	local deadline=$((SECONDS + 30))
	until srv 5 mariadb-admin --no-defaults --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			tail -20 "$LOGS/mariadb.log" >&2
			fail "MariaDB did not answer ping within 30 s"
		fi
		sleep 0.2
	done
}

# --- files --------------------------------------------------------------------------------------
# manifest LABEL PATH...: one line per file (type, mode, numeric owner, sha256 or link target),
# paths as on the server. Saved to $LOGS/manifest-LABEL.txt; prints its path.
manifest() {
	local label="$1" out="$LOGS/manifest-$1.txt" target real
	shift
	: >"$out"
	for target in "$@"; do
		real="$(r "$target")"
		if [[ ! -e "$real" && ! -L "$real" ]]; then
			echo "$target absent" >>"$out"
			continue
		fi
		find "$real" -printf '%y %m %U:%G %p %l\n' | sort -k4,4 | while read -r type mode owner file link; do
			local sum='-'
			[[ "$type" == f ]] && sum="$(sha256sum <"$file" | cut -c1-64)"
			[[ "$type" == l ]] && sum="-> $link"
			printf '%s %s %s %s %s\n' "$type" "$mode" "$owner" "${file#"$ROOT"}" "$sum"
		done >>"$out"
	done
	printf '%s' "$out"
}
# same_manifest A B WHAT: fail with the difference when two manifests differ.
same_manifest() {
	if ! diff -u "$1" "$2" >"$LOGS/manifest-diff.txt"; then
		head -40 "$LOGS/manifest-diff.txt" >&2
		fail "$3"
	fi
}

# Secrets live in files readable by root only (never in argv); this dir is on the server's side.
SECRETS=/run/mail-setup-e2e
write_secret() { # write_secret NAME VALUE (no trailing newline needed: the CLI strips one)
	local file
	file="$(r "$SECRETS")/$1"
	mkdir -p "$(r "$SECRETS")"
	chmod 700 "$(r "$SECRETS")"
	(
		umask 077
		printf '%s\n' "$2" >"$file"
	)
}

# --- JSON ---------------------------------------------------------------------------------------
# Every stage and check that did not pass, one per line, naming it.
json_failures() {
	jq -r '(.stages // [])[] | select(.status != "pass") | "stage \(.id): \(.status): \(.message | split("\n") | .[0:6] | join(" | "))"' "$1" 2>/dev/null || true
	jq -r '(.checks // [])[] | select(.status == "fail") | "check \(.id): \(.status): \(.message)"' "$1" 2>/dev/null || true
}

# --- waiting for a change to take effect ----------------------------------------------------------
# wait_until SECONDS WHAT COMMAND...: run COMMAND every 0.2 s until it succeeds; fail after SECONDS.
wait_until() {
	local limit="$1" what="$2" deadline
	shift 2
	deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || fail "$what: not within $limit s"
		sleep 0.2
	done
}
port_open() { lap 5 bash -c "exec 3<>/dev/tcp/$SERVER_IP/$1" 2>/dev/null; } # seen from the laptop
port_closed() { ! port_open "$1"; }
# Restart Dovecot as the harness stops it (its pid file), start it in the server's namespace and
# wait until the laptop reaches IMAPS. Started with no inherited stdio (it would hold it forever).
restart_dovecot() {
	stop_pidfiles "$(r "$DOVECOT_PID"):dovecot"
	srv 30 dovecot </dev/null >/dev/null 2>&1 || fail "dovecot did not start (see /var/log/dovecot.log)"
	wait_until 10 "Dovecot running again" live_pid "$(r "$DOVECOT_PID")" dovecot
	wait_until 10 "IMAPS (993) reachable after the Dovecot restart" port_open 993
}

# --- mail-setup check from the laptop -------------------------------------------------------------
# laptop_check LABEL [PASSWORD_FILE [FQDN]]: `mail-setup check --json` as nobody in the laptop's
# namespace, the package unpacked as npx would, with no mail server of its own (empty /etc/dovecot,
# /etc/postfix, /var/backups). Writes $LOGS/LABEL.json and .stderr; sets CHECK_RC; logs the wall time.
laptop_check() {
	local label="$1" password_file="${2:-$LAPTOP_HOME/test-password}" fqdn="${3:-$FQDN}" t0 took
	t0="$(now)"
	CHECK_RC=0
	lap 120 unshare --mount --propagation private sh -c '
		for dir in /etc/dovecot /etc/postfix /var/backups; do mount -t tmpfs -o mode=755 tmpfs "$dir"; done
		home="$1"; shift
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin HOME="$home" node "$home/package/bin/mail-setup.js" "$@"' \
		sh "$LAPTOP_HOME" check --yes --json --fqdn "$fqdn" --check-host "$SERVER_IP" --test-user "$TEST_USER" \
		--test-password-file "$password_file" >"$LOGS/$label.json" 2>"$LOGS/$label.stderr" || CHECK_RC=$?
	took="$(elapsed "$t0")"
	printf '%s\t%s\t%s\n' "$REL" "check: $label" "$took" >>"$TIMINGS"
	log "  mail-setup check ($label): exit $CHECK_RC after $took s"
}
# expect_checks LABEL RC [ID...]: the run exited RC, exactly the IDs failed ("fail"), and every other
# check of CHECK_IDS passed (a check not in CHECK_IDS, e.g. a newer one, must only not fail).
expect_checks() {
	local label="$1" want_rc="$2" id st want failed problems=()
	shift 2
	jq -r '.checks[]? | "    \(.id): \(.status): \(.message)"' "$LOGS/$label.json" >&2 || true
	[[ "$CHECK_RC" == "$want_rc" ]] || problems+=("exit $CHECK_RC (expected $want_rc)")
	for id in "${CHECK_IDS[@]}"; do
		st="$(jq -r --arg id "$id" '[.checks[]? | select(.id == $id)][0] | if . == null then "not run" else .status end' "$LOGS/$label.json" 2>/dev/null)" || true
		st="${st:-no JSON report}"
		want=pass
		[[ " $* " != *" $id "* ]] || want=fail
		[[ "$st" == "$want" ]] || problems+=("check $id: $st (expected $want)")
	done
	failed="$(jq -r '[.checks[]? | select(.status == "fail") | .id] | sort | join(" ")' "$LOGS/$label.json" 2>/dev/null)" || true
	[[ "$failed" == "$(printf '%s\n' "$@" | sort | paste -sd' ')" ]] || problems+=("failed: ${failed:-none} (expected: ${*:-none})")
	if ((${#problems[@]})); then
		sed 's/^/  stderr: /' "$LOGS/$label.stderr" | head -20 >&2
		fail "mail-setup check ($label): $(printf '%s\n' "${problems[@]}" | paste -sd, - | sed 's/,/, /g')"
	fi
}
# expect_message LABEL ID REGEX: that check's message matches REGEX (case-insensitive).
expect_message() {
	jq -e --arg id "$2" --arg re "$3" '[.checks[]? | select(.id == $id)][0].message | test($re; "i")' "$LOGS/$1.json" >/dev/null 2>&1 ||
		fail "mail-setup check ($1): the message of $2 does not match /$3/i"
}

# no_secrets FILE...: fail when a password (or the base64 AUTH PLAIN token made from it) is in a file.
# SECRET_PATTERNS: the passwords; the tokens are added here.
no_secrets() {
	local patterns=() secret found
	for secret in "${SECRET_PATTERNS[@]}"; do
		patterns+=(-e "$secret" -e "$(printf '\0%s\0%s' "$TEST_USER" "$secret" | base64 -w0)")
	done
	found="$(grep -lF "${patterns[@]}" "$@" 2>/dev/null)" || true
	[[ -z "$found" ]] || fail "a password or AUTH token appears in: $(paste -sd' ' <<<"$found")"
}
