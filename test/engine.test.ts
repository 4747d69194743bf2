import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {apply, preview, wouldHappen} from '../source/engine.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import {postfixFile} from '../source/stages/service.ts';
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

test('a dry run says what would happen and never pass; a done stage says nothing would change', async () => {
	const root = setup();
	const ctx = {answers, host: new Host({root, dryRun: true})};
	const changing: Stage = {...writer('a = 2\n'), plan: async () => ({files: [{path: '/etc/one.conf', content: 'a = 2\n'}], commands: [{argv: ['true']}], notes: []})};
	const done: Stage = {id: 'lda', title: 'done', plan: async () => ({files: [{path: '/etc/one.conf', content: 'a = 1\n'}], commands: [], notes: []})};
	const live: Stage = {id: 'check', title: 'live', live: true, plan: async () => ({files: [], commands: [], notes: [], would: 'would connect to mail.example.test and check it'}), run: async () => assert.fail('a dry run runs nothing')};
	const broken: Stage = {id: 'postfix', title: 'broken', plan: async () => assert.fail('cannot parse main.cf line 3')};
	const report = await runStages([done, changing, live, broken], ctx);
	assert.deepEqual(report.stages.map(s => s.status), ['planned', 'planned', 'planned', 'fail']);
	assert.equal(report.stages[0]!.message, 'already done: nothing would change');
	assert.equal(report.stages[1]!.message, 'would change 1 file (/etc/one.conf), would run 1 command');
	assert.equal(report.stages[2]!.message, 'would connect to mail.example.test and check it');
	assert.match(report.stages[3]!.message, /cannot parse main.cf line 3/);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
});

test('wouldHappen lists up to five paths, then counts the rest', () => {
	const files = Array.from({length: 7}, (_, i) => ({change: {path: `/etc/f${i}`}}));
	const text = wouldHappen({plan: {files: [], commands: [], notes: []}, files} as never);
	assert.equal(text, 'would change 7 files (/etc/f0, /etc/f1, /etc/f2, /etc/f3 and 3 more)');
});

test('a missing service: a dry run previews every line as a new file, applying fails with the install command', async () => {
	const root = setup();
	const stage: Stage = {
		id: 'submission',
		title: 'needs postfix',
		service: postfixFile('/etc/postfix/master.cf'),
		plan: async () => ({files: [{path: '/etc/postfix/master.cf', content: 'submission inet n - - - - smtpd\n'}], commands: [], notes: []}),
	};
	const dryCtx = {answers, host: new Host({root, dryRun: true})};
	const dry = await apply(await preview(stage, dryCtx), dryCtx);
	assert.equal(dry.status, 'planned');
	assert.equal(dry.changes[0]!.diff, '--- /dev/null\n+++ b/etc/postfix/master.cf\n@@ -0,0 +1,1 @@\n+submission inet n - - - - smtpd\n');
	assert.match(dry.message, /^would change 1 file \(\/etc\/postfix\/master\.cf\)\nPostfix is not installed here \(\/etc\/postfix\/master\.cf does not exist\)/);
	const report = await runStages([stage], {answers, host: new Host({root})});
	assert.equal(report.stages[0]!.status, 'fail');
	assert.match(report.stages[0]!.message, /^Postfix is not installed here \(\/etc\/postfix\/master\.cf does not exist\): apt-get install postfix postfix-mysql/);
	assert.ok(!fs.existsSync(path.join(root, 'etc/postfix')), 'nothing written');
});

test('messages from outside are scrubbed of a long secret, never of a short one', async () => {
	const root = setup();
	const failing = (password: string): Stage => ({
		id: 'lda',
		title: 'x',
		plan: async () => ({files: [], commands: [], notes: []}),
		run: async () => ({ok: false, message: `mysql: access denied for mailuser (password ${password}) password=${password}`, commands: []}),
	});
	const long = await runStages([failing('db-secret-1')], {answers, host: new Host({root})});
	assert.equal(long.stages[0]!.message, 'mysql: access denied for mailuser (password ***) password=***');
	const short = await runStages([failing('mail')], {answers: {...answers, dbPassword: 'mail'}, host: new Host({root})});
	assert.equal(short.stages[0]!.message, 'mysql: access denied for mailuser (password mail) password=***');
});

test('an owner or mode change is shown as what changes, owners by name on both sides', async () => {
	const root = setup();
	fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nmail:x:8:8::/var/mail:/usr/sbin/nologin\n');
	fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nmail:x:8:\ndovecot:x:107:\n');
	fs.chmodSync(path.join(root, 'etc/one.conf'), 0o640);
	const owned = (change: {mode?: number; owner?: string; group?: string}): Stage => ({
		id: 'permissions',
		title: 'test stage',
		async plan() {
			return {files: [{path: '/etc/one.conf', ...change}], commands: [], notes: []};
		},
	});
	const ctx = {answers, host: new Host({root, dryRun: true})};
	// As root the file is root:root; elsewhere it is the test user's, whose ids /etc/passwd may not name.
	const was = process.getuid?.() === 0 ? 'root:root' : `${process.getuid?.()}:${process.getgid?.()}`;
	const owner = (await preview(owned({mode: 0o640, owner: 'mail', group: 'dovecot'}), ctx)).files[0]!.report.diff;
	assert.equal(owner.trim(), `# /etc/one.conf: owner ${was} → mail:dovecot`);
	const mode = (await preview(owned({mode: 0o600}), ctx)).files[0]!.report.diff;
	assert.equal(mode.trim(), '# /etc/one.conf: mode 0640 → 0600');
});
