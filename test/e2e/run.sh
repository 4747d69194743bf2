#!/usr/bin/env bash
# npm run test:e2e: mail-setup end to end on real servers, as root on a Debian machine.
#   Debian 12 on this machine, Debian 13 in a debootstrapped root (test/setup/trixie.sh);
#   each in two network namespaces, a server and a laptop (see scenario.sh).
# E2E_RELEASES="12 13" (default) selects releases; E2E_LOGS (default /tmp/mail-setup-e2e) keeps
# logs, JSON reports and config manifests; E2E_BREAK=<stage> leaves a stage out (must fail).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
[[ $EUID -eq 0 ]] || { echo "test:e2e: run as root (network namespaces, daemons, /etc)" >&2; exit 1; }

export E2E_LOGS="${E2E_LOGS:-/tmp/mail-setup-e2e}"
mkdir -p "$E2E_LOGS"
chmod 700 "$E2E_LOGS"
export TIMINGS="$E2E_LOGS/timings.tsv"
: >"$TIMINGS"
RELEASES="${E2E_RELEASES:-12 13}"
START="$EPOCHREALTIME"

step() { # step NAME COMMAND...: a timed preparation step
	local name="$1" t0="$EPOCHREALTIME" took
	shift
	"$@"
	took="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
	printf '[e2e] %-30s %6s s\n' "$name" "$took" >&2
	printf '%s\t%s\t%s\n' '-' "$name" "$took" >>"$TIMINGS"
}

step "install stack (Debian 12)" timeout 1500 bash test/setup/install-stack.sh
[[ " $RELEASES " != *" 13 "* ]] || step "trixie root (Debian 13)" timeout 2700 bash test/setup/trixie.sh
# jq reads the JSON reports; install-stack.sh does not install it.
JQ='apt-get install -y -q --no-install-recommends jq'
command -v jq >/dev/null || step "install jq" timeout 600 bash -c "$JQ || { apt-get update -q && $JQ; }"
step "build" timeout 300 npm run --silent build
PACK="$(mktemp -d /tmp/mail-setup-pack.XXXXXX)"
trap 'rm -rf "$PACK"' EXIT
step "npm pack" timeout 120 npm pack --silent --pack-destination "$PACK" >/dev/null
TARBALL="$(ls "$PACK"/mail-setup-*.tgz)"
export TARBALL

failed=()
for rel in $RELEASES; do
	# Each release in its own process: its trap stops its daemons and namespaces whatever happens.
	timeout 900 bash "$HERE/scenario.sh" "$rel" || failed+=("$rel")
done

total="$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
echo >&2
echo "[e2e] timings (s)" >&2
awk -F'\t' '{ printf "  %-4s %-28s %7s\n", $1, $2, $3 }' "$TIMINGS" >&2
printf '  %-4s %-28s %7s\n' '' 'TOTAL' "$total" >&2
if ((${#failed[@]})); then
	for rel in "${failed[@]}"; do
		echo "[e2e] FAILED on Debian $rel: $(cat "$E2E_LOGS/$rel/failure.txt" 2>/dev/null || echo 'see above')" >&2
	done
	echo "[e2e] logs in $E2E_LOGS" >&2
	exit 1
fi
echo "[e2e] PASSED: Debian $RELEASES" >&2
