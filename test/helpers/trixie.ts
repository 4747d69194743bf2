// The Debian 13 root that test/setup/trixie.sh builds, and the real doveconf of each release run on
// a config tree of the tests (a `--root` directory holding etc/dovecot/dovecot.conf).
//
// How doveconf sees the tree: in a private mount namespace (`unshare --mount`, so nothing leaks to
// the host or to tests running at the same time, and every mount vanishes when doveconf exits)
// each entry of TREE/etc is bind-mounted over the same entry of the release's root (`/` for the
// host's Dovecot 2.3, the trixie root for 2.4), then doveconf runs chrooted there with
// `-c /etc/dovecot/dovecot.conf`. So relative `!include conf.d/*.conf` and absolute paths alike
// (`ssl_server_cert_file = /etc/ssl/certs/x.crt`, `ssl_cert = </etc/...` read by `-x`) resolve to the
// tree's own files, while binaries and /usr/share/dovecot come from the release. Entries of
// TREE/etc with no counterpart in the root are not visible (the stock trees only hold ones that do).
// Dovecot 2.4's doveconf writes a binary config to /tmp, so the trixie root gets a private tmpfs there.
// (An overlay of TREE over the root would be more general, but overlayfs refuses `/` as a lower
// layer when the tree lives under it, so the host case could not use it.)
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const TRIXIE_ROOT = process.env.TRIXIE_ROOT ?? '/var/cache/mail-setup-test/trixie';
/** Written by trixie.sh as its last step: without it the root is missing or half-built. */
const STAMP = '.mail-setup-test-ready';

/** The Debian 13 root, or undefined when test/setup/trixie.sh has not completed. */
export function trixieRoot(): string | undefined {
	return fs.existsSync(path.join(TRIXIE_ROOT, STAMP)) ? TRIXIE_ROOT : undefined;
}

export interface RunResult {
	/** doveconf's exit code; -1 when it was killed (timeout). */
	exitCode: number;
	stdout: string;
	stderr: string;
}

const BIND_AND_RUN = String.raw`
set -e
tree=$1 root=$2
shift 2
for src in "$tree"/etc/*; do
	dst="$root/etc/$(basename "$src")"
	if [ -e "$dst" ]; then mount --bind "$src" "$dst"; fi
done
if [ "$root" != / ]; then mount -t tmpfs tmpfs "$root/tmp"; fi
exec chroot "$root" doveconf "$@"
`;

function runDoveconf(root: string, args: string[], configDir: string): Promise<RunResult> {
	const tree = path.resolve(configDir);
	const argv = ['--mount', '--propagation', 'private', 'sh', '-c', BIND_AND_RUN, 'sh', tree, root, '-c', '/etc/dovecot/dovecot.conf', ...args];
	return new Promise((resolve, reject) => {
		const child = spawn('unshare', argv, {
			env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8'},
			stdio: ['ignore', 'pipe', 'pipe'],
			timeout: 30_000,
		});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (signal) stderr += `\n(doveconf killed by ${signal})`;
			resolve({exitCode: code ?? -1, stdout, stderr});
		});
	});
}

/** Debian 13's doveconf (Dovecot 2.4) on the tree at configDir, e.g. `doveconf24(['-n'], tree)`. */
export function doveconf24(args: string[], configDir: string): Promise<RunResult> {
	const root = trixieRoot();
	if (!root) throw new Error(`no Debian 13 root at ${TRIXIE_ROOT}: run bash test/setup/trixie.sh`);
	return runDoveconf(root, args, configDir);
}

/** This host's doveconf (Dovecot 2.3 on Debian 12) on the tree at configDir. */
export function doveconf23(args: string[], configDir: string): Promise<RunResult> {
	return runDoveconf('/', args, configDir);
}
