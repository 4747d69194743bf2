import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {useState} from 'react';
import {validFqdn, withDefaults} from '../source/answers.ts';
import {Question} from '../source/ui/Question.tsx';
import {follow, pinnedOf, Questions} from '../source/ui/Questions.tsx';
import type {Answers} from '../source/types.ts';
import {keys, press, tick, until} from './ui-keys.ts';

function Field({secret, check, onSubmit = () => {}}: {secret?: boolean; check?: (value: string) => string | undefined; onSubmit?: (value: string) => void}) {
	const [value, setValue] = useState('');
	const problem = check?.(value);
	return <Question label="Value" value={value} onChange={setValue} onSubmit={onSubmit} secret={secret} error={problem ? `FQDN ${problem}` : undefined} />;
}

test('a secret field shows * for every character and never the text, in any frame', async () => {
	const {stdin, stdout, lastFrame, unmount} = render(<Field secret />);
	await tick();
	for (const char of 's3cr3t!') await press(stdin, lastFrame, char);
	assert.match(lastFrame()!, /Value: \*{7}/);
	assert.ok(stdout.frames.every(frame => !/s3cr|cr3t|3t!/.test(frame)), 'the password never appears');
	unmount();
});

test('a bad FQDN shows the validator message as it is typed, and Enter does not accept it', async () => {
	let accepted: string | undefined;
	const {stdin, lastFrame, unmount} = render(<Field check={validFqdn} onSubmit={value => (accepted = value)} />);
	await tick();
	stdin.write('mail_box');
	await until(lastFrame, frame => frame.includes('needs at least two labels'));
	stdin.write('.example.com');
	const frame = await until(lastFrame, text => text.includes('invalid label "mail_box"'));
	assert.match(frame, /✘ FQDN has an invalid label/);
	stdin.write(keys.enter);
	await tick(30);
	assert.equal(accepted, undefined);
	for (let i = 0; i < 'mail_box.example.com'.length; i++) await press(stdin, lastFrame, keys.backspace);
	stdin.write('mail.example.com');
	await until(lastFrame, text => text.includes('Enter to accept'));
	stdin.write(keys.enter);
	await tick(30);
	assert.equal(accepted, 'mail.example.com');
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

test('the questions form: defaults, follow-up of the domain, masked passwords, done with every answer', async () => {
	let done: Answers | undefined;
	const initial = withDefaults({fqdn: 'mail.example.test'});
	const {stdin, stdout, lastFrame, unmount} = render(<Questions initial={initial} onDone={answers => (done = answers)} />);
	await until(lastFrame, frame => frame.includes('FQDN: mail.example.test'));
	assert.match(lastFrame()!, /mail domain: example\.test/);
	stdin.write('.x'); // typed at the end of the default: mail.example.test.x
	await until(lastFrame, frame => frame.includes('mail domain: example.test.x'));
	await press(stdin, lastFrame, keys.backspace);
	await press(stdin, lastFrame, keys.backspace);
	stdin.write('a'); // mail.example.testa
	await until(lastFrame, frame => frame.includes('postmaster address: postmaster@example.testa'));
	for (let i = 0; i < 6; i++) await press(stdin, lastFrame, keys.enter); // FQDN, domain, postmaster, DB host, name, user
	await until(lastFrame, frame => frame.includes('▸ database password:'));
	stdin.write(keys.enter); // empty: refused
	await until(lastFrame, frame => frame.includes('database password is empty'));
	stdin.write('pa55 word');
	await until(lastFrame, frame => frame.includes('*********'));
	stdin.write(keys.enter);
	await until(lastFrame, frame => frame.includes('▸ test mailbox:'));
	assert.match(lastFrame()!, /database password: \*{8}/);
	stdin.write(keys.up);
	await until(lastFrame, frame => frame.includes('▸ database password:'));
	await press(stdin, lastFrame, keys.enter);
	await press(stdin, lastFrame, keys.enter); // test mailbox
	await press(stdin, lastFrame, 't35t-pw');
	stdin.write(keys.enter);
	await tick(30);
	assert.ok(done, 'the form finished');
	assert.equal(done.fqdn, 'mail.example.testa');
	assert.equal(done.testUser, 'test@example.testa');
	assert.equal(done.cert, '/etc/ssl/certs/mail.example.testa.crt');
	assert.equal(done.dbPassword, 'pa55 word');
	assert.equal(done.testPassword, 't35t-pw');
	assert.ok(stdout.frames.every(frame => !frame.includes('pa55') && !frame.includes('t35t')), 'no password in any frame');
	unmount();
});

test('a password a dry run does not need may stay empty', async () => {
	let done: Answers | undefined;
	const initial = withDefaults({fqdn: 'mail.example.test'});
	const {stdin, lastFrame, unmount} = render(<Questions initial={initial} optional={new Set(['dbPassword', 'testPassword'])} onDone={answers => (done = answers)} />);
	await until(lastFrame, frame => frame.includes('FQDN'));
	for (let i = 0; i < 8; i++) await press(stdin, lastFrame, keys.enter);
	stdin.write(keys.enter);
	await tick(30);
	assert.equal(done?.dbPassword, '');
	unmount();
});
