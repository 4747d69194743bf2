import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {Host} from '../source/host/host.ts';
import {undoLastRun} from '../source/host/journal.ts';

function tree() {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'host-'));
	fs.mkdirSync(path.join(root, 'etc/app'), {recursive: true});
	fs.writeFileSync(path.join(root, 'etc/app/a.conf'), 'old a\n', {mode: 0o644});
	return root;
}
const read = (root: string, p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const modeOf = (root: string, p: string) => fs.statSync(path.join(root, p)).mode & 0o7777;

test('write is atomic, keeps a backup, and undo restores byte for byte', async () => {
	const root = tree();
	fs.chmodSync(path.join(root, 'etc/app/a.conf'), 0o604);
	const host = new Host({root, runId: 'r1'});
	await host.write('/etc/app/a.conf', 'new a\n', 0o640, 0, 0);
	await host.write('/etc/app/b.conf', 'new b\n', 0o600, 0, 0);
	assert.equal(read(root, 'etc/app/a.conf'), 'new a\n');
	assert.equal(modeOf(root, 'etc/app/a.conf'), 0o640);
	const backups = path.join(root, 'var/backups/mail-setup');
	assert.equal(fs.statSync(backups).mode & 0o777, 0o700);
	assert.equal(fs.statSync(path.join(backups, 'r1')).mode & 0o777, 0o700);
	const manifest = JSON.parse(fs.readFileSync(path.join(backups, 'r1/manifest.json'), 'utf8'));
	assert.deepEqual(manifest.map((e: {target: string; existed: boolean}) => [e.target, e.existed]), [['/etc/app/a.conf', true], ['/etc/app/b.conf', false]]);
	for (const name of fs.readdirSync(path.join(backups, 'r1'))) assert.equal(fs.statSync(path.join(backups, 'r1', name)).mode & 0o077, 0, name);
	assert.deepEqual(fs.readdirSync(path.join(root, 'etc/app')).sort(), ['a.conf', 'b.conf'], 'no temp files left');

	assert.deepEqual(await undoLastRun(backups), ['/etc/app/a.conf', '/etc/app/b.conf']);
	assert.equal(read(root, 'etc/app/a.conf'), 'old a\n');
	assert.equal(modeOf(root, 'etc/app/a.conf'), 0o604);
	assert.ok(!fs.existsSync(path.join(root, 'etc/app/b.conf')));
	assert.equal(await undoLastRun(backups), undefined, 'a second undo has nothing to do');
});

test('a secret file is never more open than its final mode, even as a temp file', async () => {
	const root = tree();
	const seen: number[] = [];
	const host = new Host({
		root,
		fault(op) {
			if (op !== 'fsync') return;
			const dir = path.join(root, 'etc/app');
			for (const name of fs.readdirSync(dir)) if (name.includes('mail-setup')) seen.push(fs.statSync(path.join(dir, name)).mode & 0o777);
		},
	});
	await host.write('/etc/app/secret.conf', 'password = x\n', 0o600, 0, 0);
	assert.deepEqual(seen, [0o600]);
	assert.equal(modeOf(root, 'etc/app/secret.conf'), 0o600);
});

test('a failed rename leaves the old file and no temp file', async () => {
	const root = tree();
	const host = new Host({
		root,
		fault(op) {
			if (op === 'rename') throw new Error('injected');
		},
	});
	await assert.rejects(host.write('/etc/app/a.conf', 'new\n', 0o644, 0, 0), /cannot write \/etc\/app\/a.conf: injected/);
	assert.equal(read(root, 'etc/app/a.conf'), 'old a\n');
	assert.deepEqual(fs.readdirSync(path.join(root, 'etc/app')), ['a.conf']);
	assert.equal(host.inFlight.size, 0);
});

test('restoreSince puts back only what came after the mark', async () => {
	const root = tree();
	const host = new Host({root});
	await host.write('/etc/app/a.conf', 'first\n', 0o644, 0, 0);
	const mark = host.journal.size;
	await host.write('/etc/app/c.conf', 'c\n', 0o644, 0, 0);
	await host.chmod('/etc/app', 0o750, 0, 0);
	assert.deepEqual((await host.journal.restoreSince(mark)).sort(), ['/etc/app', '/etc/app/c.conf']);
	assert.equal(read(root, 'etc/app/a.conf'), 'first\n');
	assert.ok(!fs.existsSync(path.join(root, 'etc/app/c.conf')));
	assert.equal(modeOf(root, 'etc/app'), 0o755);
});

test('dry run changes nothing but later reads see the planned content', async () => {
	const root = tree();
	const host = new Host({root, dryRun: true});
	await host.write('/etc/app/a.conf', 'planned\n', 0o600, 0, 0);
	await host.chmod('/etc/app', 0o700, 0, 0);
	assert.equal(await host.read('/etc/app/a.conf'), 'planned\n');
	assert.equal((await host.info('/etc/app'))?.mode, 0o700);
	assert.equal(read(root, 'etc/app/a.conf'), 'old a\n');
	assert.equal(modeOf(root, 'etc/app'), 0o755);
	assert.ok(!fs.existsSync(path.join(root, 'var')));
	assert.equal((await host.run(['touch', path.join(root, 'ran')])).exitCode, 0);
	assert.ok(!fs.existsSync(path.join(root, 'ran')), 'commands do not run in a dry run');
});

test('ids come from the target tree', async () => {
	const root = tree();
	fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nmail:x:8:8::/var/mail:/usr/sbin/nologin\n');
	fs.writeFileSync(path.join(root, 'etc/group'), 'dovecot:x:111:\n');
	const host = new Host({root});
	assert.equal(await host.id('user', 'mail'), 8);
	assert.equal(await host.id('group', 'dovecot'), 111);
	assert.equal(await host.id('user', 'nobody-here'), undefined);
});
