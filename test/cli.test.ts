// The built CLI, run as an operator would: exit codes, bad input, dry run, rerun, JSON, undo.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {before, test} from 'node:test';
import {inRootSync, mustInRoot, spawnInRoot, type Release} from './helpers/roots.ts';
import {makeStockTree} from './helpers/stock.ts';
import {copyTree, fingerprint as treeFingerprint} from './helpers/tree.ts';

const repo = path.resolve('.');
const bin = path.join(repo, 'bin/mail-setup.js');
const secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-secrets-'));
const dbPasswordFile = path.join(secrets, 'db');
fs.writeFileSync(dbPasswordFile, "db p'ass\"1 x\n", {mode: 0o600});

/** The repo, and every existing absolute path in args (a file: its dir), seen at the same path in the root. */
function bindsFor(args: string[]): string[] {
	const paths = args.map(arg => arg.replace(/^--[a-z-]+=/, '')).filter(arg => arg.startsWith('/') && fs.existsSync(arg));
	return [repo, ...new Set(paths.map(p => (fs.statSync(p).isDirectory() ? p : path.dirname(p))))];
}

/**
 * The built CLI as an operator runs it on the release (Debian 12: Node 18), where the release's
 * validators are (doveconf, postfix check): in an overlay of its root, the trees bound in.
 */
function cli(args: string[], env: Record<string, string> = {}, release: Release = 12) {
	const run = inRootSync(release, ['node', bin, ...args], {binds: bindsFor(args), env: {CI: '1', NO_COLOR: '1', ...env}, timeout: 60_000});
	return {code: run.exitCode, stdout: run.stdout, stderr: run.stderr};
}

/** Content, mode and owner of every file below dir. */
const fingerprint = (dir: string) => treeFingerprint(dir, {skip: ['var/backups']});

const fileStages = ['dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission'];
let stock12: string;

before(async () => {
	stock12 = await makeStockTree(12);
});


test('--help and --version exit 0 without touching anything', () => {
	const help = cli(['--help']);
	assert.equal(help.code, 0);
	for (const stage of [...fileStages, 'database', 'reload', 'check']) assert.ok(help.stdout.includes(stage), stage);
	assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
});

test('bad input exits 2, names the field, changes nothing', () => {
	const root = copyTree(stock12);
	const before = fingerprint(root);
	const base = ['--yes', '--root', root, '--db-password-file', dbPasswordFile];
	const cases: [string[], RegExp][] = [
		[['--fqdn', ''], /--fqdn is empty/],
		[['--fqdn', 'localhost'], /FQDN needs at least two labels/],
		[['--fqdn=-mail.example.com'], /FQDN has an invalid label/],
		[['--fqdn', 'mail..example.com'], /FQDN has an empty label/],
		[['--fqdn', `${'a'.repeat(64)}.example.com`], /label longer than 63/],
		[['--fqdn', `mail.${'a'.repeat(250)}.com`], /too long|longer than 253/],
		[['--fqdn', 'mail.exam ple.com'], /FQDN has an invalid label/],
		[['--fqdn', 'mail.example.com', '--postmaster', 'not-an-address'], /postmaster address is not an address/],
		[['--fqdn', 'mail.example.com', '--db-name', 'mail`server'], /database name may hold only/],
		[['--fqdn', 'mail.example.com', '--db-user', "o'brien"], /database user may hold only/],
		[['--fqdn', 'mail.example.com', '--db-host', 'db host'], /database host is not a host name/],
		[['--fqdn', 'mail.example.com', '--dovecot', '2.5'], /--dovecot must be 2.3 or 2.4/],
		[['--fqdn', 'mail.example.com', '--test-user', 'nobody'], /test mailbox is not an address/],
		[['--fqdn', 'mail.example.com', '--cert', 'relative.crt'], /certificate file must be an absolute path/],
		[['--fqdn', 'mail.example.com', '--db-password-file', '/nonexistent/file'], /cannot read \/nonexistent\/file/],
		[['--fqdn', 'mail.example.com', '--db-password', 'hunter2'], /not accepted/],
		[['--fqdn', 'mail.example.com', 'no-such-stage'], /unknown stage/],
		[['--fqdn', 'mail.example.com', '--bogus'], /Unknown option/],
	];
	for (const [args, message] of cases) {
		const run = cli([...base, ...args]);
		assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
		assert.match(run.stderr, message, args.join(' '));
		assert.ok(!run.stderr.includes('hunter2') && !run.stdout.includes('hunter2'));
	}
	assert.equal(cli(['--root', '/nonexistent/root', '--dry-run']).code, 2);
	const empty = cli([...base.slice(0, 3), '--fqdn', 'mail.example.com'], {MAIL_SETUP_DB_PASSWORD: ''});
	assert.equal(empty.code, 2);
	assert.match(empty.stderr, /database password is empty/);
	const spaces = cli([...base.slice(0, 3), '--fqdn', 'mail.example.com'], {MAIL_SETUP_DB_PASSWORD: ' padded '});
	assert.match(spaces.stderr, /leading or trailing spaces/);
	assert.equal(fingerprint(root), before, 'the tree is untouched');
});

test('dry run on a stock tree shows diffs, touches nothing, and keeps secrets out', () => {
	const root = copyTree(stock12);
	const before = fingerprint(root);
	const run = cli(['--dry-run', '--json', '--root', root, '--fqdn', 'mail.example.test', '--db-password-file', dbPasswordFile]);
	assert.equal(run.code, 0, run.stderr);
	const report = JSON.parse(run.stdout);
	assert.equal(report.dryRun, true);
	const byId = Object.fromEntries(report.stages.map((s: {id: string}) => [s.id, s]));
	for (const id of fileStages) assert.ok(byId[id].changes.length > 0, `${id} plans changes`);
	assert.match(JSON.stringify(byId['dovecot-master'].changes), /-    #port = 143\\n\+    port = 0/);
	assert.ok(!run.stdout.includes("p'ass"), 'no password in the output');
	assert.equal(fingerprint(root), before);
});

test('apply on stock Debian 12, rerun changes no byte, undo restores the start', () => {
	const root = copyTree(stock12);
	const start = fingerprint(root);
	const args = [...fileStages, '--yes', '--json', '--root', root, '--fqdn', 'mail.example.test', '--db-password-file', dbPasswordFile];
	const first = cli(args);
	assert.equal(first.code, 0, first.stdout + first.stderr);
	assert.ok(!first.stdout.includes("p'ass"));
	const applied = fingerprint(root);
	assert.notEqual(applied, start);
	const dovecotEtc = path.join(root, 'etc/dovecot');
	for (const p of execFileSync('find', [dovecotEtc, '!', '-type', 'l'], {encoding: 'utf8'}).trim().split('\n')) {
		assert.equal(fs.statSync(p).mode & 0o007, 0, `${p} is not readable by others`); // (links have no mode of their own)
	}
	const config = mustInRoot(12, ['doveconf', '-n', '-c', path.join(dovecotEtc, 'dovecot.conf')], {binds: [root]});
	for (const setting of [/inet_listener imap \{\n\s+port = 0/, /inet_listener imaps \{\n\s+port = 993\n\s+ssl = yes/, /inet_listener pop3s \{\n\s+port = 0/, /postmaster_address = postmaster@example.test/, /ssl = required/, /mail_location = maildir:\/var\/mail\/%d\/%n/, /first_valid_uid = 8/, /unix_listener \/var\/spool\/postfix\/private\/auth \{\n\s+group = postfix\n\s+mode = 0666\n\s+user = postfix/]) {
		assert.match(config, setting);
	}
	const again = cli(args);
	assert.equal(again.code, 0, again.stderr);
	for (const stage of JSON.parse(again.stdout).stages) assert.deepEqual(stage.changes, [], `${stage.id} changes nothing on a rerun`);
	assert.equal(fingerprint(root), applied, 'a rerun changes no byte');
	const undo = cli(['undo', '--root', root]);
	assert.equal(undo.code, 0);
	assert.match(undo.stdout, /Restored \d+ file/);
	assert.equal(fingerprint(root), start, 'undo returns to the start byte for byte');
});

test('a rerun keeps the operator\'s own edits and puts back only the settings mail-setup owns', () => {
	const root = copyTree(stock12);
	const args = ['dovecot-master', 'submission', '--yes', '--json', '--root', root, '--fqdn', 'mail.example.test'];
	assert.equal(cli(args).code, 0);
	const masterConf = path.join(root, 'etc/dovecot/conf.d/10-master.conf');
	const masterCf = path.join(root, 'etc/postfix/master.cf');
	const edited = fs
		.readFileSync(masterConf, 'utf8')
		.replace('    port = 993\n', '    port = 9993\n')
		.replace('service imap {\n', 'service imap {\n  # my own note\n  process_limit = 512\n');
	fs.writeFileSync(masterConf, edited);
	fs.appendFileSync(masterCf, '# my relay\nrelay2    unix  -       -       y       -       -       smtp\n');
	const rerun = cli(args);
	assert.equal(rerun.code, 0, rerun.stderr);
	const stages = JSON.parse(rerun.stdout).stages;
	assert.match(stages[0].message, /1 file\(s\) changed: \/etc\/dovecot\/conf.d\/10-master.conf/);
	assert.match(stages[0].changes[0].diff, /-    port = 9993\n\+    port = 993/);
	assert.deepEqual(stages[1].changes, [], 'master.cf: the operator\'s extra service is not ours to touch');
	const after = fs.readFileSync(masterConf, 'utf8');
	assert.ok(after.includes('  # my own note\n  process_limit = 512\n'), 'own settings and comments stay');
	assert.ok(after.includes('    port = 993\n') && !after.includes('9993'));
	assert.ok(fs.readFileSync(masterCf, 'utf8').endsWith('# my relay\nrelay2    unix  -       -       y       -       -       smtp\n'));
});

test('one applying run at a time; a stale lock is taken over', () => {
	const root = copyTree(stock12);
	const lock = path.join(root, 'var/backups/mail-setup/.lock');
	fs.mkdirSync(path.dirname(lock), {recursive: true});
	fs.writeFileSync(lock, `${process.pid}\n`);
	const args = ['lda', '--yes', '--root', root, '--fqdn', 'mail.example.test'];
	const busy = cli(args);
	assert.equal(busy.code, 1);
	assert.match(busy.stderr, new RegExp(`another mail-setup \\(pid ${process.pid}\\) is applying`));
	assert.ok(!fs.readFileSync(path.join(root, 'etc/dovecot/conf.d/15-lda.conf'), 'utf8').includes('postmaster@example.test'));
	fs.writeFileSync(lock, '999999999\n');
	assert.equal(cli(args).code, 0);
	assert.ok(!fs.existsSync(lock), 'the lock is released');
	assert.match(fs.readFileSync(path.join(root, 'etc/dovecot/conf.d/15-lda.conf'), 'utf8'), /^postmaster_address = postmaster@example.test$/m);
});

test('a config it cannot parse fails with file and line, and changes nothing', () => {
	const root = copyTree(stock12);
	fs.appendFileSync(path.join(root, 'etc/dovecot/conf.d/10-master.conf'), 'service broken {\n');
	const before = fingerprint(root);
	const run = cli(['dovecot-master', '--yes', '--root', root, '--fqdn', 'mail.example.test']);
	assert.equal(run.code, 1);
	assert.match(run.stdout, /10-master.conf line \d+/);
	assert.equal(fingerprint(root), before);
});

test('SIGINT while applying: exit 130, no temp file, every file whole', async () => {
	const root = copyTree(stock12);
	const args = ['--yes', '--root', root, '--fqdn', 'mail.example.test', ...fileStages];
	const {child, dispose} = spawnInRoot(12, ['node', bin, ...args], {binds: bindsFor(args), env: {CI: '1', NO_COLOR: '1', MAIL_SETUP_DB_PASSWORD: 'pw1'}, output: 'pipe'});
	let out = '';
	const code = await new Promise<number | null>(resolve => {
		child.stdout!.on('data', chunk => {
			out += chunk;
			// Interrupt while the certificate stage makes its key, after earlier stages wrote files.
			if (out.includes('dovecot-master')) child.kill('SIGINT');
		});
		child.on('exit', resolve);
	});
	dispose();
	assert.equal(code, 130, out);
	const leftovers = execFileSync('find', [root, '-name', '*.mail-setup-*'], {encoding: 'utf8'}).trim();
	assert.equal(leftovers, '', 'no temp file left');
	assert.ok(!fs.existsSync(path.join(root, 'var/backups/mail-setup/.lock')));
	const dovecot = inRootSync(12, ['doveconf', '-n', '-c', path.join(root, 'etc/dovecot/dovecot.conf')], {binds: [root]});
	assert.equal(dovecot.exitCode, 0, dovecot.stderr);
	assert.equal(cli(['undo', '--root', root]).code, 0);
	assert.equal(fingerprint(root), fingerprint(stock12), 'undo after an interrupt returns to the start');
});

for (const release of [12, 13] as const) {
	test(`Debian ${release}: a rerun with no answers reads them back from the earlier run and changes nothing`, async () => {
		const root = await makeStockTree(release);
		const first = cli(['dovecot-sql', 'lda', '--yes', '--json', '--root', root, '--fqdn', 'mail.example.test', '--db-name', 'mail_db', '--db-password-file', dbPasswordFile], {}, release);
		assert.equal(first.code, 0, first.stdout + first.stderr);
		assert.equal(JSON.parse(first.stdout).stages[0].changes.length > 0, true);
		const again = cli(['dovecot-sql', 'lda', '--yes', '--json', '--root', root, '--fqdn', 'mail.example.test'], {}, release);
		assert.equal(again.code, 0, again.stdout + again.stderr);
		for (const stage of JSON.parse(again.stdout).stages) assert.deepEqual(stage.changes, [], stage.id);
	});
}

for (const release of [12, 13] as const) {
	test(`Debian ${release}: certificate, dovecot-ssl, postfix, submission — the pair, master.cf and main.cf as Postfix sees them`, async () => {
		const root = await makeStockTree(release);
		const args = ['certificate', 'dovecot-ssl', 'postfix', 'submission', '--yes', '--json', '--root', root, '--fqdn', 'mail.example.test', '--db-password-file', dbPasswordFile];
		// A server whose mail domain is also a local destination: it must come out.
		const postconf = (args: string[]) => mustInRoot(release, ['postconf', ...args], {binds: [root]});
		postconf(['-c', path.join(root, 'etc/postfix'), '-e', 'mydestination = $myhostname, example.test, localhost']);
		const run = cli(args, {}, release);
		assert.equal(run.code, 0, run.stdout + run.stderr);
		const cert = path.join(root, 'etc/ssl/certs/mail.example.test.crt');
		const key = path.join(root, 'etc/ssl/private/mail.example.test.key');
		const text = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-text'], {encoding: 'utf8'});
		assert.match(text, /Public-Key: \(4096 bit\)/);
		assert.match(text, /Subject: CN ?= ?mail.example.test/);
		assert.match(text, /DNS:mail.example.test/);
		assert.match(text, /sha256WithRSAEncryption/);
		assert.equal(fs.statSync(key).mode & 0o777, 0o600);
		const modulus = (args: string[]) => execFileSync('openssl', args, {encoding: 'utf8'}).trim();
		assert.equal(modulus(['x509', '-in', cert, '-noout', '-modulus']), modulus(['rsa', '-in', key, '-noout', '-modulus']), 'key matches');
		const dir = path.join(root, 'etc/postfix');
		const hourAgo = new Date(Date.now() - 3_600_000); // postconf pauses on files younger than a second
		for (const name of fs.readdirSync(dir)) fs.lutimesSync(path.join(dir, name), hourAgo, hourAgo);
		const entries = postconf(['-c', dir, '-M', 'submission/inet']).trim().split('\n');
		assert.equal(entries.length, 1, 'exactly one submission entry');
		const options = postconf(['-c', dir, '-P', 'submission/inet']);
		for (const option of ['syslog_name = postfix/submission', 'smtpd_tls_security_level = encrypt', 'smtpd_sasl_auth_enable = yes', 'smtpd_client_restrictions = permit_sasl_authenticated,reject', 'smtpd_sasl_type = dovecot', 'smtpd_sasl_path = private/auth', 'smtpd_sasl_security_options = noanonymous', 'smtpd_recipient_restrictions = permit_sasl_authenticated,reject_non_fqdn_recipient,reject_unauth_destination']) {
			assert.ok(options.includes(`submission/inet/${option}\n`), option);
		}
		const main = (name: string) => postconf(['-c', dir, '-h', name]).trim();
		assert.equal(main('smtpd_tls_cert_file'), '/etc/ssl/certs/mail.example.test.crt');
		assert.equal(main('smtpd_tls_key_file'), '/etc/ssl/private/mail.example.test.key');
		assert.equal(main('smtpd_tls_auth_only'), 'yes');
		assert.equal(main('virtual_transport'), 'lmtp:unix:private/dovecot-lmtp');
		assert.equal(main('virtual_mailbox_maps'), 'mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf');
		assert.equal(main('mydestination'), '$myhostname, localhost', 'the mail domain is out of mydestination');
		const map = path.join(dir, 'mysql-virtual-mailbox-maps.cf');
		assert.equal(fs.statSync(map).mode & 0o777, 0o640);
		assert.match(fs.readFileSync(map, 'utf8'), /^hosts = 127.0.0.1$/m);
		const before = fingerprint(root);
		const again = cli(args, {}, release);
		assert.equal(again.code, 0);
		for (const stage of JSON.parse(again.stdout).stages) assert.deepEqual(stage.changes, [], stage.id);
		assert.equal(fingerprint(root), before, 'a rerun changes no byte');
	});
}

test('a target that is a directory: exit 1 naming it, the stage put back, no temp file', () => {
	const root = copyTree(stock12);
	const lda = path.join(root, 'etc/dovecot/conf.d/15-lda.conf');
	fs.rmSync(lda);
	fs.mkdirSync(lda);
	const before = fingerprint(root);
	const run = cli(['lda', 'dovecot-ssl', '--yes', '--root', root, '--fqdn', 'mail.example.test']);
	assert.equal(run.code, 1);
	assert.match(run.stdout, /\[FAIL\] lda[^]*15-lda.conf/);
	assert.match(run.stdout, /\[SKIP\] dovecot-ssl/);
	assert.equal(fingerprint(root), before);
});

/** A private mount of its own (tmpfs or read-only bind), gone when the test ends. */
function withMount(args: string[], dir: string, work: () => void) {
	execFileSync('mount', [...args, dir]);
	try {
		work();
	} finally {
		execFileSync('umount', ['-l', dir]);
	}
}

test('a read-only target: exit 1 naming the file, nothing changed', () => {
	const root = copyTree(stock12);
	const confD = path.join(root, 'etc/dovecot/conf.d');
	const before = fingerprint(root);
	withMount(['--bind', confD], confD, () => {
		execFileSync('mount', ['-o', 'remount,bind,ro', confD]);
		const run = cli(['dovecot-master', '--yes', '--root', root, '--fqdn', 'mail.example.test']);
		assert.equal(run.code, 1);
		assert.match(run.stdout, /cannot write \/etc\/dovecot\/conf.d\/10-master.conf: .*(EROFS|read-only)/);
	});
	assert.equal(fingerprint(root), before);
});

test('a full disk: exit 1 naming the file, earlier writes of the stage put back, undo still complete', () => {
	const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-full-'));
	withMount(['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs'], mountPoint, () => {
		execFileSync('cp', ['-a', `${stock12}/.`, mountPoint]);
		const before = fingerprint(mountPoint);
		// Leave a few KiB: the first small writes fit, a later one does not.
		const filler = path.join(mountPoint, 'filler');
		const free = () => Number(execFileSync('df', ['--output=avail', '-B1', mountPoint], {encoding: 'utf8'}).trim().split('\n')[1]);
		fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 24 * 1024)));
		const run = cli([...fileStages, '--yes', '--root', mountPoint, '--fqdn', 'mail.example.test', '--db-password-file', dbPasswordFile]);
		assert.equal(run.code, 1, run.stdout);
		assert.match(run.stdout, /ENOSPC|no space/i);
		assert.equal(execFileSync('find', [mountPoint, '-name', '*.mail-setup-*'], {encoding: 'utf8'}).trim(), '', 'no temp file left');
		fs.rmSync(filler);
		const undo = cli(['undo', '--root', mountPoint]);
		assert.equal(undo.code, 0, undo.stderr);
		assert.equal(fingerprint(mountPoint), before, 'undo returns to the start');
	});
	fs.rmSync(mountPoint, {recursive: true, force: true});
});
