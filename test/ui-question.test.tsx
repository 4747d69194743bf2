// The questions as a person at a real terminal types them: whole reads written to stdin at once.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {withDefaults} from '../source/answers.ts';
import {follow, pinnedOf} from '../source/ui/form.ts';
import {Questions} from '../source/ui/Questions.tsx';
import {TextField} from '../source/ui/TextField.tsx';
import type {Answers} from '../source/types.ts';
import {keys, until} from './ui-keys.ts';

function form(optional?: Set<'dbPassword' | 'testPassword'>) {
	let done: Answers | undefined;
	const view = render(<Questions initial={withDefaults({fqdn: 'mail.example.test'})} optional={optional} onDone={answers => (done = answers)} />);
	return {...view, done: () => done};
}

test('a secret field shows one * per character and never the text; the cursor shows where typing goes', () => {
	const secret = render(<TextField line={{value: 's3cr3t!', cursor: 3}} secret />);
	assert.equal(secret.lastFrame(), '*******');
	secret.unmount();
	const plain = render(<TextField line={{value: 'abc', cursor: 1}} />);
	assert.equal(plain.lastFrame(), 'abc', 'the cursor is an inverse cell, not a character');
	plain.unmount();
});

test('two Backspaces in one read delete two characters (they are never inserted)', async () => {
	const {stdin, lastFrame, done, unmount} = form();
	await until(lastFrame, frame => frame.includes('▸ FQDN: mail.example.test'));
	stdin.write('xx');
	await until(lastFrame, frame => frame.includes('▸ FQDN: mail.example.testxx'));
	stdin.write('\x7f\x7f');
	const frame = await until(lastFrame, text => /▸ FQDN: mail\.example\.test\n/.test(text));
	assert.match(frame, /Enter to accept/, 'no complaint: the value is clean');
	stdin.write('\x7f\x7f\x7f\x7ftest\r');
	await until(lastFrame, text => text.includes('▸ mail domain: example.test'));
	assert.equal(done(), undefined);
	unmount();
});

test('a whole form typed ahead in one read: Enter goes on to the next field, a pasted password submits', async () => {
	const {stdin, stdout, lastFrame, done, unmount} = form();
	await until(lastFrame, frame => frame.includes('▸ FQDN:'));
	// Ctrl-U clears the FQDN, a new one is typed; domain … user accepted; the DB password typed with its Enter.
	stdin.write('\x15mx.other.test\r\r\r\r\r\rdb pw 1\r');
	await until(lastFrame, frame => frame.includes('▸ test mailbox: test@other.test'));
	assert.match(lastFrame()!, /database password: \*{8}/);
	// The test password, pasted (bracketed) with its newline and a second line that must go nowhere.
	stdin.write('\r\x1b[200~T35t-pw\nsecond line\x1b[201~');
	await until(done, answers => Boolean(answers));
	const answers = done()!;
	assert.equal(answers.fqdn, 'mx.other.test');
	assert.equal(answers.domain, 'other.test');
	assert.equal(answers.dbPassword, 'db pw 1');
	assert.equal(answers.testPassword, 'T35t-pw');
	assert.ok(stdout.frames.every(frame => !frame.includes('db pw') && !frame.includes('T35t') && !frame.includes('second line')), 'no password in any frame');
	unmount();
});

test('an unbracketed paste "pw\\r" is typed and submitted; a control character never enters a value', async () => {
	const {stdin, lastFrame, done, unmount} = form();
	await until(lastFrame, frame => frame.includes('▸ FQDN:'));
	stdin.write('\r\r\r\r\r\r');
	await until(lastFrame, frame => frame.includes('▸ database password:'));
	stdin.write('pw\x00\x1b[2~\x9b1\r');
	await until(lastFrame, frame => frame.includes('▸ test mailbox:'));
	stdin.write('\r');
	await until(lastFrame, frame => frame.includes('▸ test mailbox password:'));
	stdin.write('Test-pw-2\r');
	await until(done, answers => Boolean(answers));
	assert.equal(done()!.dbPassword, 'pw1');
	unmount();
});

test('a bad FQDN shows the validator message as it is typed, and Enter does not accept it', async () => {
	const {stdin, lastFrame, unmount} = form();
	await until(lastFrame, frame => frame.includes('▸ FQDN:'));
	stdin.write('\x15mail_box');
	await until(lastFrame, frame => frame.includes('needs at least two labels'));
	stdin.write('.example.com\r');
	const frame = await until(lastFrame, text => text.includes('invalid label "mail_box"'));
	assert.match(frame, /✘ FQDN has an invalid label/);
	assert.match(frame, /▸ FQDN:/, 'still on the FQDN');
	stdin.write('\x01\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~\x1b[3~mail\r');
	await until(lastFrame, text => text.includes('▸ mail domain: example.com'));
	unmount();
});

test('a password a dry run does not need may stay empty; ↑ goes back', async () => {
	const {stdin, lastFrame, done, unmount} = form(new Set(['dbPassword', 'testPassword']));
	await until(lastFrame, frame => frame.includes('▸ FQDN:'));
	stdin.write('\r\r\r\r\r\r');
	await until(lastFrame, frame => frame.includes('not needed for this run'));
	stdin.write(keys.up);
	await until(lastFrame, frame => frame.includes('▸ database user:'));
	stdin.write('\r\r\r\r');
	await until(done, answers => Boolean(answers));
	assert.equal(done()!.dbPassword, '');
	unmount();
});

test('derived defaults follow the FQDN until the operator edits them', () => {
	const base = withDefaults({fqdn: 'mail.example.test'});
	const pinned = pinnedOf(base);
	assert.equal(pinned.size, 0);
	const moved = follow({...base, fqdn: 'mx.other.test'}, pinned);
	assert.equal(moved.domain, 'other.test');
	assert.equal(moved.postmaster, 'postmaster@other.test');
	assert.equal(moved.testUser, 'test@other.test');
	assert.equal(moved.cert, '/etc/ssl/certs/mx.other.test.crt');
	// Given on the command line (or read back from the config): stays put.
	const given = withDefaults({fqdn: 'mail.example.test', domain: 'example.org'});
	const kept = follow({...given, fqdn: 'mx.other.test'}, pinnedOf(given));
	assert.equal(kept.domain, 'example.org');
	assert.equal(kept.postmaster, 'postmaster@example.org');
});
