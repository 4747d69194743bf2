// One applying run at a time: a lock file holding the holder's pid; a dead holder's lock is taken over.
import fs from 'node:fs/promises';
import path from 'node:path';

export class LockError extends Error {}

export async function acquire(file: string): Promise<() => Promise<void>> {
	await fs.mkdir(path.dirname(file), {recursive: true, mode: 0o700});
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			await fs.writeFile(file, `${process.pid}\n`, {flag: 'wx', mode: 0o600});
			return () => fs.rm(file, {force: true});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const holder = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
		if (holder && holder !== process.pid && running(holder)) {
			throw new LockError(`another mail-setup (pid ${holder}) is applying changes; wait for it, or remove ${file} if it is gone`);
		}
		await fs.rm(file, {force: true}); // stale: its process is gone
	}
	throw new LockError(`cannot take the lock ${file}`);
}

/** Alive, or alive but someone else's (EPERM). */
export function running(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
