// The only module that touches the machine: files under a root, and processes.
// Three modes share one code path: real (root '/'), --root DIR (files only), dry run (nothing changes).
import {randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {Journal} from './journal.js';

export interface FileInfo {
	mode: number; // permission bits only
	uid: number;
	gid: number;
	isDirectory: boolean;
	/** Last modification (ms since the epoch); absent for a change a dry run only plans. */
	mtimeMs?: number;
}

export interface RunResult {
	exitCode: number;
	stdout: string;
	stderr: string;
}

export interface RunOptions {
	input?: string;
	timeoutMs?: number;
	/** Detach stdio entirely (daemons that keep inherited pipes open forever, like dovecot). */
	detached?: boolean;
}

/** A real failure, naming its file. */
export class HostError extends Error {}
export class InterruptedError extends Error {}

export interface HostOptions {
	root?: string; // default '/'
	dryRun?: boolean;
	runId?: string;
	/** Test hook: called before every effect ('write' | 'fsync' | 'rename' | 'chmod' | 'mkdir' | 'command'); throw to inject a fault. */
	fault?: (op: string, detail: string) => void;
}

interface Pending {
	content?: string;
	mode: number;
	uid: number;
	gid: number;
	isDirectory: boolean;
}

export class Host {
	readonly root: string;
	readonly dryRun: boolean;
	/** Services are touched only on the real root and outside a dry run. */
	readonly services: boolean;
	readonly journal: Journal;
	private readonly fault?: HostOptions['fault'];
	/** Dry run: what a real run would have written, so later stages plan on top of earlier ones. */
	private readonly overlay = new Map<string, Pending>();
	/** Temp files not yet renamed: removed on interrupt. */
	readonly inFlight = new Set<string>();
	private stopped = false;
	private ids?: {user: Map<string, number>; group: Map<string, number>};

	constructor(options: HostOptions = {}) {
		this.root = path.resolve(options.root ?? '/');
		this.dryRun = options.dryRun ?? false;
		this.services = this.root === '/' && !this.dryRun;
		this.fault = options.fault;
		const runId = options.runId ?? new Date().toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
		this.journal = new Journal(this.real('/var/backups/mail-setup'), runId);
	}

	/** After SIGINT/SIGTERM: the next effect throws, so the stage stops and restores its backups. */
	interrupt(): void {
		this.stopped = true;
	}

	get interrupted(): boolean {
		return this.stopped;
	}

	private guard(op: string, detail: string): void {
		if (this.stopped) throw new InterruptedError('interrupted');
		this.fault?.(op, detail);
	}

	/** Target path → path on this machine. */
	real(target: string): string {
		return this.root === '/' ? target : path.join(this.root, target);
	}

	async read(target: string): Promise<string | undefined> {
		const pending = this.overlay.get(target);
		if (pending?.content !== undefined) return pending.content;
		try {
			return await fs.readFile(this.real(target), 'utf8');
		} catch (error) {
			if (isCode(error, 'ENOENT')) return undefined;
			throw new HostError(`cannot read ${target}: ${(error as Error).message}`);
		}
	}

	async info(target: string): Promise<FileInfo | undefined> {
		const pending = this.overlay.get(target);
		if (pending) return {mode: pending.mode, uid: pending.uid, gid: pending.gid, isDirectory: pending.isDirectory};
		try {
			const s = await fs.lstat(this.real(target));
			return {mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isDirectory: s.isDirectory(), mtimeMs: s.mtimeMs};
		} catch (error) {
			if (isCode(error, 'ENOENT')) return undefined;
			throw error;
		}
	}

	/** The paths this run changed (in a dry run: would have changed), as on the target. */
	changedPaths(): string[] {
		return this.dryRun ? [...this.overlay.keys()] : this.journal.targets;
	}

	/** Every path below dir (dir included), depth first, targets not followed through symlinks. */
	async walk(dir: string): Promise<string[]> {
		const out = [dir];
		let entries;
		try {
			entries = await fs.readdir(this.real(dir), {withFileTypes: true});
		} catch (error) {
			if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return (await this.info(dir)) ? out : [];
			throw error;
		}
		for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
			const child = path.posix.join(dir, entry.name);
			if (entry.isDirectory()) out.push(...(await this.walk(child)));
			else if (!entry.isSymbolicLink()) out.push(child);
		}
		for (const pending of this.overlay.keys()) {
			if (path.posix.dirname(pending) === dir && !out.includes(pending)) out.push(pending);
		}
		return out;
	}

	/** User and group ids from the target's own /etc/passwd and /etc/group. */
	async id(kind: 'user' | 'group', name: string): Promise<number | undefined> {
		return (await this.idTables())[kind].get(name);
	}

	/** The name of a user or group id on the target, or the number itself when it has none. */
	async nameOf(kind: 'user' | 'group', id: number): Promise<string> {
		for (const [name, value] of (await this.idTables())[kind]) if (value === id) return name;
		return String(id);
	}

	private async idTables(): Promise<{user: Map<string, number>; group: Map<string, number>}> {
		if (!this.ids) {
			const table = async (file: string) => {
				const map = new Map<string, number>();
				for (const line of ((await this.read(file)) ?? '').split('\n')) {
					const [n, , id] = line.split(':');
					if (n && id !== undefined && /^\d+$/.test(id)) map.set(n, Number(id));
				}
				return map;
			};
			this.ids = {user: await table('/etc/passwd'), group: await table('/etc/group')};
		}
		return this.ids;
	}

	/**
	 * Atomically give target this content, mode and owner: temp file created with its final mode
	 * (never more open than wanted), fsync, rename over, fsync the directory. The old file is
	 * journalled first so the run can be undone.
	 */
	async write(target: string, content: string, mode: number, uid: number, gid: number): Promise<void> {
		if (this.dryRun) {
			this.overlay.set(target, {content, mode, uid, gid, isDirectory: false});
			return;
		}
		const file = this.real(target);
		const dir = path.dirname(file);
		// Parents first: undo goes newest first, so the file is gone before its new directory is removed.
		await this.parents(target);
		await this.journal.save(target, file);
		const temp = path.join(dir, `.${path.basename(file)}.mail-setup-${randomBytes(4).toString('hex')}`);
		this.inFlight.add(temp);
		try {
			this.guard('write', target);
			const handle = await fs.open(temp, 'wx', mode & 0o777);
			try {
				await handle.chmod(mode);
				if (process.getuid?.() === 0) await handle.chown(uid, gid);
				await handle.writeFile(content);
				this.guard('fsync', target);
				await handle.sync();
			} finally {
				await handle.close();
			}
			this.guard('rename', target);
			await fs.rename(temp, file);
			this.inFlight.delete(temp);
			await syncDir(dir);
		} catch (error) {
			await fs.rm(temp, {force: true});
			this.inFlight.delete(temp);
			throw new HostError(`cannot write ${target}: ${(error as Error).message}`);
		}
	}

	/** Create a directory (and its parents) with this mode and owner; journalled, so undo removes it again if empty. */
	async mkdir(target: string, mode: number, uid: number, gid: number): Promise<void> {
		if (this.dryRun) {
			this.overlay.set(target, {mode, uid, gid, isDirectory: true});
			return;
		}
		const dir = this.real(target);
		try {
			this.guard('mkdir', target);
			await this.parents(target);
			await this.journal.save(target, dir);
			await fs.mkdir(dir, {mode: 0o700});
			if (process.getuid?.() === 0) await fs.lchown(dir, uid, gid);
			// After chown, which clears a setgid bit.
			await fs.chmod(dir, mode);
		} catch (error) {
			throw new HostError(`cannot create ${target}: ${(error as Error).message}`);
		}
	}

	/** Create the missing directories above target, each journalled, so undo removes them again. */
	private async parents(target: string): Promise<void> {
		const missing: string[] = [];
		for (let dir = path.posix.dirname(target); !(await fs.lstat(this.real(dir)).catch(() => undefined)); dir = path.posix.dirname(dir)) missing.unshift(dir);
		for (const dir of missing) {
			await this.journal.save(dir, this.real(dir));
			await fs.mkdir(this.real(dir));
		}
	}

	/** Change only owner and mode (the permissions stage). */
	async chmod(target: string, mode: number, uid: number, gid: number): Promise<void> {
		const now = await this.info(target);
		if (!now) throw new HostError(`cannot change ${target}: it does not exist`);
		if (this.dryRun) {
			this.overlay.set(target, {...this.overlay.get(target), mode, uid, gid, isDirectory: now.isDirectory});
			return;
		}
		const file = this.real(target);
		await this.journal.save(target, file);
		try {
			this.guard('chmod', target);
			if (process.getuid?.() === 0) await fs.lchown(file, uid, gid);
			await fs.chmod(file, mode);
		} catch (error) {
			throw new HostError(`cannot change owner or mode of ${target}: ${(error as Error).message}`);
		}
	}

	/**
	 * Move target (a removed mailbox's mail directory) into this run's backups, where `undo` moves it back.
	 * Returns where it went (a dry run: where it would go), or undefined when there is nothing there.
	 */
	async stash(target: string): Promise<string | undefined> {
		if (!(await this.info(target))) return undefined;
		if (this.dryRun) return this.journal.dir;
		try {
			this.guard('rename', target);
			return await this.journal.move(target, this.real(target));
		} catch (error) {
			const why = isCode(error, 'EXDEV') ? `it is on another file system than ${this.journal.dir}` : (error as Error).message;
			throw new HostError(`cannot move ${target} into the backups: ${why}`);
		}
	}

	/** Run a command that changes nothing (version probes, validators): runs in every mode. */
	async probe(argv: string[], options: RunOptions = {}): Promise<RunResult> {
		try {
			const result = await execa(argv[0]!, argv.slice(1), {
				input: options.input,
				reject: false,
				timeout: options.timeoutMs ?? 30_000,
				stdin: options.input === undefined ? 'ignore' : 'pipe',
				env: {LC_ALL: 'C'},
			});
			// 124, as timeout(1) says it: the program is there, only slow (a busy machine); 127 is "not found".
			if (result.timedOut) return {exitCode: 124, stdout: String(result.stdout ?? ''), stderr: `${argv[0]} gave no answer within ${options.timeoutMs ?? 30_000} ms`};
			const failed = result.failed && result.exitCode === undefined;
			return {
				exitCode: failed ? 127 : (result.exitCode ?? 1),
				stdout: String(result.stdout ?? ''),
				stderr: failed ? (result.shortMessage ?? 'failed to start') : String(result.stderr ?? ''),
			};
		} catch (error) {
			return {exitCode: 127, stdout: '', stderr: (error as Error).message};
		}
	}

	/** Run a command that changes the system: never in a dry run or under --root. */
	async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
		if (!this.services) return {exitCode: 0, stdout: '', stderr: ''};
		this.guard('command', argv.join(' '));
		if (options.detached) {
			// Daemons keep inherited descriptors open forever: give them none of ours.
			const child = await execa(argv[0]!, argv.slice(1), {
				stdio: 'ignore',
				reject: false,
				timeout: options.timeoutMs ?? 60_000,
				env: {LC_ALL: 'C'},
			});
			return {exitCode: child.exitCode ?? 1, stdout: '', stderr: child.failed ? (child.shortMessage ?? '') : ''};
		}
		return this.probe(argv, options);
	}
}

export function isCode(error: unknown, code: string): boolean {
	return (error as NodeJS.ErrnoException)?.code === code;
}

async function syncDir(dir: string): Promise<void> {
	const handle = await fs.open(dir, 'r');
	try {
		await handle.sync();
	} finally {
		await handle.close();
	}
}
