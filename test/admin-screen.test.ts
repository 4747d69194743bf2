// The mailbox screen's logic, pure: rows, cursor, questions, and the effect a whole read of keys leads to.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import type {Snapshot} from '../source/admin/plan.ts';
import {confirmKey, done, newPassword, passwordKey, rowsOf, screenKey, startScreen, type Effect, type ScreenState} from '../source/admin/screen.ts';
import {keysOf} from '../source/ui/keys.ts';

const snapshot: Snapshot = {
	domains: [
		{id: 2, name: 'b.test'},
		{id: 1, name: 'a.test'},
	],
	mailboxes: [
		{domainId: 1, email: 'bob@a.test'},
		{domainId: 1, email: 'alice@a.test'},
	],
	aliases: [{domainId: 1, source: 'sales@a.test', destination: 'alice@a.test'}],
};

/** Every key of `input` in order, as one read; the effects they led to. */
function type(state: ScreenState, input: string): {state: ScreenState; effects: Effect[]} {
	const effects: Effect[] = [];
	for (const key of keysOf(input)) {
		const step = screenKey(state, key);
		state = step.state;
		if (step.effect) effects.push(step.effect);
	}
	return {state, effects};
}

const DOWN = '\u001B[B';
const ESC = '\u001B';

test('rows: each domain, its mailboxes, then its aliases, sorted', () => {
	assert.deepEqual(
		rowsOf(snapshot).map(row => (row.kind === 'domain' ? row.name : row.kind === 'mailbox' ? `  ${row.address}` : `  ${row.source}>${row.destination}`)),
		['a.test', '  alice@a.test', '  bob@a.test', '  sales@a.test>alice@a.test', 'b.test'],
	);
});

test('add a mailbox in one read: "@domain" prefilled, the password twice, masked entry, one effect', () => {
	const start = startScreen(snapshot);
	const {state, effects} = type(start, 'acarol\rS3cret pw\rS3cret pw\r');
	assert.deepEqual(effects, [{kind: 'run', request: {noun: 'mailbox', verb: 'add', address: 'carol@a.test'}, password: 'S3cret pw'}]);
	assert.equal(state.mode.kind, 'busy');
	// Keys after the effect wait: a busy screen ignores them.
	assert.equal(screenKey(state, {name: 'char', char: 'q'}).effect, undefined);
});

test('a mistyped second password starts the pair again; a bad one is refused in place; Esc goes back', () => {
	const {state} = type(startScreen(snapshot), 'acarol\rfirst-pw\rsecond-pw\r');
	assert.equal(state.mode.kind, 'password');
	if (state.mode.kind !== 'password') return;
	assert.equal(state.mode.entry.first, undefined);
	assert.match(state.mode.entry.error!, /did not match/);
	const weak = type(state, ' lead\r');
	assert.match((weak.state.mode as {entry: {error: string}}).entry.error, /leading or trailing spaces/);
	const back = type(weak.state, ESC);
	assert.equal(back.state.mode.kind, 'browse');
	assert.deepEqual(back.state.message, {ok: true, lines: ['nothing was changed']});
});

test('a malformed address is said under the field, and the field keeps it to be fixed', () => {
	const {state, effects} = type(startScreen(snapshot), 'anot an address\r');
	assert.deepEqual(effects, []);
	assert.equal(state.mode.kind, 'field');
	assert.match((state.mode as {error: string}).error, /is not an address|invalid local part/);
	// Ctrl-E Ctrl-U clears the field, as in a shell; a good address goes on to the password.
	assert.equal(type(state, '\u0005\u0015dave@b.test\r').state.mode.kind, 'password');
});

test('remove asks first; y removes, anything else keeps; the cursor picks what', () => {
	const start = startScreen(snapshot);
	const onBob = type(start, DOWN + DOWN + 'r');
	assert.equal(onBob.state.mode.kind, 'confirm');
	assert.match((onBob.state.mode as {question: string}).question, /Remove mailbox bob@a\.test\? Its mail stays in \/var\/mail\/a\.test\/bob/);
	assert.deepEqual(type(onBob.state, 'y').effects, [{kind: 'run', request: {noun: 'mailbox', verb: 'remove', address: 'bob@a.test'}}]);
	assert.equal(type(onBob.state, '\r').state.mode.kind, 'browse');
	assert.deepEqual(type(onBob.state, 'x').effects, [], 'an unrelated key answers nothing');
	assert.deepEqual(type(start, DOWN + DOWN + DOWN + 'ry').effects, [{kind: 'run', request: {noun: 'alias', verb: 'remove', source: 'sales@a.test', destination: 'alice@a.test'}}]);
	assert.deepEqual(type(start, 'ry').effects, [{kind: 'run', request: {noun: 'domain', verb: 'remove', domain: 'a.test'}}]);
});

test('password change only on a mailbox; alias and domain questions; q quits', () => {
	const start = startScreen(snapshot);
	assert.match(type(start, 'p').state.message!.lines[0]!, /mailbox under the cursor/);
	assert.deepEqual(type(start, DOWN + 'pnew-Pass1\rnew-Pass1\r').effects, [{kind: 'run', request: {noun: 'mailbox', verb: 'passwd', address: 'alice@a.test'}, password: 'new-Pass1'}]);
	assert.deepEqual(type(start, 'linfo\rAlice@A.test\r').effects, [{kind: 'run', request: {noun: 'alias', verb: 'add', source: 'info@a.test', destination: 'alice@a.test'}}]);
	assert.deepEqual(type(start, 'dC.test\r').effects, [{kind: 'run', request: {noun: 'domain', verb: 'add', domain: 'c.test'}}]);
	assert.deepEqual(type(start, 'q').effects, [{kind: 'quit'}]);
});

test('after a change: rows read again, the cursor on what it touched', () => {
	const after = done(startScreen(snapshot), {...snapshot, mailboxes: [...snapshot.mailboxes, {domainId: 1, email: 'carol@a.test'}]}, {ok: true, lines: ['added mailbox carol@a.test']}, 'carol@a.test');
	assert.equal(after.rows[after.cursor]!.kind === 'mailbox' && (after.rows[after.cursor] as {address: string}).address, 'carol@a.test');
	assert.equal(after.mode.kind, 'browse');
});

test('the shared prompts: password twice, confirm defaults to no', () => {
	let entry = newPassword();
	let password: string | undefined;
	for (const key of keysOf('abc-def-1\rabc-def-1\r')) {
		const step = passwordKey(entry, key);
		entry = step.entry;
		password ??= step.password;
	}
	assert.equal(password, 'abc-def-1');
	assert.equal(passwordKey(newPassword(), {name: 'escape'}).cancel, true);
	assert.equal(confirmKey({name: 'char', char: 'Y'}), true);
	for (const key of keysOf('n\r' + ESC)) assert.equal(confirmKey(key), false);
	assert.equal(confirmKey({name: 'ctrl', char: 'c'}), false);
});
