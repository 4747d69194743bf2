// Day two in a real terminal (tmux, 80x30), on a tree whose socket is a private MariaDB's: `mailbox add` asks
// for the password twice, masked; `mailbox` alone opens the screen, whose keys add, change and remove — typed
// one key per read and several keys per read alike. The database says what happened; no password shows.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {verifySha512Crypt} from '../source/db/sha512crypt.ts';
import {adminDb, type AdminDb} from './helpers/admin.ts';

const socket = `mail-setup-daytwo-${process.pid}`;
const session = 'admin';
const env = {...process.env};
delete env.CI; // the questions are for people: CI means the headless path
delete env.NO_COLOR;
const PASSWORDS = ['Tmux-Carol-pw1', 'Tmux-Dave-pw22', 'Tmux-Dave-new3'];

let a: AdminDb;
let tree: string;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-tmux-'));
/** Every screen seen: no password may be on any. */
const seen: string[] = [];

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8', env});
const screen = () => tmux('capture-pane', '-p', '-t', session);
/** Text as typed in one go: one read for the program. */
const type = (text: string) => tmux('send-keys', '-t', session, '-l', text);
const keys = (...names: string[]) => tmux('send-keys', '-t', session, ...names);

async function waitFor(pattern: RegExp, ms = 15_000): Promise<string> {
	let text = '';
	for (const end = Date.now() + ms; Date.now() < end; await sleep(30)) {
		text = screen();
		if (pattern.test(text)) {
			seen.push(text);
			return text;
		}
	}
	assert.fail(`the terminal did not show ${pattern} within ${ms} ms:\n${text}`);
}

const run = (args: string) => {
	tmux('send-keys', '-t', session, '-l', `clear; node bin/mail-setup.js ${args} --root ${tree}; echo EXIT=$?`);
	keys('Enter');
};

before(async () => {
	if (!fs.existsSync('dist/cli.js')) execFileSync(process.execPath, ['scripts/build.js'], {stdio: 'inherit'});
	a = await adminDb();
	tree = a.tree(temp, '2.3');
	tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '30', 'bash --norc --noprofile');
	tmux('set-option', '-t', session, 'history-limit', '10000');
});

after(async () => {
	spawnSync('tmux', ['-L', socket, 'kill-server']);
	await a?.db.stop();
	fs.rmSync(temp, {recursive: true, force: true});
});

test('mailbox add in a terminal: the password twice, masked; a mismatch asks again; never in argv', async () => {
	run('mailbox add carol@example.test');
	await waitFor(/▸ New password for carol@example\.test:/);
	// A password and its Enter in one read, then a different second one: asked again from the start.
	type(`${PASSWORDS[0]}\r`);
	await waitFor(/▸ The same password again:/);
	type('not-the-same\r');
	await waitFor(/the two did not match/);
	type(PASSWORDS[0]!);
	await waitFor(new RegExp(`▸ New password for carol@example\\.test: \\*{${PASSWORDS[0]!.length}}`));
	// While the prompt is open, the password is in no process's argv.
	for (const pid of fs.readdirSync('/proc').filter(name => /^\d+$/.test(name))) {
		assert.ok(!safeRead(`/proc/${pid}/cmdline`).includes(PASSWORDS[0]!), `pid ${pid} has the password in argv`);
	}
	keys('Enter');
	await waitFor(/▸ The same password again:/);
	type(`${PASSWORDS[0]}\r`);
	const end = await waitFor(/EXIT=\d/);
	assert.match(end, /added mailbox carol@example\.test/);
	assert.match(end, /EXIT=0/);
	assert.ok(verifySha512Crypt(PASSWORDS[0]!, await a.hashOf('carol@example.test')));
});

test('mailbox remove asks first: Enter keeps it', async () => {
	const before = await a.dump();
	run('mailbox remove carol@example.test');
	await waitFor(/Remove mailbox carol@example\.test\? \[y\/N\]/);
	keys('Enter');
	const end = await waitFor(/EXIT=\d/);
	assert.match(end, /not removed: nothing was changed/);
	assert.match(end, /EXIT=1/);
	assert.equal(await a.dump(), before);
});

test('the screen: add a mailbox, change its password, add an alias, remove both; q leaves', async () => {
	run('mailbox');
	let text = await waitFor(/a add mailbox .* q quit/);
	assert.match(text, /example\.test {2}2 mailboxes, 0 aliases/);
	assert.match(text, /✉ carol@example\.test {2}\/var\/mail\/example\.test\/carol/);

	// One key per read: a, then the local part and Enter typed together; "@example.test" was there already.
	keys('a');
	await waitFor(/▸ New mailbox: @example\.test/);
	type('dave\r');
	await waitFor(/▸ New password for dave@example\.test:/);
	type(`${PASSWORDS[1]}\r${PASSWORDS[1]}\r`); // both entries in one read
	text = await waitFor(/✔ added mailbox dave@example\.test/);
	assert.match(text, /to reverse: mail-setup mailbox remove dave@example\.test/);
	assert.ok(verifySha512Crypt(PASSWORDS[1]!, await a.hashOf('dave@example.test')));

	// The cursor is on dave now: p changes his password.
	assert.match(text, /▸ {3}✉ dave@example\.test/);
	type(`p${PASSWORDS[2]}\r${PASSWORDS[2]}\r`);
	await waitFor(/✔ changed the password of dave@example\.test/);
	const hash = await a.hashOf('dave@example.test');
	assert.ok(verifySha512Crypt(PASSWORDS[2]!, hash) && !verifySha512Crypt(PASSWORDS[1]!, hash), 'passwd swapped which password matches');

	// An alias; a refused one says why and changes nothing.
	type('lsales\rdave@example.test\r');
	await waitFor(/✔ added alias sales@example\.test → dave@example\.test/);
	const before = await a.dump();
	type('lsales\rdave@example.test\r');
	await waitFor(/✘ alias sales@example\.test → dave@example\.test exists already/);
	assert.equal(await a.dump(), before);

	// Remove dave (the cursor is on the alias: two up, in one read, past test@), which takes the alias along.
	text = await waitFor(/▸ {3}↪ sales@example\.test → dave@example\.test/);
	keys('Up', 'Up');
	await waitFor(/▸ {3}✉ dave@example\.test/);
	keys('r');
	await waitFor(/Remove mailbox dave@example\.test\? Its mail stays in \/var\/mail\/example\.test\/dave\.\s+\[y\/N\]/);
	keys('y');
	text = await waitFor(/✔ removed mailbox dave@example\.test/);
	assert.match(text, /removed with it: alias sales@example\.test → dave@example\.test/);
	assert.equal((await a.query("SELECT 1 FROM virtual_users WHERE email = 'dave@example.test'")).length, 0);
	assert.equal((await a.query("SELECT 1 FROM virtual_aliases WHERE source = 'sales@example.test'")).length, 0);

	keys('q');
	text = await waitFor(/EXIT=\d/);
	assert.match(text, /EXIT=0/);
	const history = tmux('capture-pane', '-p', '-S', '-', '-t', session);
	for (const shown of [...seen, history]) for (const password of PASSWORDS) assert.ok(!shown.includes(password), `a password on screen:\n${shown}`);
});

function safeRead(file: string): string {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}
