// The real tools of Debian 12 and 13 for the unit tests: a command runs chrooted in a throwaway
// overlay of the release's cached root (test/setup/roots.sh), never on this machine's own /etc,
// and never changing the cache.
//
//   await inRoot(12, ['doveconf', '-n', '-c', `${tree}/etc/dovecot/dovecot.conf`], {binds: [tree]})
//
// How: `unshare --mount` gives the command a private mount namespace (every mount vanishes with
// it, nothing leaks to the host or to tests running at the same time); there an overlay (upper dir
// in a temp dir of this process) is mounted over the root, with /proc, /dev, a fresh /tmp and /run,
// each path of `binds` (a test's temp dirs, the repo) bound at the same path inside, and an empty
// tmpfs over each dir of `tmpfs`. The
// command then runs chrooted there with a clean environment: what it writes to a bound path
// is seen by the test, anything else is thrown away with the overlay.
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {exec, execSync, scratch, type ExecOptions, type RunResult} from './proc.ts';

export type Release = 12 | 13;
export const RELEASES: readonly Release[] = [12, 13];
export const CACHE = process.env.MAIL_SETUP_TEST_CACHE ?? '/var/cache/mail-setup-test';

/** The cached root of a release; throws one line saying how to build it when it is not ready. */
export function rootDir(release: Release): string {
	const dir = `${CACHE}/roots/${release}`;
	if (!fs.existsSync(`${dir}/.ready`)) throw new Error(`no Debian ${release} root at ${dir}: run bash test/setup/roots.sh (npm test does)`);
	return dir;
}

/** Binds that put each entry of a test tree's etc/ over the same entry of the root's /etc (the tree as the server's /etc). */
export function etcBinds(tree: string): [string, string][] {
	const etc = path.join(path.resolve(tree), 'etc');
	return fs.readdirSync(etc).map(name => [path.join(etc, name), `/etc/${name}`]);
}

export interface RootOptions extends Omit<ExecOptions, 'env' | 'cwd'> {
	/** Absolute paths (dirs or files) of this machine seen at the same path inside, or [path here, path inside]. */
	binds?: (string | [string, string])[];
	/** Dirs inside hidden under an empty tmpfs (a machine without /etc/postfix, say). */
	tmpfs?: string[];
	/** Added to the clean environment (PATH, HOME=/root, LC_ALL=C.UTF-8). */
	env?: Record<string, string>;
	/** Working directory inside (default /). */
	cwd?: string;
}

const SCRIPT = String.raw`
set -e
root=$1 tmp=$2 cwd=$3 empty=$4 n=$5
shift 5
m=$tmp/merged
mkdir -p "$tmp/upper" "$tmp/work" "$m"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$m"
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
mount -t tmpfs -o mode=755 tmpfs "$m/run"
mkdir -p "$m/run/lock"
while [ "$n" -gt 0 ]; do
	if [ -d "$1" ]; then mkdir -p "$m$2"; else mkdir -p "$(dirname "$m$2")"; [ -e "$m$2" ] || touch "$m$2"; fi
	mount --rbind "$1" "$m$2"
	shift 2
	n=$((n - 1))
done
for dir in $empty; do mkdir -p "$m$dir"; mount -t tmpfs -o mode=755 tmpfs "$m$dir"; done
cd "$m"
exec chroot "$m" sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@"
`;

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The argv that runs argv in an overlay of the release's root, and the temp dir it uses. */
function wrap(release: Release, argv: string[], options: RootOptions): {argv: string[]; remove: () => void} {
	const {dir: tmp, remove} = scratch(`root${release}`);
	const binds = options.binds ?? [];
	const env = Object.entries({PATH, HOME: '/root', LC_ALL: 'C.UTF-8', ...options.env}).map(([key, value]) => `${key}=${value}`);
	return {
		argv: [
			'unshare', '--mount', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', rootDir(release), tmp, options.cwd ?? '/', (options.tmpfs ?? []).join(' '),
			String(binds.length), ...binds.flatMap(bind => (typeof bind === 'string' ? [bind, bind] : bind)),
			'/usr/bin/env', '-i', ...env, ...argv,
		],
		remove,
	};
}

/** Runs argv in an overlay of the release's root (see the header); the overlay is gone afterwards. */
export async function inRoot(release: Release, argv: string[], options: RootOptions = {}): Promise<RunResult> {
	const {argv: wrapped, remove} = wrap(release, argv, options);
	try {
		return await exec(wrapped, {input: options.input, timeout: options.timeout, env: {PATH}});
	} finally {
		remove();
	}
}

/** inRoot, synchronously. */
export function inRootSync(release: Release, argv: string[], options: RootOptions = {}): RunResult {
	const {argv: wrapped, remove} = wrap(release, argv, options);
	try {
		return execSync(wrapped, {input: options.input, timeout: options.timeout, env: {PATH}});
	} finally {
		remove();
	}
}

/** inRootSync that throws (with stderr) unless the command exits 0; returns stdout. */
export function mustInRoot(release: Release, argv: string[], options: RootOptions = {}): string {
	const run = inRootSync(release, argv, options);
	if (run.exitCode !== 0) throw new Error(`${argv.join(' ')} (Debian ${release}): exit ${run.exitCode}\n${run.stderr.trim()}`);
	return run.stdout;
}

/**
 * A command in an overlay of the root that the test watches or signals (a daemon, an interrupted
 * run): its pid is the command's own (the wrapper execs), so signals reach it. stdout and stderr
 * are pipes, or ignored. Call dispose() after it ended: it removes the overlay's dir.
 */
export function spawnInRoot(release: Release, argv: string[], options: RootOptions & {output?: 'pipe' | 'ignore'} = {}): {child: ChildProcess; dispose: () => void} {
	const {argv: wrapped, remove} = wrap(release, argv, options);
	const out = options.output ?? 'ignore';
	const child = spawn(wrapped[0]!, wrapped.slice(1), {env: {PATH}, stdio: ['ignore', out, out], detached: true});
	return {child, dispose: remove};
}
