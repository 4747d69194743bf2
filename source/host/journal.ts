// Backups of one applying run: <base>/<run>/manifest.json plus a copy of every file before its
// first change. Restores a stage (on failed verification) or a whole run (`mail-setup undo`).
import {randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Entry {
	target: string; // path on the target system
	file: string; // path on this machine
	existed: boolean;
	isDirectory?: boolean;
	backup?: string; // file name inside the run directory
	moved?: string; // a directory moved whole into the run directory (a removed mailbox's mail), under this name
	mode?: number;
	uid?: number;
	gid?: number;
}

export class Journal {
	readonly dir: string;
	private entries: Entry[] = [];
	private readonly seen = new Set<string>();

	constructor(
		readonly base: string,
		readonly runId: string,
	) {
		this.dir = path.join(base, runId);
	}

	get size(): number {
		return this.entries.length;
	}

	/** Every path this run changed so far (restored ones are forgotten). */
	get targets(): string[] {
		return this.entries.map(entry => entry.target);
	}

	private async open(): Promise<void> {
		await fs.mkdir(this.dir, {recursive: true, mode: 0o700});
		await fs.chmod(this.base, 0o700);
	}

	/** Record the file as it is now, once per run: the first state is the one undo returns to. */
	async save(target: string, file: string): Promise<void> {
		if (this.seen.has(target)) return;
		await this.open();
		const entry: Entry = {target, file, existed: false};
		try {
			const s = await fs.lstat(file);
			Object.assign(entry, {existed: true, isDirectory: s.isDirectory(), mode: s.mode & 0o7777, uid: s.uid, gid: s.gid});
			if (s.isFile()) {
				entry.backup = `${this.entries.length}-${path.basename(file)}`;
				// Backups may hold the old DB password: 0600 inside a 0700 directory.
				await fs.copyFile(file, path.join(this.dir, entry.backup));
				await fs.chmod(path.join(this.dir, entry.backup), 0o600);
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		}
		this.entries.push(entry);
		this.seen.add(target);
		await writeManifest(this.dir, this.entries);
	}

	/** Move file (a directory too) into the run directory, so undo can move it back; returns where it went. */
	async move(target: string, file: string): Promise<string> {
		await this.open();
		const moved = `${this.entries.length}-${path.basename(file)}`;
		const to = path.join(this.dir, moved);
		await fs.rename(file, to);
		this.entries.push({target, file, existed: true, moved});
		this.seen.add(target);
		try {
			await writeManifest(this.dir, this.entries);
		} catch (error) {
			// Unrecorded, undo could never find it: put it back.
			this.entries.pop();
			this.seen.delete(target);
			await fs.rename(to, file);
			throw error;
		}
		return to;
	}

	/** Put back everything recorded after mark (newest first) and forget it. */
	async restoreSince(mark: number): Promise<string[]> {
		const undone = this.entries.slice(mark).reverse();
		for (const entry of undone) await restore(this.dir, entry);
		this.entries = this.entries.slice(0, mark);
		for (const entry of undone) this.seen.delete(entry.target);
		if (this.entries.length > 0) await writeManifest(this.dir, this.entries);
		else await fs.rm(this.dir, {recursive: true, force: true});
		return undone.map(entry => entry.target);
	}
}

/** The newest run that was not undone yet, or undefined. */
export async function lastRun(base: string): Promise<{dir: string; entries: Entry[]} | undefined> {
	let names: string[];
	try {
		names = await fs.readdir(base);
	} catch {
		return undefined;
	}
	for (const name of names.filter(n => !n.startsWith('.')).sort().reverse()) {
		const dir = path.join(base, name);
		try {
			await fs.access(path.join(dir, 'undone'));
			continue;
		} catch {}
		try {
			return {dir, entries: JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Entry[]};
		} catch {}
	}
	return undefined;
}

/** `mail-setup undo`: restore the newest run byte for byte and mark it undone. */
export async function undoLastRun(base: string): Promise<string[] | undefined> {
	const run = await lastRun(base);
	if (!run) return undefined;
	for (const entry of [...run.entries].reverse()) await restore(run.dir, entry);
	await fs.writeFile(path.join(run.dir, 'undone'), new Date().toISOString() + '\n', {mode: 0o600});
	return run.entries.map(entry => entry.target);
}

async function restore(dir: string, entry: Entry): Promise<void> {
	if (entry.moved) {
		const from = path.join(dir, entry.moved);
		// Never over a newer one (the mailbox added again and receiving mail): the operator merges them.
		if (await fs.lstat(entry.file).then(() => true, () => false)) throw new Error(`cannot put ${entry.target} back: it exists again; the old one is in ${from}`);
		await fs.mkdir(path.dirname(entry.file), {recursive: true});
		await fs.rename(from, entry.file);
		return;
	}
	if (!entry.existed) {
		await fs.rm(entry.file, {force: true, recursive: false}).catch(async error => {
			// A directory this run created: removed only if empty (a daemon's socket may live in it).
			if (['EISDIR', 'ERR_FS_EISDIR'].includes((error as NodeJS.ErrnoException).code!)) await fs.rmdir(entry.file).catch(() => {});
			else throw error;
		});
		return;
	}
	if (entry.backup) {
		// Same atomic pattern as Host.write: never a torn file, even while restoring.
		const temp = `${entry.file}.mail-setup-restore-${randomBytes(4).toString('hex')}`;
		await fs.copyFile(path.join(dir, entry.backup), temp);
		await applyMeta(temp, entry);
		await fs.rename(temp, entry.file);
	} else {
		await applyMeta(entry.file, entry);
	}
}

async function applyMeta(file: string, entry: Entry): Promise<void> {
	if (process.getuid?.() === 0 && entry.uid !== undefined) await fs.lchown(file, entry.uid, entry.gid!);
	if (entry.mode !== undefined) await fs.chmod(file, entry.mode);
}

async function writeManifest(dir: string, entries: Entry[]): Promise<void> {
	const temp = path.join(dir, `.manifest.${randomBytes(4).toString('hex')}`);
	await fs.writeFile(temp, JSON.stringify(entries, null, '\t') + '\n', {mode: 0o600});
	await fs.rename(temp, path.join(dir, 'manifest.json'));
}
