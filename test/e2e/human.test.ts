// The human path on freshly booted Debian 12 and 13 servers with no database: from a laptop, a
// person opens a terminal (tmux), types `ssh -tt root@mail.example.test`, then `npx mail-setup` with
// no flags, and answers as a person does: accepts the defaults, fixes a typo with several
// Backspaces arriving in one read, types the database password, pastes the test password with its
// newline, says yes to creating the database, and reaches the summary with no stage failed.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {STAGE_IDS} from '../../source/types.ts';
import {RELEASES} from '../helpers/roots.ts';
import {FQDN} from '../helpers/server.ts';
import {Terminal} from '../helpers/terminal.ts';
import {CONFIG_PATHS, DB_PASSWORD, fingerprint, lab, mailClient, TEST_PASSWORD, TEST_USER} from './lib.ts';

// What the terminal shows, recognised in one place.
const SCREEN = {
	prompt: /^root@mail:~#$/m,
	npxAsks: /^Ok to proceed\? \(y\)$/m,
	start: /^Stages, in order:$/m,
	/** The question being answered: its field and what the field holds now. */
	question: /^▸ ([A-Za-z][A-Za-z ]*): ?(.*)$/m,
	offer: /^\? Create what is missing, as MariaDB root over the Unix socket\?$/m,
	summary: /^Done: (\d+) passed, (\d+) failed, (\d+) skipped$/m,
	exit: /^EXIT=(\d+)$/m,
};
/** The shell is back: its bare prompt is the last line (the one the command was typed on holds the command). */
const finished = (screen: string) => screen.trimEnd().split('\n').at(-1) === 'root@mail:~#';
const question = (screen: string) => SCREEN.question.exec(screen)?.slice(1, 3) as [string, string] | undefined;

/**
 * Answers every question until the screen shows none: Enter keeps a default; the two passwords,
 * when empty, are typed (the database's) and pasted with their newline (the mailbox's).
 */
async function answer(term: Terminal): Promise<void> {
	let last = '';
	for (let asked = 0; asked < 20; asked++) {
		// The next field, or no question any more (a field's value changing is not a new question).
		const screen = await term.waitFor(s => (question(s) ?? [''])[0] !== last, 120_000);
		const current = question(screen);
		if (!current) return;
		const [field, value] = current;
		last = field;
		if (field === 'database password' && !value) {
			await term.type(DB_PASSWORD);
			await term.keys('Enter');
		} else if (field === 'test mailbox password' && !value) {
			await term.paste(`${TEST_PASSWORD}\n`); // a paste from a password manager: its newline submits
		} else await term.keys('Enter');
	}
	assert.fail('more than 20 questions');
}

/** `npx mail-setup` typed at the server's shell; resolves on the start screen (npm's install question answered). */
async function launch(term: Terminal): Promise<void> {
	await term.type('npx mail-setup');
	await term.keys('Enter');
	const first = await term.waitFor(s => SCREEN.npxAsks.test(s) || SCREEN.start.test(s), 120_000);
	if (!SCREEN.start.test(first)) {
		await term.keys('Enter'); // npm's "Ok to proceed? (y)": Enter means yes
		await term.waitFor(SCREEN.start, 120_000);
	}
}

/** The last summary line in the terminal's history: [passed, failed, skipped]. */
async function summaryOf(term: Terminal): Promise<number[]> {
	const history = await term.history();
	const last = [...history.matchAll(new RegExp(SCREEN.summary.source, 'gm'))].at(-1);
	assert.ok(last, `no summary:\n${history.slice(-3000)}`);
	return last.slice(1, 4).map(Number);
}

/** Runs `echo EXIT=$?` at the server's shell: the exit status of the wizard. */
async function exitStatus(term: Terminal): Promise<number> {
	await term.type('echo EXIT=$?');
	await term.keys('Enter');
	return Number(SCREEN.exit.exec(await term.waitFor(SCREEN.exit))![1]);
}

describe('the human path over SSH', {concurrency: true}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: npx mail-setup typed over ssh -tt, a person's keys, ends green; a second run changes nothing`, {timeout: 900_000}, async t => {
			const l = await lab(release);
			t.after(() => l.net.close());
			const {server, laptop} = l;
			const term = await Terminal.open(laptop, {cols: 80, rows: 24});
			t.after(() => term.close());

			await term.type(`ssh -tt root@${FQDN}`);
			await term.keys('Enter');
			await term.waitFor(SCREEN.prompt);
			term.presses = 0;

			// --- the first run
			const started = Date.now();
			await launch(term);
			await term.keys('a'); // apply every stage, stopping only to ask
			const fqdn = await term.waitFor(s => question(s)?.[0] === 'FQDN');
			assert.equal(question(fqdn)![1], FQDN, 'the FQDN default');
			// A typo fixed with Backspaces that reach the program in one read.
			await term.type('xx');
			await term.waitFor(s => question(s)?.[1] === `${FQDN}xx`);
			await term.keys('BSpace', 'BSpace');
			await term.waitFor(s => question(s)?.[1] === FQDN, 5_000);
			await answer(term);
			const offer = await term.waitFor(s => SCREEN.offer.test(s) || finished(s), 120_000);
			assert.match(offer, SCREEN.offer, 'the database offer');
			await term.keys('Enter'); // yes: create what is missing
			await term.waitFor(finished, 300_000);
			const seconds = (Date.now() - started) / 1000;
			assert.deepEqual(await summaryOf(term), [STAGE_IDS.length, 0, 0], 'passed, failed, skipped');
			const presses = term.presses;
			assert.equal(await exitStatus(term), 0);
			t.diagnostic(`Debian ${release}: ${presses} keys pressed besides the typed values, ${seconds.toFixed(1)} s from npx mail-setup to the summary`);
			assert.ok(presses <= 20, `${presses} presses`);

			// What a person could not see: the files hold no control character, no screen line was cut.
			const control = await server.run(['grep', '-rlP', '[\\x00-\\x08\\x0b-\\x1f\\x7f]', '/etc/dovecot', '/etc/postfix']);
			assert.equal(control.stdout, '', `files holding a control character: ${control.stdout}`);
			const cut = [...term.screens, await term.history()].flatMap(screen => screen.split('\n')).filter(line => line.trimEnd().endsWith('…'));
			assert.deepEqual(cut, [], 'screen lines cut off with …');

			// The pasted password logs in over IMAPS, checked from the laptop.
			const {netrc, imap} = await mailClient(l);
			const login = await imap(netrc('test', TEST_USER, TEST_PASSWORD), 'INBOX', ['-X', 'NOOP']);
			assert.equal(login.exitCode, 0, `IMAPS login with the pasted password: ${login.stderr}`);

			// --- a second run: every stage already done, nothing changes
			const configured = await fingerprint(server, CONFIG_PATHS);
			await term.clearHistory(); // the first run's summary must not count for the second
			await launch(term);
			await term.keys('a');
			await answer(term);
			await term.waitFor(finished, 300_000);
			assert.deepEqual(await summaryOf(term), [STAGE_IDS.length, 0, 0], 'passed, failed, skipped on the second run');
			assert.equal(await exitStatus(term), 0);
			assert.equal(await fingerprint(server, CONFIG_PATHS), configured, 'the second run changed bytes, modes or owners');
		});
	}
});
