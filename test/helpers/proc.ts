// Processes and leftovers of the tests: one way to run a command (deadline, stdin, exit code), and
// the cleanup that removes what a test made (namespaces, temp dirs, daemons) however the test ends.
//
// Everything a test makes on this machine is named `mst-<pid>-…` after the test process that made it
// (network namespaces under /run/netns, temp dirs under /tmp, the cgroups of booted servers), so
// parallel runs never collide and leftovers of a process that died without cleaning up (SIGKILL)
// are found and removed by the next test process that starts (sweepStale).
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {running} from '../../source/lock.ts';

export interface RunResult {
	/** The exit code; -1 when the command was killed (its deadline passed, or a signal). */
	exitCode: number;
	stdout: string;
	stderr: string;
}

export interface ExecOptions {
	/** Written to stdin, then closed (default: stdin is /dev/null). */
	input?: string | Buffer;
	/** Deadline in ms (default 60 s): then the whole process group is killed. */
	timeout?: number;
	/** The complete environment (default: this process's). */
	env?: Record<string, string>;
	cwd?: string;
}

/** Runs argv in a process group of its own; a deadline kills the group (nsenter's child too). */
export function exec(argv: string[], options: ExecOptions = {}): Promise<RunResult> {
	const timeout = options.timeout ?? 60_000;
	return new Promise((resolve, reject) => {
		const child = spawn(argv[0]!, argv.slice(1), {
			cwd: options.cwd,
			env: options.env ?? process.env,
			detached: true,
			stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		let late = false;
		child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		if (options.input !== undefined) child.stdin!.on('error', () => {}).end(options.input);
		const timer = setTimeout(() => {
			late = true;
			killGroup(child.pid!);
		}, timeout);
		child.on('error', error => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			if (late) stderr += `\n(${argv[0]} killed: no exit within ${timeout / 1000} s)`;
			else if (signal) stderr += `\n(${argv[0]} killed by ${signal})`;
			resolve({exitCode: code ?? -1, stdout, stderr});
		});
	});
}

/** exec, synchronously. */
export function execSync(argv: string[], options: ExecOptions = {}): RunResult {
	const run = spawnSync(argv[0]!, argv.slice(1), {
		cwd: options.cwd,
		env: options.env ?? process.env,
		input: options.input,
		encoding: 'utf8',
		timeout: options.timeout ?? 60_000,
		killSignal: 'SIGKILL',
		maxBuffer: 256 * 1024 * 1024,
	});
	if (run.error && !run.signal) throw run.error;
	const killed = run.signal ? `\n(${argv[0]} killed by ${run.signal})` : '';
	return {exitCode: run.status ?? -1, stdout: run.stdout ?? '', stderr: (run.stderr ?? '') + killed};
}

/** Runs argv and throws, with its stderr, unless it exits 0; returns stdout. */
export async function must(argv: string[], options: ExecOptions = {}): Promise<string> {
	const run = await exec(argv, options);
	if (run.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${run.exitCode}\n${run.stderr.trim()}`);
	return run.stdout;
}

function killGroup(pid: number): void {
	try {
		process.kill(-pid, 'SIGKILL');
	} catch {
		// Already gone.
	}
}

// --- cleanup ----------------------------------------------------------------------------------

/** The prefix of every name this process gives to what it makes on the machine. */
export const PREFIX = `mst-${process.pid}`;
const STALE = /^mst-(\d+)-/;
const TMP = os.tmpdir();

const cleanups = new Map<number, () => void>();
let nextCleanup = 0;
let hooked = false;

function runAll(): void {
	for (const [id, fn] of [...cleanups].reverse()) {
		cleanups.delete(id);
		try {
			fn();
		} catch (error) {
			process.stderr.write(`cleanup: ${(error as Error).message}\n`);
		}
	}
}

/**
 * Runs fn (synchronous) when this process exits, also on SIGINT, SIGTERM or SIGHUP; returns a
 * function that runs it now (once) instead.
 */
export function atExit(fn: () => void): () => void {
	if (!hooked) {
		hooked = true;
		sweepStale();
		process.on('exit', runAll);
		for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
			process.on(signal, () => {
				runAll();
				process.exit(code);
			});
		}
	}
	const id = nextCleanup++;
	cleanups.set(id, fn);
	return () => {
		if (!cleanups.delete(id)) return;
		fn();
	};
}

/** A fresh temp dir /tmp/mst-<pid>-<label>-XXXXXX (0700), removed when this process exits. */
export function tempDir(label: string): string {
	return scratch(label).dir;
}

/** tempDir, with a function that removes it now. */
export function scratch(label: string): {dir: string; remove: () => void} {
	const dir = fs.mkdtempSync(path.join(TMP, `${PREFIX}-${label}-`));
	return {dir, remove: atExit(() => removeTree(dir))};
}

/** rm -rf that never crosses into a mounted file system. */
export function removeTree(dir: string): void {
	spawnSync('rm', ['-rf', '--one-file-system', dir]);
}

/** Every pid whose root directory or network namespace is the given one (a test's daemons). */
function pidsIn(test: (pid: string) => boolean): number[] {
	const pids: number[] = [];
	for (const name of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
		try {
			if (test(name)) pids.push(Number(name));
		} catch {
			// Gone meanwhile, or a kernel thread.
		}
	}
	return pids;
}

/** Kills every process in the network namespace NAME and deletes it. */
export function deleteNetns(name: string): void {
	const file = `/run/netns/${name}`;
	if (!fs.existsSync(file)) return;
	const inode = fs.statSync(file).ino;
	for (const pid of pidsIn(pid => fs.statSync(`/proc/${pid}/ns/net`).ino === inode)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}
	spawnSync('ip', ['netns', 'delete', name]);
}

// --- cgroups ----------------------------------------------------------------------------------

/**
 * This process's own cgroup in each hierarchy a booted container's systemd tracks its units in:
 * the cgroup2 tree, and v1's name=systemd where the machine mounts one (hybrid layout).
 */
function ownCgroups(): string[] {
	const own = new Map<string, string>(); // lines "0::/path" (cgroup2) and "N:name=systemd:/path"
	for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
		const match = /^\d+:(|name=systemd):(\/.*)$/.exec(line);
		if (match) own.set(match[1] || 'cgroup2', match[2]!);
	}
	const dirs = new Map<string, string>();
	// mountinfo lines: id parent dev root mountpoint options [optional...] - fstype source superoptions
	for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const [left = '', right = ''] = line.split(' - ');
		const [, , , root, mountpoint = ''] = left.split(' ');
		const [fstype, , options = ''] = right.split(' ');
		const kind = fstype === 'cgroup2' ? 'cgroup2' : fstype === 'cgroup' && options.split(',').includes('name=systemd') ? 'name=systemd' : '';
		const at = own.get(kind);
		if (at !== undefined && root === '/' && !dirs.has(kind)) dirs.set(kind, path.join(mountpoint, at));
	}
	return [...dirs.values()];
}

/**
 * A new cgroup NAME below this process's own, in every hierarchy of ownCgroups(): the paths of its
 * cgroup.procs files (a pid written there moves that process in), and a function that kills what
 * is in it and removes it now (else done when this process exits).
 */
export function makeCgroups(name: string): {procs: string[]; remove: () => void} {
	const dirs = ownCgroups().map(dir => path.join(dir, name));
	for (const dir of dirs) fs.mkdirSync(dir);
	return {procs: dirs.map(dir => path.join(dir, 'cgroup.procs')), remove: atExit(() => dirs.forEach(removeCgroup))};
}

/** Kills every process in the cgroup DIR and below, then removes them all. */
function removeCgroup(dir: string): void {
	if (!fs.existsSync(dir)) return;
	const subdirs = (d: string): string[] => fs.readdirSync(d, {withFileTypes: true}).filter(e => e.isDirectory()).flatMap(e => [...subdirs(path.join(d, e.name)), path.join(d, e.name)]);
	const all = [...subdirs(dir), dir];
	for (const d of all) {
		for (const pid of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
			try {
				process.kill(Number(pid), 'SIGKILL');
			} catch {}
		}
	}
	// A killed process leaves its cgroup only once the kernel has reaped it: rmdir says EBUSY until then.
	for (const d of all) {
		for (const end = Date.now() + 10_000; ; Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)) {
			try {
				fs.rmdirSync(d);
				break;
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				if (code === 'ENOENT') break;
				if (code !== 'EBUSY' || Date.now() > end) throw error;
			}
		}
	}
}

let swept = false;
/** Removes the namespaces, temp dirs and processes of test processes that are gone. */
export function sweepStale(): void {
	if (swept) return;
	swept = true;
	const dead = (name: string) => {
		const pid = STALE.exec(name)?.[1];
		return pid !== undefined && !running(Number(pid));
	};
	const netns = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns').filter(dead) : [];
	for (const name of netns) deleteNetns(name);
	for (const own of ownCgroups()) for (const name of fs.readdirSync(own).filter(dead)) removeCgroup(path.join(own, name));
	const dirs = fs.readdirSync(TMP).filter(dead).map(name => path.join(TMP, name));
	if (dirs.length === 0) return;
	// A daemon chrooted below a stale dir (a test's mariadbd) holds its mounts: end it first.
	const roots = pidsIn(pid => dirs.some(dir => fs.readlinkSync(`/proc/${pid}/root`).startsWith(dir + '/')));
	for (const pid of roots) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}
	for (const dir of dirs) removeTree(dir);
}
