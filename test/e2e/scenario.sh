#!/usr/bin/env bash
# One release, from a stock server to mail in the inbox and back:
#   bash test/e2e/scenario.sh 12   this machine (Debian 12: Dovecot 2.3, Postfix 3.7, MariaDB 10.11)
#   bash test/e2e/scenario.sh 13   the trixie root (Debian 13: Dovecot 2.4, Postfix 3.10, MariaDB 11.8)
# Needs: root, the stack installed (test/setup/install-stack.sh), for 13 the trixie root
# (test/setup/trixie.sh), dist/cli.js built (the server's CLI on 12) and TARBALL=the `npm pack`
# output (the server's CLI on 13, installed as npx would; the laptop's CLI on both).
# E2E_BREAK=<stage>: run every stage but that one; the run must then fail naming what broke.
# On 12 only: the configured server is broken four ways, one at a time (open relay, wrong password,
# IMAP on 143, a certificate for another name), each must fail exactly its check; then all is put back.
set -euo pipefail

REL="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

case "$REL" in
12) use_root '' ;;
13) use_root "${TRIXIE_ROOT:-$CACHE/trixie}" ;;
*) fail "usage: scenario.sh 12|13" ;;
esac
PRISTINE="$CACHE/pristine-$REL/etc"
LOGS="${E2E_LOGS:-/tmp/mail-setup-e2e}/$REL"
TIMINGS="${TIMINGS:-$LOGS/timings.tsv}"
[[ $EUID -eq 0 ]] || fail "run as root (namespaces, daemons, /etc)"
[[ -d "$PRISTINE/dovecot" && -d "$PRISTINE/postfix" ]] || fail "no pristine snapshot at $PRISTINE: run test/setup/install-stack.sh (12) or test/setup/trixie.sh (13)"
rm -rf "$LOGS"
mkdir -p "$LOGS"
chmod 700 "$LOGS"

# Throwaway secrets. The DB password has a space and both quotes: Dovecot 2.3 must take it through
# its option_file, 2.4 as a quoted value, Postfix as is.
DB_PASSWORD="db p'ass\"1 x"
TEST_PASSWORD='T3st-pass.e2e'
TOKEN="e2e-$REL-$(date +%s)-$RANDOM"
WRONG_PASSWORD="wrong-$TEST_PASSWORD"
SECRET_PATTERNS=("$TEST_PASSWORD" "$WRONG_PASSWORD" "$DB_PASSWORD") # no output may hold these (no_secrets)
CERT="/etc/ssl/certs/$FQDN.crt"
KEY="/etc/ssl/private/$FQDN.key"
FILE_STAGES=(dovecot-sql permissions dovecot-master lda certificate dovecot-ssl postfix submission)
ALL_STAGES=(database "${FILE_STAGES[@]}" reload check)
CHECK_IDS=(smtp-relay-refused smtp-local-accepted imaps-login submission-auth plaintext-closed certificate-name)

# --- cleanup: always, whatever failed -------------------------------------------------------------
MOUNTS=()
cleanup() {
	local rc=$?
	set +e
	phase_end
	if ((rc != 0)); then
		log "FAILED (exit $rc) in phase '${FAILED_PHASE:-?}'; logs in $LOGS; the server's files are left as the run made them"
		for f in postfix.log dovecot.log; do
			[[ -s "$(r "/var/log/$f")" ]] && { log "last lines of /var/log/$f:"; tail -15 "$(r "/var/log/$f")" >&2; }
		done
	fi
	cp "$(r /var/log/postfix.log)" "$(r /var/log/dovecot.log)" "$LOGS/" 2>/dev/null
	stop_daemons
	netns_down
	rm -rf "$(r "$SECRETS")" "$(r "$DATADIR")" "${LAPTOP_HOME:-}"
	local m
	for ((m = ${#MOUNTS[@]} - 1; m >= 0; m--)); do umount -l "${MOUNTS[m]}" 2>/dev/null; done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FAILED_PHASE=''
phase() {
	phase_end
	PHASE="$1"
	FAILED_PHASE="$1"
	PHASE_T0="$(now)"
}

# --- 1. a stock server ------------------------------------------------------------------------------
phase reset
refuse_running_daemons
if [[ -n "$ROOT" ]]; then
	[[ -x "$ROOT/usr/sbin/dovecot" ]] || fail "no trixie root at $ROOT: run test/setup/trixie.sh"
	# (a failed mount ends the run: set -e; the trap unmounts what was mounted)
	mount_in_root() { mount "$@"; MOUNTS+=("${*: -1}"); }
	mount_in_root -t proc proc "$ROOT/proc"
	mount_in_root --bind /dev "$ROOT/dev"
	mount_in_root --bind /dev/pts "$ROOT/dev/pts"
	mount_in_root -o bind,ro /sys "$ROOT/sys"
	mount_in_root -t tmpfs -o mode=755 tmpfs "$ROOT/run"
	mkdir -p "$ROOT/run/lock"
fi
for dir in dovecot postfix; do
	rm -rf "$(r "/etc/$dir")"
	cp -a "$PRISTINE/$dir" "$(r "/etc/$dir")"
done
rm -rf "$(r "$CERT")" "$(r "$KEY")" "$(r /var/backups/mail-setup)" "$(r "/var/mail/$DOMAIN")"
rm -f "$(r /var/spool/postfix/private/auth)" "$(r /var/spool/postfix/private/dovecot-lmtp)"
inroot 30 postsuper -d ALL >/dev/null 2>&1 || true # mail queued by an earlier run
: >"$(r /var/log/postfix.log)"
: >"$(r /var/log/dovecot.log)"
# No syslog here: both daemons log to files (part of the "before" state that undo must give back).
inroot 30 postconf -e maillog_file=/var/log/postfix.log
printf '\n# e2e: no syslog on this machine\nlog_path = /var/log/dovecot.log\n' >>"$(r /etc/dovecot/dovecot.conf)"
BEFORE="$(manifest before /etc/dovecot /etc/postfix "$CERT" "$KEY")"

[[ -f "${TARBALL:-}" ]] || fail "TARBALL=the npm pack output is needed (run.sh makes it)"
if [[ -n "$ROOT" ]]; then
	phase install-tarball
	cp "$TARBALL" "$ROOT/tmp/mail-setup.tgz"
	# What npx does with a package: unpack it and link its bin; the bundle has no dependencies.
	inroot 120 npm install -g --offline --no-audit --no-fund --no-update-notifier /tmp/mail-setup.tgz >"$LOGS/npm-install.log" 2>&1 ||
		{ tail -20 "$LOGS/npm-install.log" >&2; fail "npm install -g of the tarball failed inside the root"; }
	rm -f "$ROOT/tmp/mail-setup.tgz"
	CLI=(mail-setup)
	inroot 30 mail-setup --version >/dev/null || fail "the installed mail-setup does not run inside the root"
else
	CLI=(node "$REPO/bin/mail-setup.js")
fi

phase network
netns_up

phase mariadb
start_mariadb
write_secret db-password "$DB_PASSWORD"
write_secret test-password "$TEST_PASSWORD"

# --- 2. the wizard, every stage, on the server ------------------------------------------------------
phase wizard
STAGES=()
if [[ -n "${E2E_BREAK:-}" ]]; then
	for s in "${ALL_STAGES[@]}"; do [[ "$s" == "$E2E_BREAK" ]] || STAGES+=("$s"); done
	log "E2E_BREAK=$E2E_BREAK: running ${STAGES[*]}"
fi
set +e
t0="$(now)"
srv 300 "${CLI[@]}" ${STAGES[@]+"${STAGES[@]}"} --yes --json --db-create --fqdn "$FQDN" --check-host 127.0.0.1 \
	--db-password-file "$SECRETS/db-password" --test-password-file "$SECRETS/test-password" \
	>"$LOGS/wizard.json" 2>"$LOGS/wizard.stderr"
rc=$?
WIZARD_S="$(elapsed "$t0")"
set -e
printf '%s\t%s\t%s\n' "$REL" "WIZARD (all stages)" "$WIZARD_S" >>"$TIMINGS"
log "wizard: exit $rc after $WIZARD_S s"
# Every stage ran and passed, every check passed: anything else fails, naming what broke.
problems=()
((rc == 0)) || problems+=("exit $rc")
jq -e '.ok == true' "$LOGS/wizard.json" >/dev/null 2>&1 || problems+=("not ok")
for id in "${ALL_STAGES[@]}"; do
	st="$(jq -r --arg id "$id" '[.stages[]? | select(.id == $id)][0] | if . == null then "not run" else "\(.status): \(.message | split("\n")[0])" end' "$LOGS/wizard.json" 2>/dev/null)" || true
	st="${st:-no JSON report}"
	[[ "$st" == pass:* ]] || problems+=("stage $id: $st")
done
# From the server itself the relay check can only be inconclusive (Postfix trusts it); all others pass.
for id in "${CHECK_IDS[@]}"; do
	st="$(jq -r --arg id "$id" '[.checks[]? | select(.id == $id)][0] | if . == null then "not run" else .status end' "$LOGS/wizard.json" 2>/dev/null)" || true
	st="${st:-no JSON report}"
	[[ "$st" == pass || ("$id" == smtp-relay-refused && "$st" == inconclusive) ]] || problems+=("check $id: $st")
done
jq -r '"  stages: " + ([.stages[]? | "\(.id) \(.status)"] | join(", "))' "$LOGS/wizard.json" >&2 || true
jq -r '.checks[]? | "  wizard check \(.id): \(.status): \(.message)"' "$LOGS/wizard.json" >&2 || true
if ((${#problems[@]})); then
	[[ -s "$LOGS/wizard.stderr" ]] && sed 's/^/  stderr: /' "$LOGS/wizard.stderr" | head -20 >&2
	printf '  %s\n' "${problems[@]}" >&2
	fail "wizard: $(printf '%s\n' "${problems[@]}" | cut -d: -f1 | paste -sd, - | sed 's/,/, /g')"
fi
if grep -qF -e "$DB_PASSWORD" -e "$TEST_PASSWORD" "$LOGS/wizard.json" "$LOGS/wizard.stderr"; then fail "a password appears in the wizard's output"; fi
AFTER="$(manifest after /etc/dovecot /etc/postfix "$CERT" "$KEY")"
srv 30 doveconf -n >"$LOGS/doveconf-n.txt" 2>&1 || true
srv 30 postconf -n >"$LOGS/postconf-n.txt" 2>&1 || true

# --- 3. on the server: Dovecot logs in through SQL (doveadm auth test), the files hold what they must
phase server-side
# doveadm reads the password from stdin when stdin is not a terminal (no argv).
srv 30 doveadm auth test "$TEST_USER" <<<"$TEST_PASSWORD" >"$LOGS/doveadm-auth.txt" 2>&1 ||
	{ cat "$LOGS/doveadm-auth.txt" >&2; fail "doveadm auth test $TEST_USER failed: Dovecot cannot log in through SQL"; }
grep -q 'auth succeeded' "$LOGS/doveadm-auth.txt" || fail "doveadm auth test: no 'auth succeeded'"
if srv 30 doveadm auth test "$TEST_USER" <<<"$WRONG_PASSWORD" >/dev/null 2>&1; then fail "doveadm auth test accepted a wrong password"; fi
# The DB password in each form it must take (the login above proves Dovecot reads it right).
QUOTED="\"${DB_PASSWORD//\"/\\\"}\"" # "db p'ass\"1 x"
if [[ "$REL" == 12 ]]; then
	grep -q 'option_file=/etc/dovecot/dovecot-sql.my.cnf' "$(r /etc/dovecot/dovecot-sql.conf.ext)" || fail "Dovecot 2.3: a DB password with a space must go through option_file"
	grep -qxF "password = $QUOTED" "$(r /etc/dovecot/dovecot-sql.my.cnf)" || fail "Dovecot 2.3: dovecot-sql.my.cnf does not hold the quoted DB password"
else
	grep -qF "password = $QUOTED" "$(r /etc/dovecot/conf.d/auth-sql.conf.ext)" || fail "Dovecot 2.4: auth-sql.conf.ext does not hold the quoted DB password"
fi
for map in mailbox-domains mailbox-maps alias-maps; do
	grep -qxF "password = $DB_PASSWORD" "$(r "/etc/postfix/mysql-virtual-$map.cf")" || fail "Postfix: mysql-virtual-$map.cf does not hold the DB password as is"
done
# What no client sees: the postmaster address (lda) and the locked-down /etc/dovecot (permissions).
postmaster="$(srv 30 doveconf -h postmaster_address 2>&1)" || true
[[ "$postmaster" == "postmaster@$DOMAIN" ]] || fail "lda: doveconf -h postmaster_address says '$postmaster', not postmaster@$DOMAIN"
# (Symbolic links have no permissions of their own: Debian 13's private/dovecot.pem points to the snakeoil pair.)
open_files="$(find "$(r /etc/dovecot)" ! -type l \( -perm /o=rwx -o ! -user mail \) -printf '%P\n' | sort)"
[[ -z "$open_files" ]] || fail "permissions: $(wc -l <<<"$open_files") paths in /etc/dovecot readable by others or not owned by mail: $(head -4 <<<"$open_files" | paste -sd' ') …"

# --- 4. from the laptop: mail-setup check and independent clients -----------------------------------
phase laptop-check
# The laptop: an ordinary user (nobody) with the package unpacked as npx would, and no mail server
# of its own (its /etc/dovecot, /etc/postfix, /var/backups are empty; on 12 the server's share this disk).
LAPTOP_HOME="$(mktemp -d /tmp/mail-setup-laptop.XXXXXX)"
tar -xzf "$TARBALL" -C "$LAPTOP_HOME"
install -m 600 "$(r "$SECRETS/test-password")" "$LAPTOP_HOME/test-password"
chown -R nobody:nogroup "$LAPTOP_HOME"
laptop_check laptop-check
expect_checks laptop-check 0

phase clients
CA="$(r "$CERT")"
CLIENT="$LOGS/client" # netrc and swaks config files: the passwords stay out of argv
mkdir -p "$CLIENT"
(
	umask 077
	printf 'machine %s login %s password %s\n' "$FQDN" "$TEST_USER" "$TEST_PASSWORD" >"$CLIENT/netrc"
	printf 'machine %s login %s password %s\n' "$FQDN" "$TEST_USER" "$WRONG_PASSWORD" >"$CLIENT/netrc-wrong"
	printf 'auth-password %s\n' "$TEST_PASSWORD" >"$CLIENT/swaks"
	printf 'auth-password %s\n' "$WRONG_PASSWORD" >"$CLIENT/swaks-wrong"
)
imap() { # imap NETRC URL-PATH [curl args...]
	local netrc="$1" path="$2"
	shift 2
	lap 30 curl -sS --max-time 20 --netrc-file "$netrc" --cacert "$CA" --resolve "$FQDN:993:$SERVER_IP" "imaps://$FQDN/$path" "$@"
}
swaks_() { lap 60 swaks --timeout 20 "$@"; }
# swaks exit codes: 23 MAIL refused, 24 RCPT refused, 28 AUTH refused.
expect_refused() { # expect_refused WHAT 'codes' swaks-args...
	local what="$1" codes="$2" out="$LOGS/swaks-$1.txt" rc
	shift 2
	set +e
	swaks_ "$@" >"$out" 2>&1
	rc=$?
	set -e
	if [[ " $codes " != *" $rc "* ]]; then
		tail -15 "$out" >&2
		fail "$what: swaks exit $rc, expected a refusal (exit $codes)"
	fi
	grep -E '^<(\*\*|~\*) [45][0-9][0-9]' "$out" | head -1 | sed "s/^/  $what refused: /" >&2
}

# Submission with AUTH on 587, then the message is in the INBOX over IMAPS.
swaks_ --config "$CLIENT/swaks" --server "$SERVER_IP:587" --tls --auth PLAIN --auth-user "$TEST_USER" \
	--from "$TEST_USER" --to "$TEST_USER" --header "Subject: mail-setup $TOKEN" --body "sent by the e2e: $TOKEN" \
	>"$LOGS/swaks-submit.txt" 2>&1 || { tail -20 "$LOGS/swaks-submit.txt" >&2; fail "swaks: authenticated submission on 587 failed"; }
grep -E '^<~  250 .*queued' "$LOGS/swaks-submit.txt" | sed 's/^/  submitted: /' >&2
uid=''
deadline=$((SECONDS + 30))
while :; do
	uid="$(imap "$CLIENT/netrc" INBOX -X "UID SEARCH SUBJECT \"$TOKEN\"" 2>"$LOGS/curl-search.err" | tr -d '\r' | awk '/^\* SEARCH/ {print $3}')" || true
	[[ -n "$uid" ]] && break
	((SECONDS < deadline)) || { cat "$LOGS/curl-search.err" >&2; fail "the submitted message did not reach the INBOX within 30 s (IMAPS search)"; }
	sleep 0.5
done
imap "$CLIENT/netrc" "INBOX;UID=$uid" >"$LOGS/message.eml" || fail "curl could not fetch the message over IMAPS"
grep -q "sent by the e2e: $TOKEN" "$LOGS/message.eml" || fail "the fetched message does not hold the token"
log "  IMAPS (curl, certificate verified against $CERT): message UID $uid found"

# What must be refused.
expect_refused relay-25 '24' --server "$SERVER_IP:25" --from "$TEST_USER" --to relay-victim@example.net --quit-after RCPT
grep -qi 'Relay access denied' "$LOGS/swaks-relay-25.txt" || fail "relay on 25: refused, but not with 'Relay access denied'"
expect_refused relay-587 '23 24' --server "$SERVER_IP:587" --tls --from "$TEST_USER" --to relay-victim@example.net --quit-after RCPT
expect_refused wrong-password-587 '28' --config "$CLIENT/swaks-wrong" --server "$SERVER_IP:587" --tls --auth PLAIN --auth-user "$TEST_USER" \
	--from "$TEST_USER" --to "$TEST_USER" --quit-after AUTH
set +e
imap "$CLIENT/netrc-wrong" INBOX -X 'NOOP' >/dev/null 2>"$LOGS/curl-wrong.err"
rc=$?
set -e
[[ $rc -eq 67 ]] || { cat "$LOGS/curl-wrong.err" >&2; fail "IMAPS with a wrong password: curl exit $rc, expected 67 (login denied)"; }
log "  IMAPS wrong password refused: $(head -1 "$LOGS/curl-wrong.err")"
for port in 143 110 995; do
	if lap 10 bash -c "exec 3<>/dev/tcp/$SERVER_IP/$port" 2>/dev/null; then fail "port $port accepts connections from the laptop"; fi
done
for port in 25 587 993; do
	lap 10 bash -c "exec 3<>/dev/tcp/$SERVER_IP/$port" 2>/dev/null || fail "port $port refuses connections from the laptop"
done
log "  ports 143, 110, 995 closed; 25, 587, 993 open"

# --- 4b. breakages (Debian 12 only, to keep the run short) -------------------------------------------
# Each breakage, one at a time, must make exactly the right check(s) fail, with exit 1, while the others
# still pass. Every changed file is put back byte for byte from a copy, the daemons are restarted and a
# last laptop check passes again: the rerun and undo below see the server as the wizard left it.
if [[ "$REL" == 12 ]]; then
	phase breakages
	KEPT="$(r "$SECRETS")/kept" # copies of the files we break (root only; the trap removes $SECRETS)
	BREAK_LOG="$LOGS/breakages.log"
	mkdir -p "$KEPT"
	for f in /etc/postfix/main.cf /etc/dovecot/conf.d/10-master.conf /etc/dovecot/conf.d/10-ssl.conf; do
		cp -p "$(r "$f")" "$KEPT/${f##*/}"
	done
	put_back() { cp -p "$KEPT/${1##*/}" "$(r "$1")"; }
	postfix_reload() { srv 30 postfix reload >>"$BREAK_LOG" 2>&1 || fail "postfix reload failed (see $BREAK_LOG)"; }
	# Seen from the laptop: swaks exits 0 when RCPT to an outside address is accepted, 24 when refused.
	relay_rc() { lap 15 swaks --timeout 5 --server "$SERVER_IP:25" --from "$TEST_USER" --to relay-victim@example.net --quit-after RCPT >>"$BREAK_LOG" 2>&1; }
	relay_refused() {
		local rc=0
		relay_rc || rc=$?
		((rc == 24))
	}
	# serves NAME: the laptop is served a certificate whose subject is CN = NAME on 993 and on 587.
	subject_on() { # subject_on PORT [s_client args...]
		local port="$1"
		shift
		lap 10 openssl s_client -connect "$SERVER_IP:$port" -servername "$FQDN" "$@" </dev/null 2>/dev/null | timeout 10 openssl x509 -noout -subject
	}
	serves() { [[ "$(subject_on 993)" == *"CN = $1" && "$(subject_on 587 -starttls smtp)" == *"CN = $1" ]]; }

	# (Dovecot's auth penalty: after a wrong password, every login from the laptop's address waits
	# 2, 4, 8, up to 15 s until one succeeds. The clients' wrong passwords above can cost the first run
	# here a few seconds; the wrong-password run comes just before a Dovecot restart and Postfix reload.)

	# 1. IMAP on 143 re-opened.
	sed '/inet_listener imap {/,/}/ s/port = 0$/port = 143/' "$KEPT/10-master.conf" >"$(r /etc/dovecot/conf.d/10-master.conf)"
	grep -q 'port = 143$' "$(r /etc/dovecot/conf.d/10-master.conf)" || fail "could not set port = 143 in 10-master.conf"
	restart_dovecot
	wait_until 10 "port 143 open after the restart" port_open 143
	laptop_check break-imap143
	expect_checks break-imap143 1 plaintext-closed
	expect_message break-imap143 plaintext-closed '\b143\b'
	put_back /etc/dovecot/conf.d/10-master.conf
	restart_dovecot
	wait_until 10 "port 143 closed again" port_closed 143

	# 2. An open relay.
	srv 30 postconf -e 'mynetworks = 0.0.0.0/0'
	postfix_reload
	wait_until 10 "Postfix relaying for the laptop after mynetworks = 0.0.0.0/0" relay_rc
	laptop_check break-relay
	expect_checks break-relay 1 smtp-relay-refused
	expect_message break-relay smtp-relay-refused 'open relay'
	put_back /etc/postfix/main.cf
	postfix_reload
	wait_until 10 "Postfix refusing to relay again" relay_refused

	# 3. A certificate name the server does not serve (client side: --fqdn other.example.test).
	OTHER=other.example.test
	laptop_check break-fqdn "$LAPTOP_HOME/test-password" "$OTHER"
	expect_checks break-fqdn 1 certificate-name
	expect_message break-fqdn certificate-name "not $OTHER"

	# 4. A wrong password: the checks that log in fail; the port-25 checks do not use it.
	(
		umask 077
		printf '%s\n' "$WRONG_PASSWORD" >"$LAPTOP_HOME/wrong-password"
	)
	chown nobody:nogroup "$LAPTOP_HOME/wrong-password"
	laptop_check break-password "$LAPTOP_HOME/wrong-password"
	LOGIN_CHECKS=(imaps-login submission-auth)
	# (mailbox-delivery, where the CLI has it, submits with the password: it must fail too.)
	jq -e '.checks[]? | select(.id == "mailbox-delivery")' "$LOGS/break-password.json" >/dev/null && LOGIN_CHECKS+=(mailbox-delivery)
	expect_checks break-password 1 "${LOGIN_CHECKS[@]}"
	expect_message break-password imaps-login 'login'
	expect_message break-password submission-auth '535'

	# 5. The server serves a certificate for another name (Dovecot and Postfix). Their restart and reload
	#    also start fresh auth processes: the wrong password's auth penalty does not slow the runs after it.
	inroot 60 openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$OTHER" -addext "subjectAltName=DNS:$OTHER" \
		-keyout "$SECRETS/other.key" -out "$SECRETS/other.crt" >>"$BREAK_LOG" 2>&1 || fail "openssl could not make a certificate for $OTHER"
	sed "s#^ssl_cert = <.*#ssl_cert = <$SECRETS/other.crt#; s#^ssl_key = <.*#ssl_key = <$SECRETS/other.key#" \
		"$KEPT/10-ssl.conf" >"$(r /etc/dovecot/conf.d/10-ssl.conf)"
	[[ "$(grep -c "<$SECRETS/other" "$(r /etc/dovecot/conf.d/10-ssl.conf)")" == 2 ]] || fail "could not point ssl_cert and ssl_key in 10-ssl.conf at $SECRETS"
	srv 30 postconf -e "smtpd_tls_cert_file = $SECRETS/other.crt" "smtpd_tls_key_file = $SECRETS/other.key"
	restart_dovecot
	postfix_reload
	wait_until 10 "the laptop served the certificate for $OTHER on 993 and 587" serves "$OTHER"
	laptop_check break-cert
	expect_checks break-cert 1 certificate-name
	expect_message break-cert certificate-name "$OTHER, not $FQDN"
	put_back /etc/dovecot/conf.d/10-ssl.conf
	put_back /etc/postfix/main.cf
	restart_dovecot
	postfix_reload
	wait_until 10 "the laptop served the certificate for $FQDN again" serves "$FQDN"

	# Everything put back: the same bytes as the wizard left, and every check passes again.
	same_manifest "$AFTER" "$(manifest restored /etc/dovecot /etc/postfix "$CERT" "$KEY")" "the breakages were not put back byte for byte (diff above)"
	laptop_check restored
	expect_checks restored 0
	log "  breakages: each failed exactly its check(s); restored, all checks pass again"
fi

# --- 5. again: nothing to change --------------------------------------------------------------------
phase rerun
set +e
srv 120 "${CLI[@]}" "${FILE_STAGES[@]}" --yes --json --fqdn "$FQDN" --check-host 127.0.0.1 \
	--db-password-file "$SECRETS/db-password" --test-password-file "$SECRETS/test-password" >"$LOGS/rerun.json" 2>"$LOGS/rerun.stderr"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
	json_failures "$LOGS/rerun.json" | sed 's/^/  /' >&2
	fail "rerun of the file stages failed (exit $rc)"
fi
changed="$(jq -r '.stages[] | select((.changes | length) > 0) | "\(.id): \([.changes[].path] | join(", "))"' "$LOGS/rerun.json")"
[[ -z "$changed" ]] || fail "rerun is not idempotent: changes planned by $changed"
[[ "$(jq '.stages | length' "$LOGS/rerun.json")" -eq ${#FILE_STAGES[@]} ]] || fail "rerun: expected ${#FILE_STAGES[@]} stages"
same_manifest "$AFTER" "$(manifest rerun /etc/dovecot /etc/postfix "$CERT" "$KEY")" "rerun changed bytes, modes or owners (diff above)"
log "  rerun: ${#FILE_STAGES[@]} file stages, \"changes\": [] each, no byte changed"

# --- 6. undo: back to the state before the wizard ---------------------------------------------------
phase undo
srv 60 "${CLI[@]}" undo --json >"$LOGS/undo.json" 2>"$LOGS/undo.stderr" || { cat "$LOGS/undo.stderr" >&2; fail "mail-setup undo failed"; }
log "  undo restored $(jq '.restored | length' "$LOGS/undo.json") paths"
same_manifest "$BEFORE" "$(manifest undone /etc/dovecot /etc/postfix "$CERT" "$KEY")" "undo did not give back the files byte for byte (diff above)"
log "  undo: /etc/dovecot, /etc/postfix byte for byte as before the run; certificate pair removed"
# No output of the whole run (JSON reports, transcripts in them, stderr) holds a password or AUTH token.
no_secrets "$LOGS"/*.json "$LOGS"/*.stderr
log "  no password or AUTH token in $(ls "$LOGS"/*.json "$LOGS"/*.stderr | wc -l) JSON reports and stderr logs"

phase stop
stop_daemons
# Leave the server stock, as found. (A failed run leaves its state to look at; the next run resets it.)
for dir in dovecot postfix; do
	rm -rf "$(r "/etc/$dir")"
	cp -a "$PRISTINE/$dir" "$(r "/etc/$dir")"
done
rm -rf "$(r /var/backups/mail-setup)" "$(r "/var/mail/$DOMAIN")"
phase_end
FAILED_PHASE=''
log "PASS"
