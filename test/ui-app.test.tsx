// The whole wizard on fake stages and a real Host over a temp tree: keys in, frames and exit code out.
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
import {keys, press, until} from './ui-keys.ts';

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

function start(stages: Stage[], options: {dryRun?: boolean; dbPassword?: string; ask?: boolean} = {}) {
	const root = tree();
	const host = new Host({root, dryRun: options.dryRun ?? true});
	const props: AppProps = {host, answers: withDefaults({fqdn: 'mail.example.test', dbPassword: options.dbPassword}), stages, version: '9.9.9', ask: 'ask' in options ? options.ask : true};
	const store = createStore(props.answers);
	const view = render(<App store={store} {...props} />);
	const code = wizard(props, store);
	return {...view, root, host, code};
}

const stages = [writes('lda', '/etc/done.conf', 'ok\n'), writes('postfix', '/etc/one.conf', 'a = 2\npassword = PW\n')];

test('Enter through a dry run: start, questions, a done stage passed through, a diff, the summary; exit 0', async () => {
	const {stdin, stdout, lastFrame, unmount, root, code} = start(stages);
	let frame = await until(lastFrame, text => text.includes('Stages, in order') && text.includes('already done') && text.includes('to do'));
	assert.match(frame, /dry run/);
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 6; i++) await press(stdin, lastFrame, keys.enter);
	await until(lastFrame, text => text.includes('▸ database password:'));
	await press(stdin, lastFrame, 'hunter22');
	for (let i = 0; i < 3; i++) await press(stdin, lastFrame, keys.enter);
	frame = await until(lastFrame, text => text.includes('Stage 2 of 2: postfix') && text.includes('Enter/a'));
	assert.match(frame, /○ lda {2}▸ postfix/, 'the done stage was passed through with a mark (planned: a dry run)');
	assert.match(frame, /\+password = \*\*\*/);
	assert.match(frame, /dry run/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('PLANNED'));
	assert.match(frame, /Would change:\n {2}modify \/etc\/one\.conf/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.match(frame, /○ lda +already done: nothing would change/);
	assert.match(frame, /○ postfix +would change 1 file \(\/etc\/one\.conf\)/);
	assert.equal(await code, 0);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
	assert.ok(stdout.frames.every(text => !text.includes('hunter22')), 'the password is never on screen');
	unmount();
});

test('live: apply writes the file, the summary says where the backups are', async () => {
	const {stdin, lastFrame, unmount, root, code} = start(stages, {dryRun: false, dbPassword: 'hunter22'});
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 9; i++) await press(stdin, lastFrame, keys.enter);
	await until(lastFrame, text => text.includes('Stage 2 of 2') && text.includes('Enter/a'));
	stdin.write('a');
	await until(lastFrame, text => text.includes('PASS'));
	stdin.write(keys.enter);
	const frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.match(frame, /Backups of every changed file: .*ui-app-/s);
	assert.match(frame, /mail-setup undo/);
	assert.equal(await code, 0);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 2\npassword = hunter22\n');
	unmount();
});

test('a failing stage shows why, later stages are not run, exit 1', async () => {
	const broken: Stage = {id: 'lda', title: 'cannot plan', plan: async () => Promise.reject(new Error('line 7: cannot parse 15-lda.conf'))};
	const {stdin, lastFrame, unmount, code} = start([broken, stages[1]!], {dbPassword: 'x'});
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 9; i++) await press(stdin, lastFrame, keys.enter);
	let frame = await until(lastFrame, text => text.includes('FAIL'));
	assert.match(frame, /line 7: cannot parse 15-lda\.conf/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.match(frame, /✘ lda/);
	assert.match(frame, /– postfix +not run: an earlier stage failed/);
	assert.equal(await code, 1);
	unmount();
});

test('q at a confirm screen stops: summary, exit 130, nothing written', async () => {
	const {stdin, lastFrame, unmount, root, code} = start(stages, {dryRun: false, dbPassword: 'x'});
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 9; i++) await press(stdin, lastFrame, keys.enter);
	await until(lastFrame, text => text.includes('Stage 2 of 2') && text.includes('Enter/a'));
	stdin.write('q');
	const frame = await until(lastFrame, text => text.includes('Stopped'));
	assert.match(frame, /– postfix +not run: stopped by the operator/);
	assert.equal(await code, 130);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
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
	const {stdin, lastFrame, unmount, root, host, code} = start([slow], {dryRun: false, dbPassword: 'x'});
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('▸ FQDN:'));
	for (let i = 0; i < 9; i++) await press(stdin, lastFrame, keys.enter);
	await until(lastFrame, text => text.includes('Stage 1 of 1') && text.includes('Enter/a'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('Applying'));
	stdin.write(keys.ctrlC);
	await until(lastFrame, text => text.includes('Stopping after this step'));
	assert.ok(host.interrupted);
	release();
	const frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.match(frame, /Stopped/);
	assert.match(frame, /✘ postfix +cannot write \/etc\/one\.conf: interrupted/);
	assert.equal(await code, 130);
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 1\n');
	unmount();
});

test('Ctrl-C on the start screen: exit 130 at once, nothing run', async () => {
	const {stdin, lastFrame, unmount, code} = start(stages);
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.ctrlC);
	assert.equal(await code, 130);
	await until(lastFrame, text => text.includes('nothing was changed'));
	unmount();
});

test('stages named on the command line with every answer known go straight to work', async () => {
	const {stdin, lastFrame, unmount, code} = start([stages[0]!], {dbPassword: 'x', ask: undefined});
	await until(lastFrame, text => text.includes('Stages, in order'));
	stdin.write(keys.enter);
	const frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.doesNotMatch(frame, /FQDN:/);
	assert.equal(await code, 0);
	unmount();
});
