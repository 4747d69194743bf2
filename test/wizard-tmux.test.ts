// The whole wizard in a real terminal: tmux at 80x30 runs the built CLI on a copy of a stock
// Debian 12 tree in --dry-run; an operator who only presses Enter (and types passwords) must reach
// the summary with exit 0, every stage marked, "dry run" said, no password on screen, tree untouched.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {STAGE_IDS} from '../source/types.ts';
import {makeStockTree} from './helpers/stock.ts';

const socket = `mail-setup-test-${process.pid}`;
const session = 'wizard';
const password = 'Tmux-Secret-9';
const env = {...process.env};
delete env.CI; // the wizard is for people: CI means the headless path
delete env.NO_COLOR;

function tmux(...args: string[]): string {
	return execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8', env});
}

const screen = () => tmux('capture-pane', '-p', '-t', session);

/** Content, mode and owner of every file below dir. */
function fingerprint(dir: string): string {
	const hash = createHash('sha256');
	const walk = (d: string) => {
		for (const name of fs.readdirSync(d).sort()) {
			const p = path.join(d, name);
			const s = fs.lstatSync(p);
			hash.update(`${path.relative(dir, p)} ${s.mode} ${s.uid}:${s.gid} ${s.mtimeMs}\n`);
			if (s.isDirectory()) walk(p);
			else if (s.isFile()) hash.update(fs.readFileSync(p));
		}
	};
	walk(dir);
	return hash.digest('hex');
}

async function waitFor(test: (text: string) => boolean, ms: number): Promise<string | undefined> {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		const text = screen();
		if (test(text)) return text;
		await sleep(20);
	}
	return undefined;
}

let tree: string;
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

before(async () => {
	if (!hasTmux) return;
	if (!fs.existsSync('dist/cli.js')) execFileSync(process.execPath, ['scripts/build.js'], {stdio: 'inherit'});
	tree = await makeStockTree(12);
	tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '30', 'bash --norc --noprofile');
	tmux('set-option', '-t', session, 'history-limit', '10000');
});

after(() => {
	if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
	if (tree) fs.rmSync(tree, {recursive: true, force: true});
});

test('Enter through the whole dry run in a real 80x30 terminal', {skip: !hasTmux && 'tmux is not installed'}, async t => {
	const before = fingerprint(tree);
	const seen: string[] = [];
	tmux('send-keys', '-t', session, '-l', `clear; node bin/mail-setup.js --dry-run --root ${tree} --fqdn mail.example.test; echo EXIT=$?`);
	const started = Date.now();
	tmux('send-keys', '-t', session, 'Enter');
	const first = await waitFor(text => text.includes('Stages, in order'), 5000);
	const firstScreenMs = Date.now() - started;
	assert.ok(first, `no start screen:\n${screen()}`);
	seen.push(first);
	t.diagnostic(`first screen after ${firstScreenMs} ms`);
	assert.ok(firstScreenMs < 2000, `first screen took ${firstScreenMs} ms`);
	assert.match(first, /dry run/);

	// Press Enter whenever the screen waits for it; type the passwords when asked.
	const typed = new Set<string>();
	let last = '';
	for (let step = 0; step < 200; step++) {
		const text = (await waitFor(text => text !== last && !/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /.test(text), 10_000)) ?? screen();
		seen.push(text);
		if (text.includes('EXIT=')) break;
		assert.match(text, /dry run/, `a screen without "dry run":\n${text}`);
		const asking = text.match(/▸ (database password|test mailbox password):/);
		if (asking && !typed.has(asking[1]!)) {
			typed.add(asking[1]!);
			tmux('send-keys', '-t', session, '-l', password);
			await waitFor(text => text.includes(`▸ ${asking[1]}: ${'*'.repeat(password.length)}`), 3000);
		}
		await sleep(50); // a new screen takes its keys once React has run its effects
		last = screen();
		tmux('send-keys', '-t', session, 'Enter');
	}
	const end = screen();
	if (process.env.DEBUG_TMUX) for (const text of seen) console.log(`----\n${text}`);
	const history = tmux('capture-pane', '-p', '-S', '-', '-t', session);
	assert.match(end, /EXIT=0/, end);
	assert.match(end, /Still to do by you/);
	assert.match(end, /dry run: nothing was changed/);
	// A dry run passes nothing: every stage is planned (○) or skipped (–).
	for (const id of STAGE_IDS) assert.match(end, new RegExp(`^[○–] ${id} `, 'm'), `${id} has no mark:\n${end}`);
	assert.deepEqual([...typed].sort(), ['database password', 'test mailbox password']);
	assert.ok(seen.some(text => /══ (create|modify) \/etc\//.test(text)), 'diffs were shown');
	for (const text of [...seen, history]) assert.ok(!text.includes(password), `the password is on screen:\n${text}`);
	assert.equal(fingerprint(tree), before, 'the tree was not touched');
});
