import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {apply, preview} from '../source/engine.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import type {Stage} from '../source/stages/stage.ts';

const answers = withDefaults({fqdn: 'mail.example.test', dbPassword: 'db-secret-1'});

function setup() {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
	fs.mkdirSync(path.join(root, 'etc'));
	fs.writeFileSync(path.join(root, 'etc/one.conf'), 'a = 1\n');
	return root;
}

const writer = (content: string, validate?: Stage['validate']): Stage => ({
	id: 'lda',
	title: 'test stage',
	async plan() {
		return {files: [{path: '/etc/one.conf', content}, {path: '/etc/two.conf', content: 'password = db-secret-1\n', secret: true, mode: 0o640}], commands: [], notes: []};
	},
	validate,
});

test('preview lists only real changes, masked', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root})};
	const p = await preview(writer('a = 1\n'), ctx);
	assert.deepEqual(p.files.map(f => [f.report.path, f.report.action]), [['/etc/two.conf', 'create']]);
	assert.ok(!p.files[0]!.report.diff.includes('db-secret-1'));
	assert.match(p.files[0]!.report.diff, /\+password = \*\*\*/);
});

test('apply writes, then a rerun has nothing to change', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root})};
	const result = await apply(await preview(writer('a = 2\n'), ctx), ctx);
	assert.equal(result.status, 'pass');
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 2\n');
	assert.equal(fs.statSync(path.join(root, 'etc/two.conf')).mode & 0o777, 0o640);
	const again = await apply(await preview(writer('a = 2\n'), ctx), ctx);
	assert.deepEqual(again.changes, []);
	assert.match(again.message, /already done/);
});

test('a validator that rejects the result restores the stage backups', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root})};
	let calls = 0;
	const stage = writer('a = broken\n', async () => [{command: 'fake-check', ok: calls++ === 0, problems: calls > 1 ? ['line 1: broken value'] : []}]);
	const result = await apply(await preview(stage, ctx), ctx);
	assert.equal(result.status, 'fail');
	assert.match(result.message, /rejected by the validator:\nline 1: broken value/);
	assert.match(result.message, /restored from backup/);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
	assert.ok(!fs.existsSync(path.join(root, 'etc/two.conf')));
});

test('complaints already there before the stage do not fail it', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root})};
	const stage = writer('a = 3\n', async () => [{command: 'fake-check', ok: false, problems: ['ssl_cert: Can\'t open file']}]);
	const result = await apply(await preview(stage, ctx), ctx);
	assert.equal(result.status, 'pass', result.message);
});

test('runStages stops at the first failure and skips the rest', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root})};
	const failing: Stage = {id: 'database', title: 'x', plan: async () => ({files: [], commands: [], notes: []}), run: async () => ({ok: false, message: 'boom', commands: []})};
	const report = await runStages([failing, writer('a = 4\n')], ctx);
	assert.equal(report.ok, false);
	assert.deepEqual(report.stages.map(s => s.status), ['fail', 'skipped']);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
});
