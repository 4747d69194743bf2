// Test trees: a copy to change, and what a test compares to say "untouched" (the content, mode and owner of every path below a directory).
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {execFileSync} from 'node:child_process';
import {tempDir} from './proc.ts';

/** One hash over every path below dir; `skip`: relative paths left out (mail-setup's own journal); `mtime`: count it too. */
export function fingerprint(dir: string, {skip = [], mtime = false}: {skip?: string[]; mtime?: boolean} = {}): string {
	const hash = createHash('sha256');
	const walk = (d: string) => {
		for (const name of fs.readdirSync(d).sort()) {
			const p = path.join(d, name);
			if (skip.includes(path.relative(dir, p))) continue;
			const s = fs.lstatSync(p);
			hash.update(`${path.relative(dir, p)} ${s.mode} ${s.uid}:${s.gid}${mtime ? ` ${s.mtimeMs}` : ''}\n`);
			if (s.isDirectory()) walk(p);
			else if (s.isFile()) hash.update(fs.readFileSync(p));
		}
	};
	walk(dir);
	return hash.digest('hex');
}

/** A copy of a test tree (owners, modes and times kept) in a fresh temp dir, removed when the test process exits. */
export function copyTree(tree: string, label = 'tree'): string {
	const dest = tempDir(label);
	execFileSync('cp', ['-a', `${tree}/.`, dest]);
	return dest;
}
