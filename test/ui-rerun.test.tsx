// "Run again" on the start screen: a stage marked done gets its confirm screen and is applied anyway;
// the certificate, run again, makes a new pair (renew); an untoggled done stage still passes through.
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
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ui-rerun-'));
	fs.mkdirSync(path.join(root, 'etc'));
	fs.writeFileSync(path.join(root, 'etc/one.conf'), 'a = 1\n');
	fs.writeFileSync(path.join(root, 'etc/done.conf'), 'ok\n');
	fs.writeFileSync(path.join(root, 'etc/cert.pem'), 'old\n');
	return root;
}

function fakes() {
	const seen = {validated: 0, renew: {} as Partial<Record<Stage['id'], boolean[]>>};
	const record = (id: Stage['id'], renew: boolean) => (seen.renew[id] ??= []).push(renew);
	const writes = (id: Stage['id'], file: string, content: string, extra: Partial<Stage> = {}): Stage => ({
		id,
		title: `writes ${file}`,
		async plan(ctx) {
			record(id, ctx.answers.renew);
			return {files: [{path: file, content}], commands: [], notes: []};
		},
		...extra,
	});
	const stages: Stage[] = [
		writes('lda', '/etc/done.conf', 'ok\n', {
			async validate() {
				seen.validated++;
				return [{command: 'fake-check', ok: true, problems: []}];
			},
		}),
		{
			id: 'certificate',
			title: 'a certificate',
			async plan(ctx) {
				record('certificate', ctx.answers.renew);
				if (!ctx.answers.renew) return {files: [], commands: [], notes: ['/etc/cert.pem is valid: kept']};
				return {files: [{path: '/etc/cert.pem', content: 'new\n'}], commands: [], notes: []};
			},
		},
		writes('dovecot-ssl', '/etc/done.conf', 'ok\n'),
		writes('postfix', '/etc/one.conf', 'a = 2\n'),
	];
	return {stages, seen};
}

test('Space on done stages runs them again: confirm screen, applied (validators, renew for the certificate); others pass through', async () => {
	const {stages, seen} = fakes();
	const root = tree();
	const host = new Host({root, dryRun: false});
	const props: AppProps = {host, answers: withDefaults({fqdn: 'mail.example.test', dbPassword: 'x'}), stages, version: '9.9.9', ask: false};
	const store = createStore(props.answers);
	const {stdin, lastFrame, unmount} = render(<App store={store} {...props} />);
	const code = wizard(props, store);

	let frame = await until(lastFrame, text => (text.match(/already done/g) ?? []).length === 3 && text.includes('to do'));
	assert.match(frame, /▸ lda +✔ already done/, 'the cursor starts on the first stage');
	assert.match(frame, /Enter start \(each stage asks first\) · a start and apply all stages · q quit\n↑\/↓ choose a stage · Space run it again/);
	frame = await press(stdin, lastFrame, ' ');
	assert.match(frame, /▸ lda +↻ run again/);
	assert.match(frame, /Space keep it as done/);
	frame = await press(stdin, lastFrame, keys.down);
	assert.match(frame, /▸ certificate +✔ already done/);
	frame = await press(stdin, lastFrame, ' ');
	assert.match(frame, /▸ certificate +↻ run again/);
	frame = await press(stdin, lastFrame, keys.down);
	frame = await press(stdin, lastFrame, keys.down);
	assert.match(frame, /▸ postfix +to do/);
	assert.doesNotMatch(frame, /Space/, 'Space is only offered on a stage marked done');
	frame = await press(stdin, lastFrame, keys.up);
	assert.match(frame, /dovecot-ssl +✔ already done/, 'left as done');
	const validatedBefore = seen.validated;
	stdin.write(keys.enter);

	// lda: nothing to change, yet it asks, then applies (its validators run) and shows its verdict.
	frame = await until(lastFrame, text => text.includes('Stage 1 of 4: lda') && text.includes('s skip'));
	assert.match(frame, /↻ run again/);
	assert.match(frame, /no file to change, no command to run/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Stage 1 of 4: lda') && text.includes('PASS'));
	assert.match(frame, /already done: nothing to change/);
	assert.ok(seen.validated > validatedBefore, 'the validators ran');
	stdin.write(keys.enter);

	// certificate: run again means a new pair.
	frame = await until(lastFrame, text => text.includes('Stage 2 of 4: certificate') && text.includes('s skip'));
	assert.match(frame, /══ modify \/etc\/cert\.pem/);
	assert.match(frame, /\+new/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Stage 2 of 4: certificate') && text.includes('PASS'));
	stdin.write(keys.enter);

	// dovecot-ssl, untoggled, passes through; postfix asks as usual.
	frame = await until(lastFrame, text => text.includes('Stage 4 of 4: postfix') && text.includes('s skip'));
	assert.match(frame, /✔ lda {2}✔ certificate {2}✔ dovecot-ssl {2}▸ postfix/);
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('Stage 4 of 4: postfix') && text.includes('PASS'));
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Still to do by you'));
	assert.match(frame, /✔ dovecot-ssl +already done/);
	assert.match(frame, /✔ lda +already done: nothing to change/, "applied, not passed through");
	assert.equal(await code, 0);

	assert.equal(fs.readFileSync(path.join(root, 'etc/cert.pem'), 'utf8'), 'new\n');
	assert.equal(fs.readFileSync(path.join(root, 'etc/one.conf'), 'utf8'), 'a = 2\n');
	assert.equal(seen.renew.certificate!.at(-1), true, 'the certificate was planned with renew');
	for (const id of ['lda', 'dovecot-ssl', 'postfix'] as const) assert.ok(seen.renew[id]!.every(renew => !renew), `${id} never saw renew`);
	unmount();
});

test('Space on a stage that is not done does nothing; Space twice leaves it done', async () => {
	const {stages} = fakes();
	const root = tree();
	const host = new Host({root, dryRun: true});
	const props: AppProps = {host, answers: withDefaults({fqdn: 'mail.example.test', dbPassword: 'x'}), stages: [stages[0]!, stages[3]!], version: '9.9.9', ask: false};
	const store = createStore(props.answers);
	const {stdin, lastFrame, unmount} = render(<App store={store} {...props} />);
	const code = wizard(props, store);
	await until(lastFrame, text => text.includes('already done') && text.includes('to do'));
	await press(stdin, lastFrame, ' ');
	let frame = await press(stdin, lastFrame, ' ');
	assert.match(frame, /▸ lda +✔ already done/);
	frame = await press(stdin, lastFrame, keys.down);
	stdin.write(' ');
	frame = await until(lastFrame, text => text.includes('▸ postfix'));
	assert.match(frame, /postfix +to do/);
	stdin.write(keys.enter);
	frame = await until(lastFrame, text => text.includes('Stage 2 of 2: postfix') && text.includes('s skip'));
	assert.match(frame, /○ lda {2}▸ postfix/, 'lda passed through (a dry run plans, it never passes)');
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('PLANNED'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes('Still to do by you'));
	assert.equal(await code, 0);
	unmount();
});
