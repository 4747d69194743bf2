// The whole wizard in a real terminal: tmux at 80x24 runs the built CLI in --dry-run on a copy of a stock
// Debian 12 /etc, and a person's keys arrive as a terminal sends them: several keys in one read (send-keys
// with several keys, -l text), a password pasted with its newline (paste-buffer, plain and bracketed),
// Ctrl-U. Every screen is captured: no line may end cut off with "…", no password may show, a dry run never
// says PASS; the tree is untouched; the exit code is 0.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {STAGE_IDS} from '../source/types.ts';
import {makeStockTree} from './helpers/stock.ts';
import {fingerprint as treeFingerprint} from './helpers/tree.ts';

const socket = `mail-setup-tui-${process.pid}`;
const session = 'wizard';
const DB_PASSWORD = 'Db-Secret-7';
const TEST_PASSWORD = 'Test-Secret-9';
const env = {...process.env};
delete env.CI; // the wizard is for people: CI means the headless path
delete env.NO_COLOR;

function tmux(...args: string[]): string {
	return execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8', env});
}

const screen = () => tmux('capture-pane', '-p', '-t', session);
const spinning = (text: string) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /.test(text);

/** Content, mode and owner of every file below dir. */
const fingerprint = (dir: string) => treeFingerprint(dir, {mtime: true});

/** Every distinct screen seen, kept to check them all at the end. */
const seen = new Set<string>();

async function waitFor(test: (text: string) => boolean, ms = 10_000): Promise<string> {
	const end = Date.now() + ms;
	for (;;) {
		const text = screen();
		seen.add(text);
		if (test(text)) return text;
		if (Date.now() > end) throw new Error(`the screen never matched:\n${text}`);
		await sleep(20);
	}
}

/** Keys as a person presses them; `presses` counts each, a run of value characters not at all. */
let presses = 0;
function keys(...names: string[]): void {
	presses += names.length;
	tmux('send-keys', '-t', session, ...names);
}
const typed = (text: string) => tmux('send-keys', '-t', session, '-l', text);
/** A paste of text ending in a newline: its newline is the one press. */
function paste(text: string, bracketed: boolean): void {
	presses += 1;
	tmux('set-buffer', '-b', 'pw', text);
	tmux('paste-buffer', '-d', '-b', 'pw', '-t', session, ...(bracketed ? ['-p'] : []));
}

/** Start the wizard; with raw, everything it writes to the terminal is kept there too (script(1)). */
function launch(tree: string, raw?: string): number {
	presses = 0;
	const command = `node bin/mail-setup.js --dry-run --root ${tree} --fqdn mail.example.test`;
	tmux('send-keys', '-t', session, '-l', `clear; ${raw ? `script -qfec '${command}' ${raw}` : command}; echo EXIT=$?`);
	tmux('send-keys', '-t', session, 'Enter');
	return Date.now();
}

/** Bracketed paste was on while the wizard ran and is off after it, whatever way it ended. */
function pasteModeRestored(raw: string): void {
	const modes = [...fs.readFileSync(raw, 'latin1').matchAll(/\x1b\[\?2004([hl])/g)].map(match => match[1]);
	assert.equal(modes[0], 'h', 'bracketed paste is asked for');
	assert.equal(modes.at(-1), 'l', 'and turned off at the end');
}

/** What every screen of a dry run must be: whole lines, no secret, no verdict of a run that did not happen. */
function checkScreens(history: string): void {
	for (const text of [...seen, history]) {
		for (const line of text.split('\n')) assert.ok(!line.trimEnd().endsWith('…'), `a line cut off:\n${line}\nin:\n${text}`);
		assert.ok(!text.includes(DB_PASSWORD) && !text.includes(TEST_PASSWORD), `a password on screen:\n${text}`);
		assert.ok(!text.includes('not for the next field'), 'what followed a pasted line went nowhere');
		assert.doesNotMatch(text, /\bPASS\b|\bpassed\b/, 'a dry run never says it passed');
	}
}

let tree: string;

before(async () => {
	// A missing tmux fails these tests (npm test installs it): a person's path is never skipped.
	assert.equal(spawnSync('tmux', ['-V']).status, 0, 'tmux is not installed: npm test installs it');
	if (!fs.existsSync('dist/cli.js')) execFileSync(process.execPath, ['scripts/build.js'], {stdio: 'inherit'});
	tree = await makeStockTree(12, undefined, {opendkim: true});
	tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', 'bash --norc --noprofile');
	tmux('set-option', '-t', session, 'history-limit', '10000');
});

after(() => {
	spawnSync('tmux', ['-L', socket, 'kill-server']);
	if (tree) fs.rmSync(tree, {recursive: true, force: true});
});

test('a person at 80x24: typo fixed with three Backspaces in one read, Ctrl-U, pasted passwords, `a` to the summary', async t => {
	const untouched = fingerprint(tree);
	const raw = path.join(tree, '..', `mail-setup-tui-raw-${process.pid}`);
	const started = launch(tree, raw);
	const first = await waitFor(text => text.includes('Stages, in order') && !text.includes('checking'));
	t.diagnostic(`start screen settled after ${Date.now() - started} ms`);
	assert.match(first, /Enter start \(each stage asks first\) · a start and go through all stages · q quit/);
	keys('a');

	// FQDN: a fast typed chunk, then three Backspaces that arrive in one read.
	await waitFor(text => text.includes('▸ FQDN: mail.example.test'));
	typed('xyz');
	await waitFor(text => text.includes('▸ FQDN: mail.example.testxyz'));
	keys('BSpace', 'BSpace', 'BSpace');
	let text = await waitFor(text => /▸ FQDN: mail\.example\.test *\n {2}Enter to accept/.test(text));
	assert.doesNotMatch(text, /✘/, 'no complaint: no invisible character was inserted');
	keys('Enter');

	// Mail domain: Ctrl-U clears it, the same value typed again.
	await waitFor(text => text.includes('▸ mail domain: example.test'));
	keys('C-u');
	await waitFor(text => /▸ mail domain: *\n {2}✘ mail domain is empty/.test(text));
	typed('example.test');
	keys('Enter');
	// Postmaster, DB host, name, user: the defaults.
	await waitFor(text => text.includes('▸ postmaster address:'));
	keys('Enter', 'Enter', 'Enter', 'Enter');

	// The DB password as a bracketed paste with a second line, which must not reach the (visible) next field;
	// the test password pasted with its newline without brackets: one write, "pw\r".
	await waitFor(text => text.includes('▸ database password:'));
	paste(`${DB_PASSWORD}\nnot for the next field\n`, true);
	text = await waitFor(text => text.includes('▸ test mailbox:'));
	assert.match(text, /✔ database password: \*{8}\n▸ test mailbox: test@example\.test *\n/);
	keys('Enter');
	await waitFor(text => text.includes('▸ test mailbox password:'));
	paste(`${TEST_PASSWORD}\n`, false);

	// No more keys: every stage goes by itself, each verdict shown, to the summary, which exits.
	const end = await waitFor(text => text.includes('EXIT='), 60_000);
	const wall = Date.now() - started;
	t.diagnostic(`presses besides typed values: ${presses}; launch to summary: ${wall} ms`);
	const history = tmux('capture-pane', '-p', '-S', '-', '-t', session);
	assert.match(end, /EXIT=0/, end);
	assert.match(history, /^Dry run: (\d+) stages would change something, (\d+) would not; nothing was changed$/m);
	for (const id of STAGE_IDS) assert.match(history, new RegExp(`^○ ${id} `, 'm'), `${id} has no mark:\n${history}`);
	assert.ok([...seen].some(text => new RegExp(`Stage \\d+ of ${STAGE_IDS.length}: \\S+`).test(text) && /[○✔] \w/.test(text)), 'verdicts were shown on the way');
	assert.ok(presses <= 20, `${presses} presses`);
	checkScreens(history);
	pasteModeRestored(raw);
	fs.rmSync(raw);
	assert.equal(fingerprint(tree), untouched, 'the tree was not touched');
});

test('step by step: Enter on every screen, diffs shown, the summary; exit 0', async t => {
	seen.clear();
	tmux('send-keys', '-t', session, '-l', 'clear');
	tmux('send-keys', '-t', session, 'Enter');
	tmux('clear-history', '-t', session);
	const untouched = fingerprint(tree);
	const started = launch(tree);
	await waitFor(text => text.includes('Stages, in order') && !text.includes('checking'));
	let last = screen();
	for (let step = 0; step < 100 && !last.includes('EXIT='); step++) {
		const asked = /▸ (database|test mailbox) password: *\n/.exec(last);
		if (asked) {
			const password = asked[1] === 'database' ? DB_PASSWORD : TEST_PASSWORD;
			typed(password);
			last = await waitFor(text => text.includes(`▸ ${asked[1]} password: ${'*'.repeat(password.length)}`));
		}
		await sleep(50); // a new screen takes its keys once React has run its effects
		keys('Enter');
		// The next settled screen: changed, no spinner turning.
		const before = last;
		last = await waitFor(text => text !== before && !spinning(text), 30_000);
	}
	t.diagnostic(`step by step: ${presses} presses, ${Date.now() - started} ms`);
	const history = tmux('capture-pane', '-p', '-S', '-', '-t', session);
	assert.match(last, /EXIT=0/, last);
	assert.ok([...seen].some(text => /══ (create|modify) \/etc\//.test(text)), 'diffs were shown');
	assert.ok([...seen].some(text => text.includes('○ PLANNED (dry run)')), 'verdicts were shown');
	checkScreens(history);
	assert.equal(fingerprint(tree), untouched, 'the tree was not touched');
});

test('Ctrl-C on a stage screen: exit 130, bracketed paste off again, nothing changed', async () => {
	const untouched = fingerprint(tree);
	const raw = path.join(tree, '..', `mail-setup-tui-raw-${process.pid}`);
	launch(tree, raw);
	await waitFor(text => text.includes('Stages, in order'));
	keys('Enter');
	await waitFor(text => text.includes('▸ FQDN:'));
	typed('\r\r\r\r\r\r\r\r\r');
	await waitFor(text => text.includes(`Stage 1 of ${STAGE_IDS.length}`) && text.includes('s skip'));
	keys('C-c');
	const end = await waitFor(text => text.includes('EXIT='));
	assert.match(end, /EXIT=130/);
	assert.match(tmux('capture-pane', '-p', '-S', '-', '-t', session), /^Dry run stopped: /m);
	pasteModeRestored(raw);
	fs.rmSync(raw);
	assert.equal(fingerprint(tree), untouched);
});
