// The whole wizard on fake stages and a real Host over a temp tree: keys in (whole reads, as a terminal sends
// them), frames and exit code out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {withDefaults} from '../source/answers.ts';
import {App, type AppProps, createStore, wizard} from '../source/app.tsx';
import {Host} from '../source/host/host.ts';
import type {Stage} from '../source/stages/stage.ts';
import {keys, tick, until} from './ui-keys.ts';

function tree() {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ui-app-'));
	fs.mkdirSync(path.join(root, 'etc'));
	fs.writeFileSync(path.join(root, 'etc/one.conf'), 'a = 1\n');
	fs.writeFileSync(path.join(root, 'etc/done.conf'), 'ok\n');
	return root;
}

const writes = (id: Stage['id'], file: string, content: string, extra: Partial<Stage> = {}): Stage => ({
	id,
	title: `writes ${file}`,
	async plan(ctx) {
		// A file with the password in it says so, as the real stages do: only its diff is masked.
		return {files: [{path: file, content: content.replace('PW', ctx.answers.dbPassword), secret: content.includes('PW')}], commands: [], notes: []};
	},
	...extra,
});

/** Asks first, as the database stage does on a fresh server: yes plans it again with dbCreate. */
const offering: Stage = {
	id: 'database',
	title: 'asks first',
	async plan(ctx) {
		if (ctx.answers.dbCreate) return {files: [], commands: [{argv: ['SQL> CREATE DATABASE `x`;']}], notes: ['creating']};
		return {
			files: [],
			commands: [{argv: ['SQL> CREATE DATABASE `x`;']}],
			notes: ['missing: database x'],
			offer: {question: 'Create what is missing, as MariaDB root over the Unix socket?', yes: {dbCreate: true}, default: true},
		};
	},
	async run(ctx) {
		if (!ctx.answers.dbCreate) return {ok: false, message: 'database x does not exist: create it with --db-create', commands: []};
		return {ok: true, message: 'database x: created 1 missing item(s)', commands: ['SQL> CREATE DATABASE `x`;']};
	},
};

function start(stages: Stage[], options: {dryRun?: boolean; dbPassword?: string; ask?: boolean} = {}) {
	const root = tree();
	const host = new Host({root, dryRun: options.dryRun ?? true});
	const props: AppProps = {host, answers: withDefaults({fqdn: 'mail.example.test', dbPassword: options.dbPassword}), stages, version: '9.9.9', ask: 'ask' in options ? options.ask : true};
	const store = createStore(props.answers);
	const view = render(<App store={store} {...props} />);
	const code = wizard(props, store);
	// Every read written to stdin: what a person pressed.
	const reads: string[] = [];
	const send = (data: string) => {
		reads.push(data);
		view.stdin.write(data);
	};
	const screen = (test: (text: string) => boolean) => until(view.lastFrame, test);
	return {...view, root, host, code, store, send, reads, screen};
}

const file = (root: string, name: string) => fs.readFileSync(path.join(root, name), 'utf8');
const stages = [writes('lda', '/etc/done.conf', 'ok\n'), writes('postfix', '/etc/one.conf', 'a = 2\npassword = PW\n')];

test('Enter through a dry run: start, questions, a done stage passed through, a diff, PLANNED, the summary; exit 0', async () => {
	const {send, stdout, screen, unmount, root, code} = start(stages);
	let frame = await screen(text => text.includes('Stages, in order') && text.includes('already done') && text.includes('to do'));
	assert.match(frame, /dry run/);
	send(keys.enter);
	await screen(text => text.includes('▸ FQDN:'));
	send('\r\r\r\r\r\rhunter22\r\r\r');
	frame = await screen(text => text.includes('Stage 2 of 2: postfix') && text.includes('s skip'));
	assert.match(frame, /○ lda {2}▸ postfix/, 'the done stage was passed through with a mark');
	assert.match(frame, /\+password = \*\*\*/);
	send(keys.enter);
	frame = await screen(text => text.includes('PLANNED'));
	assert.match(frame, /○ PLANNED \(dry run\) · /);
	assert.match(frame, /Would change:\n {2}modify \/etc\/one\.conf/);
	assert.match(frame, /Enter summary · q quit/, 'the last stage leads to the summary');
	send(keys.enter);
	frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /^Dry run: 1 stage would change something, 1 would not; nothing was changed$/m);
	assert.match(frame, /○ lda +already done/);
	assert.equal(await code, 0);
	assert.equal(file(root, 'etc/one.conf'), 'a = 1\n');
	assert.ok(stdout.frames.every(text => !text.includes('hunter22') && !/\bPASS\b|\bpassed\b/.test(text)), 'no password, and no PASS in a dry run');
	unmount();
});

test('live, step by step: Enter applies one stage and shows its verdict; the summary says where the backups are', async () => {
	const {send, screen, unmount, root, code} = start(stages, {dryRun: false, dbPassword: 'hunter22'});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('▸ FQDN:'));
	send('\r\r\r\r\r\r\r\r\r');
	await screen(text => text.includes('Stage 2 of 2') && text.includes('Enter apply · a apply this and every following stage'));
	send(keys.enter);
	await screen(text => text.includes('✔ PASS'));
	send(keys.enter);
	const frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /Done: 2 passed, 0 failed, 0 skipped/);
	assert.match(frame, /Backups of every changed file:\s.*ui-app-/s);
	assert.match(frame, /mail-setup undo/);
	assert.equal(await code, 0);
	assert.equal(file(root, 'etc/one.conf'), 'a = 2\npassword = hunter22\n');
	unmount();
});

test('a on the start screen: after the questions every stage applies without a key; 10 presses in all', async () => {
	const three = [writes('lda', '/etc/done.conf', 'ok\n'), writes('dovecot-ssl', '/etc/two.conf', 'b\n'), writes('postfix', '/etc/one.conf', 'a = 2\n')];
	const {send, screen, reads, unmount, root, code} = start(three, {dryRun: false});
	await screen(text => text.includes('a start and apply all stages'));
	send('a');
	await screen(text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 6; i++) send(keys.enter);
	await screen(text => text.includes('▸ database password:'));
	send('db-pw\r');
	send(keys.enter);
	await screen(text => text.includes('▸ test mailbox password:'));
	send('test-pw\r');
	const frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /Done: 3 passed, 0 failed, 0 skipped/);
	assert.equal(await code, 0);
	assert.equal(file(root, 'etc/one.conf'), 'a = 2\n');
	assert.equal(file(root, 'etc/two.conf'), 'b\n');
	assert.equal(reads.length, 10, 'a, then Enter on each of the 9 questions (two after a typed value), and nothing else');
	unmount();
});

test('a on a stage screen applies it and every following one; the running screen lists each verdict', async () => {
	let release!: () => void;
	const gate = new Promise<void>(resolve => (release = resolve));
	const slow = writes('postfix', '/etc/one.conf', 'a = 2\n', {
		async validate() {
			await gate;
			return [{command: 'fake-check', ok: true, problems: []}];
		},
	});
	const {send, screen, unmount, root, code} = start([writes('dovecot-ssl', '/etc/two.conf', 'b\n'), writes('lda', '/etc/three.conf', 'c\n'), slow], {dryRun: false, ask: false});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('Stage 1 of 3: dovecot-ssl') && text.includes('s skip'));
	send(keys.enter);
	await screen(text => text.includes('Stage 1 of 3') && text.includes('✔ PASS'));
	send(keys.enter);
	await screen(text => text.includes('Stage 2 of 3: lda') && text.includes('s skip'));
	send('a');
	const running = await screen(text => text.includes('Stage 3 of 3: postfix') && text.includes('Applying'));
	assert.match(running, /✔ dovecot-ssl: 1 file\(s\) changed: \/etc\/two\.conf\n✔ lda: 1 file\(s\) changed: \/etc\/three\.conf/);
	release();
	const frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /Done: 3 passed/);
	assert.equal(await code, 0);
	assert.equal(file(root, 'etc/one.conf'), 'a = 2\n');
	unmount();
});

test('applying all stops at a failure: its screen says why and waits; the rest is not run; exit 1', async () => {
	const broken = writes('dovecot-ssl', '/etc/two.conf', 'b\n', {
		async validate() {
			return [{command: 'fake-check', ok: false, problems: ['line 1: a complaint the check did not have before']}];
		},
	});
	let calls = 0;
	const flaky: Stage = {...broken, validate: async () => (calls++ === 0 ? [{command: 'fake-check', ok: true, problems: []}] : broken.validate!({} as never))};
	const {send, screen, unmount, root, code} = start([flaky, stages[1]!], {dryRun: false, dbPassword: 'x', ask: false});
	await screen(text => text.includes('Stages, in order'));
	send('a');
	let frame = await screen(text => text.includes('✘ FAIL'));
	assert.match(frame, /✘ FAIL\nrejected by the validator:\nline 1: a complaint the check did not have before\nfake-check failed\nrestored from backup: \/etc\/two\.conf/);
	assert.match(frame, /What to do: fix the cause above, then run: mail-setup dovecot-ssl/);
	assert.equal(await Promise.race([code.then(() => 'ended'), tick(100).then(() => 'waiting')]), 'waiting', 'it waits for a key');
	send(keys.enter);
	frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /– postfix +not run: an earlier stage failed/);
	assert.equal(await code, 1);
	assert.equal(fs.existsSync(path.join(root, 'etc/two.conf')), false, 'the failed stage put back what it wrote');
	unmount();
});

test("a stage's question stops a run of a: Enter says yes, the stage is planned again with the offer's answers, the run goes on", async () => {
	const {send, screen, store, unmount, root, code} = start([offering, stages[1]!], {dryRun: false, dbPassword: 'db-pw', ask: false});
	await screen(text => text.includes('Stages, in order'));
	send('a');
	const frame = await screen(text => text.includes('? Create what is missing'));
	assert.match(frame, /· missing: database x/);
	assert.match(frame, /^SQL> CREATE DATABASE `x`;$/m);
	assert.match(frame, /\? Create what is missing, as MariaDB root over the Unix socket\?\nEnter yes · y yes · n no · q quit/);
	send(keys.enter);
	const summary = await screen(text => text.includes('Still to do by you'));
	assert.match(summary, /✔ database +database x: created 1 missing item\(s\)/);
	assert.match(summary, /✔ postfix/);
	assert.equal(store.state.answers.dbCreate, true, 'yes holds for the rest of the run, as --db-create would');
	assert.equal(await code, 0);
	assert.equal(file(root, 'etc/one.conf'), 'a = 2\npassword = db-pw\n');
	unmount();
});

test("no to a stage's question applies it as it is: it fails with its hint", async () => {
	const {send, screen, unmount, code} = start([offering], {dryRun: false, dbPassword: 'db-pw', ask: false});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('? Create what is missing'));
	send('n');
	const frame = await screen(text => text.includes('✘ FAIL'));
	assert.match(frame, /database x does not exist: create it with --db-create/);
	send(keys.enter);
	assert.equal(await code, 1);
	unmount();
});

test('two Enters in one read on a result screen answer it once: the next stage still asks', async () => {
	const {send, screen, lastFrame, unmount, root, code} = start([writes('dovecot-ssl', '/etc/two.conf', 'b\n'), stages[1]!], {dryRun: false, dbPassword: 'x', ask: false});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('Stage 1 of 2') && text.includes('s skip'));
	send(keys.enter);
	await screen(text => text.includes('✔ PASS'));
	send('\r\r');
	await screen(text => text.includes('Stage 2 of 2: postfix') && text.includes('s skip'));
	await tick(100);
	assert.match(lastFrame()!, /Stage 2 of 2: postfix[^]*s skip/, 'the confirm screen of the next stage, not applied unseen');
	assert.equal(file(root, 'etc/one.conf'), 'a = 1\n');
	send('q');
	assert.equal(await code, 130);
	unmount();
});

test('q at a confirm screen stops: summary, exit 130, nothing written', async () => {
	const {send, screen, unmount, root, code} = start(stages, {dryRun: false, dbPassword: 'x'});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('▸ FQDN:'));
	send('\r\r\r\r\r\r\r\r\r');
	await screen(text => text.includes('Stage 2 of 2') && text.includes('s skip'));
	send('q');
	const frame = await screen(text => text.includes('Stopped'));
	assert.match(frame, /– postfix +not run: stopped by the operator/);
	assert.equal(await code, 130);
	assert.equal(file(root, 'etc/one.conf'), 'a = 1\n');
	unmount();
});

test('Ctrl-C while a stage applies: it finishes its step, puts back its writes, exit 130', async () => {
	let release!: () => void;
	const gate = new Promise<void>(resolve => (release = resolve));
	let calls = 0;
	// The validator runs before the writes: Ctrl-C lands while it is busy.
	const slow = writes('postfix', '/etc/one.conf', 'a = 3\n', {
		async validate() {
			if (calls++ === 0) await gate;
			return [{command: 'fake-check', ok: true, problems: []}];
		},
	});
	const {send, screen, unmount, root, host, code} = start([slow], {dryRun: false, dbPassword: 'x'});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	await screen(text => text.includes('▸ FQDN:'));
	send('\r\r\r\r\r\r\r\r\r');
	await screen(text => text.includes('Stage 1 of 1') && text.includes('s skip'));
	send(keys.enter);
	await screen(text => text.includes('Applying'));
	send(keys.ctrlC);
	await screen(text => text.includes('Stopping: the step in progress finishes first'));
	assert.ok(host.interrupted);
	release();
	const frame = await screen(text => text.includes('Still to do by you'));
	assert.match(frame, /Stopped/);
	assert.match(frame, /✘ postfix +cannot write \/etc\/one\.conf: interrupted/);
	assert.equal(await code, 130);
	assert.equal(file(root, 'etc/one.conf'), 'a = 1\n');
	unmount();
});

test('Ctrl-C on the start screen: exit 130 at once, nothing run', async () => {
	const {send, screen, unmount, code} = start(stages);
	await screen(text => text.includes('Stages, in order'));
	send(keys.ctrlC);
	assert.equal(await code, 130);
	await screen(text => text.includes('nothing was changed'));
	unmount();
});

test('stages named on the command line with every answer known go straight to work', async () => {
	const {send, screen, unmount, code} = start([stages[0]!], {dbPassword: 'x', ask: undefined});
	await screen(text => text.includes('Stages, in order'));
	send(keys.enter);
	const frame = await screen(text => text.includes('Still to do by you'));
	assert.doesNotMatch(frame, /FQDN:/);
	assert.equal(await code, 0);
	unmount();
});
