// What the operator reads, from the built CLI: dry-run words, empty options, masks, the laptop preview.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {inRootSync} from './helpers/roots.ts';
import {makeStockTree} from './helpers/stock.ts';
import {copyTree, fingerprint} from './helpers/tree.ts';

const bin = path.resolve('bin/mail-setup.js');
const temp = fs.mkdtempSync(path.join(os.tmpdir(), `cli-output-${process.pid}-`));
let stock12: string;

before(async () => {
	stock12 = await makeStockTree(12, path.join(temp, 'stock12'));
});
after(() => fs.rmSync(temp, {recursive: true, force: true}));

function cli(args: string[], env: Record<string, string> = {}) {
	const run = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, CI: '1', NO_COLOR: '1', ...env}, timeout: 60_000});
	return {code: run.status, stdout: run.stdout, stderr: run.stderr};
}



function passwordFile(secret: string): string {
	const file = path.join(fs.mkdtempSync(path.join(temp, 'secret-')), 'db');
	fs.writeFileSync(file, secret, {mode: 0o600});
	return file;
}

test('a dry run says PLAN and what would happen, never PASS; its last line counts the stages that would change something', () => {
	const root = copyTree(stock12);
	const before = fingerprint(root);
	const args = ['--dry-run', '--root', root, '--fqdn', 'mail.example.org', '--db-password-file', passwordFile('db-secret-12')];
	const text = cli(args);
	assert.equal(text.code, 0, text.stderr);
	assert.ok(!/PASS|passed/.test(text.stdout), text.stdout);
	assert.match(text.stdout, /^\[PLAN\] postfix {2}/m);
	assert.match(text.stdout, /^ {7}would change 4 files \(\/etc\/postfix\/main\.cf, \/etc\/postfix\/mysql-virtual-mailbox-domains\.cf, /m);
	assert.match(text.stdout, /^\[SKIP\] database {2}/m, 'live stages are skipped under --root');
	const last = text.stdout.trimEnd().split('\n').at(-1);
	assert.equal(last, 'DRY RUN: 8 stages would change something, 1 would not, 3 skipped; nothing was changed');
	const json = JSON.parse(cli([...args, '--json']).stdout);
	assert.equal(json.ok, true);
	assert.equal(json.dryRun, true);
	// database and check are live (not run under --root); dkim: no OpenDKIM in this tree.
	assert.deepEqual(json.stages.map((s: {status: string}) => s.status), ['skipped', ...Array(8).fill('planned'), 'skipped', 'planned', 'skipped']);
	assert.equal(json.stages.find((s: {id: string}) => s.id === 'reload').message, 'already done: nothing would change\nservices are not touched under --root');
	// The same tree once applied: a dry run then finds every file stage done.
	assert.equal(fingerprint(root), before, 'the dry run changed nothing');
	const applied = cli(['--yes', ...args.slice(1)]);
	assert.equal(applied.code, 0, applied.stdout);
	assert.match(applied.stdout, /^\+\+\+ b\/etc\/ssl\/private\/mail\.example\.org\.key\n\+\(private key, 3\d{3} bytes\)$/m, 'the new key is one line');
	assert.ok(!applied.stdout.includes('PRIVATE KEY'));
	const again = cli(args);
	assert.match(again.stdout, /^\[PLAN\] submission {2}.*\n {7}already done: nothing would change$/m);
	assert.equal(again.stdout.trimEnd().split('\n').at(-1), 'DRY RUN: 0 stages would change something, 9 would not, 3 skipped; nothing was changed');
});

test('every option given with an empty value exits 2 naming it; the tree is untouched', () => {
	const root = copyTree(stock12);
	const before = fingerprint(root);
	const base = ['--yes', '--root', root, '--fqdn', 'mail.example.org', '--db-password-file', passwordFile('db-secret-12')];
	const flags = ['db-user', 'db-name', 'db-host', 'domain', 'postmaster', 'test-user', 'check-host', 'fqdn', 'db-password-file', 'test-password-file', 'dovecot', 'cert', 'key', 'root'];
	for (const flag of flags) {
		const run = cli([...base, `--${flag}=`]);
		assert.equal(run.code, 2, `--${flag}=: ${run.stderr}`);
		assert.match(run.stderr, new RegExp(`^mail-setup: --${flag} is empty`), flag);
		assert.equal(run.stdout, '');
	}
	assert.equal(fingerprint(root), before);
});

test('passwords x, mail, dovecot, %u: file names and settings intact, masks only on password lines', () => {
	for (const secret of ['x', 'mail', 'dovecot', '%u']) {
		const run = cli(['--dry-run', '--root', stock12, '--fqdn', 'mail.example.org', '--db-password-file', passwordFile(secret)]);
		assert.equal(run.code, 0, run.stderr);
		const lines = run.stdout.split('\n');
		for (const line of lines.filter(l => l.includes('***'))) assert.match(line, /^\+(connect = .* )?password ?= ?\*\*\*$/, `${secret}: ${line}`);
		assert.equal(lines.filter(l => l.includes('***')).length, 4, `${secret}: the SQL file (or option file) and three maps`);
		for (const intact of [
			'+++ b/etc/dovecot/conf.d/auth-sql.conf.ext',
			'+++ b/etc/dovecot/dovecot-sql.conf.ext',
			'+  args = uid=mail gid=mail home=/var/mail/%d/%n',
			"+password_query = SELECT email as user, password FROM virtual_users WHERE email='%u';",
			'+++ b/etc/postfix/mysql-virtual-mailbox-maps.cf',
			'+mail_location = maildir:/var/mail/%d/%n',
			'+postmaster_address = postmaster@example.org',
		]) {
			assert.ok(lines.includes(intact), `${secret}: ${intact}`);
		}
	}
});

// A laptop: Debian 12's root (its Node 18, none of this host's /etc), /etc/dovecot and /etc/postfix hidden
// under empty tmpfs mounts, all in a private mount namespace that vanishes with the command.
function onLaptop(args: string[], env: Record<string, string> = {}) {
	const repo = process.cwd();
	const run = inRootSync(12, ['node', `${repo}/bin/mail-setup.js`, ...args], {
		binds: [repo],
		tmpfs: ['/etc/dovecot', '/etc/postfix'],
		env: {CI: '1', NO_COLOR: '1', ...env},
		timeout: 60_000,
	});
	return {code: run.exitCode, stdout: run.stdout, stderr: run.stderr};
}

test('laptop: a dry run shows every line it would write, says the services are not installed, and applying refuses', () => {
	const run = onLaptop(['--dry-run', '--yes', '--fqdn', 'mail.example.org']);
	assert.equal(run.code, 0, run.stderr);
	const out = run.stdout;
	for (const line of [
		'+submission inet n       -       -       -       -       smtpd',
		'+  -o smtpd_sasl_auth_enable=yes',
		'+smtpd_tls_auth_only = yes',
		'+smtpd_tls_cert_file = /etc/ssl/certs/mail.example.org.crt',
		'+smtpd_tls_key_file = /etc/ssl/private/mail.example.org.key',
		'+virtual_transport = lmtp:unix:private/dovecot-lmtp',
		'+++ b/etc/postfix/mysql-virtual-alias-maps.cf',
		'+    port = 0',
		'+    port = 993',
	]) {
		assert.ok(out.split('\n').includes(line), line);
	}
	assert.match(out, /Postfix is not installed here \(\/etc\/postfix\/main\.cf does not exist\)/);
	assert.match(out, /Postfix is not installed here \(\/etc\/postfix\/master\.cf does not exist\)/);
	assert.match(out, /Dovecot is not installed here \(\/etc\/dovecot\/dovecot\.conf does not exist\)/);
	assert.ok(!out.split('\n').some(line => line.replace(/^[ +-]/, '').trim() === '***'), 'no line holds only the mask');
	assert.ok(!/\[PASS\]|passed/.test(out), out); // (SQL says IDENTIFIED BY PASSWORD)
	assert.match(out.trimEnd().split('\n').at(-1)!, /^DRY RUN: \d+ stages would change something, .*; nothing was changed$/);

	const env = {MAIL_SETUP_DB_PASSWORD: 'laptop-db-pw-1'};
	const postfix = onLaptop(['--yes', '--fqdn', 'mail.example.org', 'postfix', 'submission'], env);
	assert.equal(postfix.code, 1);
	assert.match(postfix.stdout, /^\[FAIL\] postfix .*\n {7}Postfix is not installed here \(\/etc\/postfix\/main\.cf does not exist\): apt-get install postfix postfix-mysql/m);
	const dovecot = onLaptop(['--yes', '--fqdn', 'mail.example.org', 'dovecot-master'], env);
	assert.equal(dovecot.code, 1);
	assert.match(dovecot.stdout, /Dovecot is not installed here \(\/etc\/dovecot\/dovecot\.conf does not exist\): apt-get install dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql/);
});
