// Host.stash: a removed mailbox's mail directory moved whole into the run's backups; undo moves it back, never over a newer one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {type TestContext, test} from 'node:test';
import {Host} from '../source/host/host.ts';
import {undoLastRun} from '../source/host/journal.ts';

function tree(t: TestContext): string {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stash-'));
	t.after(() => fs.rmSync(root, {recursive: true, force: true}));
	fs.mkdirSync(path.join(root, 'var/mail/a.test/alice/cur'), {recursive: true});
	fs.writeFileSync(path.join(root, 'var/mail/a.test/alice/cur/1'), 'mail\n');
	fs.chmodSync(path.join(root, 'var/mail/a.test/alice'), 0o700);
	return root;
}

test('stash moves the directory into the run, journalled; undo puts it back with its mode', async t => {
	const root = tree(t);
	const dry = new Host({root, dryRun: true, runId: 'd'});
	assert.equal(await dry.stash('/var/mail/a.test/alice'), dry.journal.dir);
	assert.ok(fs.existsSync(path.join(root, 'var/mail/a.test/alice/cur/1')), 'a dry run moves nothing');
	assert.equal(await dry.stash('/var/mail/a.test/nobody'), undefined);

	const host = new Host({root, runId: 'r1'});
	const to = await host.stash('/var/mail/a.test/alice');
	assert.equal(to, path.join(root, 'var/backups/mail-setup/r1/0-alice'));
	assert.ok(!fs.existsSync(path.join(root, 'var/mail/a.test/alice')));
	assert.equal(fs.readFileSync(path.join(to!, 'cur/1'), 'utf8'), 'mail\n');
	const backups = path.join(root, 'var/backups/mail-setup');
	assert.deepEqual(await undoLastRun(backups), ['/var/mail/a.test/alice']);
	assert.equal(fs.readFileSync(path.join(root, 'var/mail/a.test/alice/cur/1'), 'utf8'), 'mail\n');
	assert.equal(fs.statSync(path.join(root, 'var/mail/a.test/alice')).mode & 0o777, 0o700);
});

test('undo never moves old mail over a directory made since; it says where the old one is', async t => {
	const root = tree(t);
	const host = new Host({root, runId: 'r1'});
	const to = await host.stash('/var/mail/a.test/alice');
	fs.mkdirSync(path.join(root, 'var/mail/a.test/alice/new'), {recursive: true});
	await assert.rejects(undoLastRun(path.join(root, 'var/backups/mail-setup')), new RegExp(`exists again; the old one is in ${to}`));
	assert.ok(fs.existsSync(path.join(to!, 'cur/1')));
});
