// Day two against a real MariaDB: the built CLI on a tree whose Dovecot config names the database and whose
// /run/mysqld/mysqld.sock is the private server's socket (--root DIR reaches the database through DIR).
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runAdmin} from '../source/admin/run.ts';
import {parseRequest, type Request} from '../source/admin/request.ts';
import {verifySha512Crypt} from '../source/db/sha512crypt.ts';
import {Host} from '../source/host/host.ts';
import {adminDb, DB, type AdminDb} from './helpers/admin.ts';

const bin = path.resolve('bin/mail-setup.js');
const ALICE_PW = `al"ice 'pw\\1`;
const ALICE_PW2 = 'second-Secret-77';
const BOB_PW = 'bob env pw';

let a: AdminDb;
let tree: string;
let tree24: string;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-db-'));
const pwFile = path.join(temp, 'alice');
const pwFile2 = path.join(temp, 'alice2');
/** Everything the CLI printed, to prove no password ever shows. */
const printed: string[] = [];

function cli(args: string[], env: Record<string, string> = {}, root = tree) {
	const run = spawnSync(process.execPath, [bin, ...args, '--root', root], {encoding: 'utf8', env: {...process.env, CI: '1', NO_COLOR: '1', ...env}, timeout: 60_000});
	printed.push(run.stdout, run.stderr);
	return {code: run.status, stdout: run.stdout, stderr: run.stderr};
}

const query = (sql: string, params?: string[]) => a.query(sql, params);
const dump = () => a.dump();
const hashOf = (email: string) => a.hashOf(email);
const makeTree = (syntax: '2.3' | '2.4') => a.tree(temp, syntax);

before(async () => {
	a = await adminDb();
	tree = makeTree('2.3');
	tree24 = makeTree('2.4');
	fs.writeFileSync(pwFile, ALICE_PW + '\n', {mode: 0o600});
	fs.writeFileSync(pwFile2, ALICE_PW2, {mode: 0o600});
});

after(async () => {
	await a?.db.stop();
	fs.rmSync(temp, {recursive: true, force: true});
});

test('mailbox add: the hash of the password from the file is stored; the dry run before it changed nothing', async () => {
	const before = await dump();
	const dry = cli(['mailbox', 'add', 'Alice@Example.test', '--password-file', pwFile, '--dry-run']);
	assert.equal(dry.code, 0, dry.stderr);
	assert.match(dry.stdout, /SQL> INSERT INTO `mail_db`\.virtual_users \(domain_id, email, password\) VALUES \(\d+, 'alice@example\.test', '\*\*\*'\);/);
	assert.equal(await dump(), before, 'a dry run changes nothing');

	const add = cli(['mailbox', 'add', 'Alice@Example.test', '--password-file', pwFile, '--json']);
	assert.equal(add.code, 0, add.stderr);
	const report = JSON.parse(add.stdout);
	assert.equal(report.ok, true);
	assert.equal(report.status, 'pass');
	assert.equal(report.reverse, 'mail-setup mailbox remove alice@example.test');
	const hash = await hashOf('alice@example.test');
	assert.match(hash, /^\$6\$[^$]{16}\$[./0-9A-Za-z]{86}$/);
	assert.ok(verifySha512Crypt(ALICE_PW, hash), 'the stored hash is of the file password (its trailing newline not included)');
	assert.ok(!add.stdout.includes(hash.slice(20)), 'the hash is not printed');
});

test('the password may come from the environment; without any, headless, it is refused', async () => {
	const add = cli(['mailbox', 'add', 'bob@example.test'], {MAIL_SETUP_MAILBOX_PASSWORD: BOB_PW});
	assert.equal(add.code, 0, add.stderr);
	assert.match(add.stdout, /PASS.*added mailbox bob@example\.test/);
	assert.ok(verifySha512Crypt(BOB_PW, await hashOf('bob@example.test')));
	const before = await dump();
	const none = cli(['mailbox', 'add', 'carol@example.test'], {MAIL_SETUP_MAILBOX_PASSWORD: ''});
	assert.equal(none.code, 2);
	assert.match(none.stderr, /--password-file FILE.*MAIL_SETUP_MAILBOX_PASSWORD/);
	const weak = cli(['mailbox', 'add', 'carol@example.test'], {MAIL_SETUP_MAILBOX_PASSWORD: ' lead'});
	assert.equal(weak.code, 2);
	assert.match(weak.stderr, /leading or trailing spaces/);
	assert.equal(await dump(), before);
});

test('mailbox passwd swaps which password matches', async () => {
	const run = cli(['mailbox', 'passwd', 'alice@example.test', '--password-file', pwFile2]);
	assert.equal(run.code, 0, run.stderr);
	assert.match(run.stdout, /SET password = '\*\*\*' WHERE email = 'alice@example\.test'/);
	const hash = await hashOf('alice@example.test');
	assert.ok(verifySha512Crypt(ALICE_PW2, hash));
	assert.ok(!verifySha512Crypt(ALICE_PW, hash));
});

test('alias add and list: the lists say what the tables hold, on Dovecot 2.3 and 2.4 trees alike', async () => {
	assert.equal(cli(['alias', 'add', 'sales@example.test', 'alice@example.test']).code, 0);
	assert.equal(cli(['alias', 'add', 'sales@example.test', 'bob@example.test'], {}, tree24).code, 0);
	assert.equal(cli(['domain', 'add', 'other.test']).code, 0);
	for (const root of [tree, tree24]) {
		const mailboxes = JSON.parse(cli(['mailbox', 'list', '--json'], {}, root).stdout).mailboxes;
		const users = await query('SELECT email FROM virtual_users ORDER BY email');
		assert.deepEqual(mailboxes.map((m: {address: string}) => m.address), users.map(row => row.email));
		assert.equal(mailboxes[0].maildir, '/var/mail/example.test/alice');
		const aliases = JSON.parse(cli(['alias', 'list', '--json'], {}, root).stdout).aliases;
		const rows = await query('SELECT source, destination FROM virtual_aliases ORDER BY source, destination');
		assert.deepEqual(aliases, rows.map(row => ({source: row.source, destination: row.destination})));
		const domains = JSON.parse(cli(['domain', 'list', '--json'], {}, root).stdout).domains;
		assert.deepEqual(domains, [
			{name: 'example.test', mailboxes: 3, aliases: 2},
			{name: 'other.test', mailboxes: 0, aliases: 0},
		]);
	}
	const text = cli(['alias', 'list', 'example.test']);
	assert.match(text.stdout, /example\.test\n {2}sales@example\.test → alice@example\.test\n {2}sales@example\.test → bob@example\.test\n2 aliases/);
});

test('every refusal exits 2, says why, and leaves the database as it was', async () => {
	const before = await dump();
	const refusals: [string[], RegExp][] = [
		[['mailbox', 'add', 'not-an-address', '--password-file', pwFile], /is not an address/],
		[['mailbox', 'add', 'carol@nowhere.test', '--password-file', pwFile], /does not serve: mail-setup domain add nowhere\.test first/],
		[['alias', 'add', 'info@nowhere.test', 'alice@example.test'], /does not serve/],
		[['mailbox', 'add', 'alice@example.test', '--password-file', pwFile], /exists already/],
		[['mailbox', 'add', 'sales@example.test', '--password-file', pwFile], /is an alias already/],
		[['alias', 'add', 'sales@example.test', 'alice@example.test'], /exists already/],
		[['alias', 'add', 'alice@example.test', 'bob@example.test'], /is a mailbox/],
		[['alias', 'add', 'loop@example.test', 'loop@example.test'], /cannot point to itself/],
		[['alias', 'add', 'info@example.test', 'nobody@example.test'], /neither a mailbox nor an alias/],
		[['domain', 'add', 'example.test'], /served already/],
		[['domain', 'remove', 'example.test'], /still has 3 mailboxes and 2 aliases/],
		[['domain', 'remove', 'nowhere.test'], /not served here/],
		[['mailbox', 'passwd', 'nobody@example.test', '--password-file', pwFile], /there is no mailbox nobody@example\.test/],
		[['mailbox', 'remove', 'nobody@example.test', '--yes'], /there is no mailbox/],
		[['alias', 'remove', 'nobody@example.test'], /there is no alias/],
		[['alias', 'remove', 'sales@example.test', 'test@example.test'], /there is no alias sales@example\.test → test@example\.test/],
		[['mailbox', 'remove', 'bob@example.test'], /asks for confirmation in a terminal; without one, say --yes/],
		[['mailbox', 'list', 'nowhere.test'], /not served here/],
		[['mailbox', 'add', 'carol@example.test', '--password', 'x'], /not accepted/],
		[['mailbox'], /needs a terminal/],
	];
	for (const [args, pattern] of refusals) {
		const run = cli(args);
		assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
		assert.match(run.stderr, pattern, args.join(' '));
	}
	// An alias chain that would come back to its start.
	assert.equal(cli(['alias', 'add', 'team@example.test', 'sales@example.test']).code, 0);
	const loop = cli(['alias', 'add', 'sales@example.test', 'team@example.test']);
	assert.equal(loop.code, 2);
	assert.match(loop.stderr, /would loop: sales@example\.test → team@example\.test → sales@example\.test/);
	assert.equal(cli(['alias', 'remove', 'team@example.test']).code, 0);
	assert.equal(await dump(), before);
});

test('mailbox remove keeps the mail unless --purge-mail, which moves it into the backups, and undo puts it back', async () => {
	const bobMail = path.join(tree, 'var/mail/example.test/bob/cur');
	fs.mkdirSync(bobMail, {recursive: true});
	fs.writeFileSync(path.join(bobMail, '1.msg'), 'Subject: keep me\n\nhello\n');
	const keep = cli(['mailbox', 'remove', 'bob@example.test', '--yes']);
	assert.equal(keep.code, 0, keep.stderr);
	assert.match(keep.stdout, /removed with it: alias sales@example\.test → bob@example\.test/);
	assert.match(keep.stdout, /its mail stays in \/var\/mail\/example\.test\/bob/);
	assert.match(keep.stdout, /to reverse: mail-setup mailbox add bob@example\.test/);
	assert.ok(fs.existsSync(path.join(bobMail, '1.msg')));
	assert.equal((await query("SELECT 1 FROM virtual_users WHERE email = 'bob@example.test'")).length, 0);
	assert.equal((await query("SELECT 1 FROM virtual_aliases WHERE destination = 'bob@example.test'")).length, 0);

	const aliceMail = path.join(tree, 'var/mail/example.test/alice');
	fs.mkdirSync(path.join(aliceMail, 'new'), {recursive: true});
	fs.writeFileSync(path.join(aliceMail, 'new/2.msg'), 'Subject: precious\n\nx\n');
	const before = await dump();
	const dry = cli(['mailbox', 'remove', 'alice@example.test', '--purge-mail', '--dry-run']);
	assert.equal(dry.code, 0, dry.stderr);
	assert.match(dry.stdout, /would be moved to/);
	assert.equal(await dump(), before);
	assert.ok(fs.existsSync(path.join(aliceMail, 'new/2.msg')));

	const purge = JSON.parse(cli(['mailbox', 'remove', 'alice@example.test', '--purge-mail', '--yes', '--json']).stdout);
	assert.equal(purge.ok, true);
	assert.equal(purge.maildir.path, '/var/mail/example.test/alice');
	assert.ok(purge.maildir.movedTo.startsWith(path.join(tree, 'var/backups/mail-setup/')), purge.maildir.movedTo);
	assert.ok(!fs.existsSync(aliceMail));
	assert.equal(fs.readFileSync(path.join(purge.maildir.movedTo, 'new/2.msg'), 'utf8'), 'Subject: precious\n\nx\n');
	assert.match(purge.reverse, /mail-setup undo/);

	const undo = cli(['undo']);
	assert.equal(undo.code, 0, undo.stderr);
	assert.match(undo.stdout, /\/var\/mail\/example\.test\/alice/);
	assert.equal(fs.readFileSync(path.join(aliceMail, 'new/2.msg'), 'utf8'), 'Subject: precious\n\nx\n');
});

test('a failure after the SQL ran rolls all of it back: the mailbox and its mail stay', async () => {
	fs.writeFileSync(path.join(temp, 'carol'), 'carol pw');
	assert.equal(cli(['mailbox', 'add', 'carol@example.test', '--password-file', path.join(temp, 'carol')]).code, 0);
	assert.equal(cli(['alias', 'add', 'help@example.test', 'carol@example.test']).code, 0);
	const mail = path.join(tree, 'var/mail/example.test/carol/cur');
	fs.mkdirSync(mail, {recursive: true});
	fs.writeFileSync(path.join(mail, '3.msg'), 'x\n');
	const before = await dump();
	// The mail directory cannot be moved (a fault at its rename): the DELETEs already ran inside the transaction.
	const host = new Host({
		root: tree,
		fault: op => {
			if (op === 'rename') throw new Error('injected: cannot move');
		},
	});
	const request = parseRequest(['mailbox', 'remove', 'carol@example.test']) as Request;
	const {code, report} = await runAdmin(request, host, {yes: true, purgeMail: true});
	assert.equal(code, 1);
	assert.match(JSON.stringify(report), /cannot move \/var\/mail\/example\.test\/carol into the backups: injected/);
	assert.equal(await dump(), before, 'rolled back: the mailbox and its alias are still there');
	assert.ok(fs.existsSync(path.join(mail, '3.msg')));
});

test('without the wizard\'s Dovecot configuration, or with the database elsewhere, it says so (exit 1)', () => {
	const empty = fs.mkdtempSync(path.join(temp, 'empty-'));
	const none = cli(['mailbox', 'list'], {}, empty);
	assert.equal(none.code, 1);
	assert.match(none.stdout, /no database settings in \/etc\/dovecot/);
	const remote = makeTree('2.3');
	fs.writeFileSync(path.join(remote, 'etc/dovecot/dovecot-sql.conf.ext'), `connect = host=db.example.test dbname=${DB} user=mailuser password=x\n`);
	const elsewhere = cli(['domain', 'list', '--json'], {}, remote);
	assert.equal(elsewhere.code, 1);
	assert.match(JSON.parse(elsewhere.stdout).message, /on db\.example\.test/);
	const down = makeTree('2.3');
	fs.rmSync(path.join(down, 'run/mysqld/mysqld.sock'));
	const noServer = cli(['domain', 'list'], {}, down);
	assert.equal(noServer.code, 1);
	assert.match(noServer.stdout, /the server is not running/);
});

test('no password, no hash appeared in anything printed', async () => {
	const hashes = (await query('SELECT password FROM virtual_users')).map(row => String(row.password));
	const all = printed.join('\n');
	for (const secret of [ALICE_PW, ALICE_PW2, BOB_PW, 'carol pw', ...hashes]) assert.ok(!all.includes(secret), `printed: ${secret.slice(0, 8)}…`);
	assert.ok(all.includes("'***'"), 'the masked hash was shown');
});
