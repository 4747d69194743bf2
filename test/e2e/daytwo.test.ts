// Day two on booted Debian 12 and 13 servers set up by the wizard: `npx mail-setup mailbox|alias|domain` as an
// operator types it, proved by independent clients — doveadm auth test on the server, swaks over 25 from the
// laptop, the message read back over IMAPS with curl — and by the database itself. No password may appear in
// any process's argv while the commands run, nor in anything they print.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {RELEASES} from '../helpers/roots.ts';
import {FQDN, type Server} from '../helpers/server.ts';
import {Terminal} from '../helpers/terminal.ts';
import {DB_PASSWORD, DOMAIN, HEADLESS, lab, mailClient, report, SECRETS, summary, TEST_PASSWORD, writeSecrets} from './lib.ts';

const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const SALES = `sales@${DOMAIN}`;
// Throwaway secrets: a space and both quotes in the first, as an operator's might have.
const ALICE_PW = `Al'ice "pw" 1`;
const ALICE_PW2 = 'Alice-second-22';
const BOB_PW = 'Bob-typed-pw-33';
const SECRETS_USED = [ALICE_PW, ALICE_PW2, BOB_PW, DB_PASSWORD, TEST_PASSWORD];
const STOP_WATCH = '/root/stop-watch';
const CMDLINES = '/root/cmdlines';

/** Every process's argv on the server, sampled until STOP_WATCH exists: a password typed or given must never be in one. */
function watchArgv(server: Server): Promise<unknown> {
	const script = `rm -f ${STOP_WATCH}; while [ ! -e ${STOP_WATCH} ]; do for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <"$f" 2>/dev/null; echo; done; sleep 0.05; done >${CMDLINES}`;
	return server.run(['sh', '-c', script], {timeout: 900_000});
}

/** The rows of a query, as the mariadb client prints them (tab-separated), as root over the socket. */
async function sql(server: Server, query: string): Promise<string> {
	const run = await server.run(['mariadb', '-N', '-B', 'mailserver', '-e', query]);
	assert.equal(run.exitCode, 0, run.stderr);
	return run.stdout;
}

const everything = 'SELECT * FROM virtual_domains ORDER BY id; SELECT * FROM virtual_users ORDER BY id; SELECT * FROM virtual_aliases ORDER BY id';

describe('day two on booted servers', {concurrency: true}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: mailbox add/passwd/remove, alias add, domain remove refused, lists; the password prompt and the screen over SSH`, {timeout: 900_000}, async t => {
			const l = await lab(release);
			t.after(() => l.net.close());
			const {server, laptop} = l;
			const outputs: string[] = [];
			/** npx mail-setup on the server, its output kept to look for secrets. */
			const ms = async (args: string[], input?: string) => {
				const run = await server.run(['npx', 'mail-setup', ...args], {timeout: 120_000, input});
				outputs.push(run.stdout, run.stderr);
				return run;
			};

			// --- the wizard, as the headless e2e runs it
			await writeSecrets(server);
			const wizard = await ms([...HEADLESS, '--db-create']);
			assert.equal(wizard.exitCode, 0, summary(report(wizard, 'the wizard')) + wizard.stderr);

			const watching = watchArgv(server);
			await server.write(`${SECRETS}/alice`, `${ALICE_PW}\n`, {mode: 0o600});
			await server.write(`${SECRETS}/alice2`, `${ALICE_PW2}\n`, {mode: 0o600});

			// --- laptop clients: swaks over 25 (no AUTH: mail arriving from outside), curl over IMAPS
			const {netrc, imap, arrived} = await mailClient(l);
			const swaks = (to: string, subject: string) =>
				laptop.run(['swaks', '--timeout', '20', '--server', FQDN, '--port', '25', '--from', 'someone@example.net', '--to', to, '--header', `Subject: ${subject}`, '--body', `body of ${subject}`], {timeout: 60_000});
			const auth = async (user: string, password: string) => (await server.run(['doveadm', 'auth', 'test', user], {input: `${password}\n`})).stdout;

			// --- mailbox add, password from a file: Dovecot logs her in, mail to her arrives
			const add = await ms(['mailbox', 'add', ALICE, '--password-file', `${SECRETS}/alice`, '--json']);
			assert.equal(add.exitCode, 0, add.stdout + add.stderr);
			assert.equal(JSON.parse(add.stdout).status, 'pass');
			assert.match(await auth(ALICE, ALICE_PW), /auth succeeded/);
			const first = `daytwo-${release}-first-${Date.now()}`;
			const sent = await swaks(ALICE, first);
			assert.equal(sent.exitCode, 0, sent.stdout.slice(-1500));
			assert.match(await arrived(netrc('alice', ALICE, ALICE_PW), first), new RegExp(`body of ${first}`));

			// --- passwd swaps which password works
			const passwd = await ms(['mailbox', 'passwd', ALICE, '--password-file', `${SECRETS}/alice2`]);
			assert.equal(passwd.exitCode, 0, passwd.stdout + passwd.stderr);
			assert.doesNotMatch(await auth(ALICE, ALICE_PW), /auth succeeded/);
			assert.match(await auth(ALICE, ALICE_PW2), /auth succeeded/);
			assert.equal((await imap(netrc('alice-old', ALICE, ALICE_PW), 'INBOX', ['-X', 'NOOP'])).exitCode, 67, 'the old password still logs in over IMAPS');

			// --- alias: a message to sales from outside lands in alice's mailbox
			const alias = await ms(['alias', 'add', SALES, ALICE]);
			assert.equal(alias.exitCode, 0, alias.stdout + alias.stderr);
			const forSales = `daytwo-${release}-sales-${Date.now()}`;
			assert.equal((await swaks(SALES, forSales)).exitCode, 0);
			assert.match(await arrived(netrc('alice2', ALICE, ALICE_PW2), forSales), new RegExp(`body of ${forSales}`));

			// --- a mailbox added in a terminal (ssh from the laptop): the password typed twice, masked
			const term = await Terminal.open(laptop, {cols: 100, rows: 30});
			t.after(() => term.close());
			await term.type(`ssh -tt root@${FQDN} npx mail-setup mailbox add ${BOB}`);
			await term.keys('Enter');
			await term.waitFor(new RegExp(`New password for ${BOB}:`), 60_000);
			await term.type(`${BOB_PW}\r`);
			await term.waitFor(/The same password again:/);
			await term.type(BOB_PW);
			await term.keys('Enter');
			await term.waitFor(new RegExp(`added mailbox ${BOB}`), 60_000);
			// The next command only once ssh has ended: typed earlier, it would go to the closing session.
			await term.waitFor(screen => /Connection to \S+ closed\./.test(screen) && screen.trimEnd().endsWith('#'), 30_000);
			assert.match(await auth(BOB, BOB_PW), /auth succeeded/);
			// The screen lists what the database holds; q leaves it.
			await term.type(`clear; ssh -tt root@${FQDN} npx mail-setup mailbox; echo SCREEN-EXIT=$?`);
			await term.keys('Enter');
			const shown = await term.waitFor(/a add mailbox .* q quit/, 60_000);
			for (const line of [new RegExp(`✉ ${ALICE}`), new RegExp(`✉ ${BOB}`), new RegExp(`↪ ${SALES} → ${ALICE}`), new RegExp(`${DOMAIN} {2}3 mailboxes, 1 alias`)]) assert.match(shown, line);
			await term.keys('q');
			await term.waitFor(/SCREEN-EXIT=0/, 30_000);
			const screen = await term.history();
			for (const secret of SECRETS_USED) assert.ok(!screen.includes(secret), 'a password on the terminal');

			// --- the lists say what the database holds
			const mailboxes = JSON.parse((await ms(['mailbox', 'list', '--json'])).stdout).mailboxes.map((m: {address: string}) => m.address);
			assert.deepEqual(mailboxes, (await sql(server, 'SELECT email FROM virtual_users ORDER BY email')).trim().split('\n'));
			const aliases = JSON.parse((await ms(['alias', 'list', '--json'])).stdout).aliases.map((a: {source: string; destination: string}) => `${a.source}\t${a.destination}`);
			assert.deepEqual(aliases, (await sql(server, 'SELECT source, destination FROM virtual_aliases ORDER BY source, destination')).trim().split('\n'));

			// --- refused: exit 2, the database as it was
			const before = await sql(server, everything);
			const refusedDomain = await ms(['domain', 'remove', DOMAIN]);
			assert.equal(refusedDomain.exitCode, 2, refusedDomain.stdout + refusedDomain.stderr);
			assert.match(refusedDomain.stderr, /still has 3 mailboxes and 1 alias/);
			for (const args of [['mailbox', 'add', ALICE, '--password-file', `${SECRETS}/alice`], ['alias', 'add', SALES, SALES], ['mailbox', 'add', 'x@nowhere.test', '--password-file', `${SECRETS}/alice`]]) {
				assert.equal((await ms(args)).exitCode, 2, args.join(' '));
			}
			assert.equal(await sql(server, everything), before, 'a refused command changed the database');

			// --- mailbox remove: Postfix refuses her address (and sales went with her)
			const remove = await ms(['mailbox', 'remove', ALICE, '--yes', '--json']);
			assert.equal(remove.exitCode, 0, remove.stdout + remove.stderr);
			assert.equal(JSON.parse(remove.stdout).maildir.path, `/var/mail/${DOMAIN}/alice`);
			for (const to of [ALICE, SALES]) {
				const refused = await laptop.run(['swaks', '--timeout', '20', '--server', FQDN, '--port', '25', '--from', 'someone@example.net', '--to', to, '--quit-after', 'RCPT'], {timeout: 60_000});
				assert.equal(refused.exitCode, 24, refused.stdout);
				assert.match(refused.stdout, /550 5\.1\.1/);
			}
			assert.ok((await server.run(['test', '-d', `/var/mail/${DOMAIN}/alice`])).exitCode === 0, 'the mail directory was kept');

			// --- no password in any process's argv while all this ran, nor in anything printed
			await server.write(STOP_WATCH, '');
			await watching;
			const argv = (await server.read(CMDLINES)) ?? '';
			assert.match(argv, /mail-setup/, 'the watcher saw the commands run');
			for (const secret of SECRETS_USED) {
				assert.ok(!argv.includes(secret), `a password in a process's argv`);
				assert.ok(!outputs.some(text => text.includes(secret)), 'a password in mail-setup output');
			}
		});
	}
});
