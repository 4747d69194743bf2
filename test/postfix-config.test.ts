import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {MainCf, MasterCf, removeFromList} from '../source/config/postfix.ts';
import {inRootSync, rootDir} from './helpers/roots.ts';

// Debian 12's pristine Postfix 3.7 files, from its root: the package's examples and the files its
// postinst wrote ("live"). Read at test time, never copied into the repo.
const STOCK = path.join(rootDir(12), 'usr/share/postfix');
const LIVE = path.join(rootDir(12), 'etc/postfix');
const read = (file: string) => fs.readFileSync(file, 'utf8');
const stockMaster = () => read(`${STOCK}/master.cf.dist`);

// The mission's step 9.
const FIELDS = ['n', '-', '-', '-', '-', 'smtpd'];
const OPTIONS: [string, string][] = [
	['syslog_name', 'postfix/submission'],
	['smtpd_tls_security_level', 'encrypt'],
	['smtpd_sasl_auth_enable', 'yes'],
	['smtpd_client_restrictions', 'permit_sasl_authenticated,reject'],
	['smtpd_sasl_type', 'dovecot'],
	['smtpd_sasl_path', 'private/auth'],
	['smtpd_sasl_security_options', 'noanonymous'],
	['smtpd_recipient_restrictions', 'permit_sasl_authenticated,reject_non_fqdn_recipient,reject_unauth_destination'],
];
const WANTED_LINES = [
	'submission inet n       -       -       -       -       smtpd',
	...OPTIONS.map(([name, value]) => `  -o ${name}=${value}`),
];
// What `postconf -Mf submission/inet` prints for exactly that one entry.
const POSTCONF_MF = [
	'submission inet  n       -       -       -       -       smtpd',
	...OPTIONS.map(([name, value]) => `    -o ${name}=${value}`),
	'',
].join('\n');

// Debian's commented example, as it stands in master.cf.dist.
const STOCK_HEAD = '#submission inet n       -       y       -       -       smtpd\n';
const STOCK_BLOCK_END = '#  -o milter_macro_daemon_name=ORIGINATING\n# Choose one: enable submissions';

const ensureSubmission = (master: MasterCf) => master.ensure('submission', 'inet', FIELDS, OPTIONS);

/** Debian 12's postconf on a directory holding the live main.cf (or the given one) and the given master.cf. */
function postconf(master: string, args: string[], main = read(`${LIVE}/main.cf`)): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfix-config-'));
	try {
		for (const [name, text] of [['main.cf', main], ['master.cf', master]]) {
			const file = path.join(dir, name);
			fs.writeFileSync(file, text);
			// Postfix sleeps while a config file is less than a second old (a guard against half-written files).
			fs.utimesSync(file, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
		}
		const result = inRootSync(12, ['postconf', '-c', dir, ...args], {binds: [dir]});
		assert.equal(result.exitCode, 0, result.stderr);
		return result.stdout;
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
}

/** Postfix's own view: exactly one submission/inet entry with exactly the wanted columns and options, in order. */
function assertPostfixSeesSubmission(master: string): void {
	assert.equal(postconf(master, ['-Mf', 'submission/inet']), POSTCONF_MF);
	const params = postconf(master, ['-P', 'submission/inet']).trim().split('\n').sort();
	assert.deepEqual(params, OPTIONS.map(([name, value]) => `submission/inet/${name} = ${value}`).sort());
}

function assertOneWantedEntry(master: MasterCf): void {
	assert.deepEqual(master.active('submission', 'inet'), [
		{service: 'submission', type: 'inet', fields: FIELDS, args: OPTIONS.flatMap(([n, v]) => ['-o', `${n}=${v}`])},
	]);
}

const MESSY = [
	'',
	'\n',
	'a = b',
	'a = b\n',
	'a\t=\tb  \n\tc \t\n\n',
	'# only a comment',
	'  leading = continuation\nx = y\r\n  z\r\n',
	'x = 1\n \n  \n#\t\n  y\n\n\n',
];

test('MainCf and MasterCf round-trip hand-made oddities byte for byte', () => {
	for (const text of MESSY) {
		assert.equal(MainCf.parse(text).toString(), text);
		assert.equal(MasterCf.parse(text).toString(), text);
	}
});

test('the stock and live files round-trip byte for byte', () => {
	for (const file of ['main.cf.dist', 'main.cf.debian']) assert.equal(MainCf.parse(read(`${STOCK}/${file}`)).toString(), read(`${STOCK}/${file}`));
	assert.equal(MasterCf.parse(stockMaster()).toString(), stockMaster());
	assert.equal(MainCf.parse(read(`${LIVE}/main.cf`)).toString(), read(`${LIVE}/main.cf`));
	assert.equal(MasterCf.parse(read(`${LIVE}/master.cf`)).toString(), read(`${LIVE}/master.cf`));
});

// ---- main.cf ----

test('MainCf.get agrees with postconf -h for every setting in the live and stock main.cf', () => {
	for (const file of [`${LIVE}/main.cf`, `${STOCK}/main.cf.dist`, `${STOCK}/main.cf.debian`]) {
		const text = read(file);
		const main = MainCf.parse(text);
		const names = [...text.matchAll(/^([a-z_]+)\s*=/gm)].map(match => match[1]);
		assert.ok(names.length > 3, file);
		const values = postconf(stockMaster(), ['-h', ...names], text).split('\n').slice(0, names.length);
		// Postfix keeps the continuation lines' leading whitespace; get() joins with single spaces.
		names.forEach((name, i) => assert.equal(main.get(name), values[i].trim().split(/\s+/).join(' '), `${file}: ${name}`));
	}
});

test('MainCf.get joins continuation lines across comments and blank lines, as Postfix does', () => {
	const main = MainCf.parse('a = 1\nlist = one,\n\n# note\n\ttwo  three \n  four\nb = 2');
	assert.equal(main.get('list'), 'one, two three four');
	assert.equal(main.get('a'), '1');
	assert.equal(main.get('b'), '2');
	assert.equal(main.get('missing'), undefined);
	assert.equal(MainCf.parse('x=\n').get('x'), '');
	assert.equal(MainCf.parse('#x = 1\n').get('x'), undefined);
});

test('MainCf.set replaces the definition in place', () => {
	const text = read(`${LIVE}/main.cf`);
	const main = MainCf.parse(text);
	main.set('myhostname', 'mail.example.com');
	const before = text.split('\n');
	const after = main.toString().split('\n');
	assert.equal(after.length, before.length);
	assert.deepEqual(after.filter((line, i) => line !== before[i]), ['myhostname = mail.example.com']);
	assert.equal(after.indexOf('myhostname = mail.example.com'), before.findIndex(line => line.startsWith('myhostname =')));
});

test('MainCf.set of an absent name appends it, adding a missing final newline first', () => {
	const main = MainCf.parse('a = 1\n#b = old');
	main.set('b', '2');
	assert.equal(main.toString(), 'a = 1\n#b = old\nb = 2\n');
	const ended = MainCf.parse('a = 1\n');
	ended.set('c', '3');
	assert.equal(ended.toString(), 'a = 1\nc = 3\n');
	const empty = MainCf.parse('');
	empty.set('c', '3');
	assert.equal(empty.toString(), 'c = 3\n');
});

test('MainCf.set replaces a value with continuation lines by one line, keeping comments in between', () => {
	const main = MainCf.parse('a = 1\nlist = one,\n  two,\n# keep me\n  three\nb = 2\n');
	main.set('list', 'four');
	assert.equal(main.toString(), 'a = 1\nlist = four\n# keep me\nb = 2\n');
});

test('MainCf.set comments out earlier duplicates and edits the last one', () => {
	const main = MainCf.parse('x = 1\n  more\ny = 0\nx = 2\nz = 0\n');
	main.set('x', '3');
	assert.equal(main.toString(), '#x = 1\n#  more\ny = 0\nx = 3\nz = 0\n');
});

test('MainCf.set leaves an equal value alone, whatever its spacing', () => {
	const text = 'x =   a,\tb\n  c\n';
	const main = MainCf.parse(text);
	main.set('x', 'a, b c');
	assert.equal(main.toString(), text);
	main.set('x', 'a, b  c ');
	assert.equal(main.toString(), text);
});

test('MainCf.remove comments out every definition, each physical line', () => {
	const main = MainCf.parse('x = 1\ny = 0\nx = 2,\n\n\t3\n');
	main.remove('x');
	assert.equal(main.toString(), '#x = 1\ny = 0\n#x = 2,\n\n#\t3\n');
	assert.equal(main.get('x'), undefined);
	main.remove('absent');
	assert.equal(main.toString(), '#x = 1\ny = 0\n#x = 2,\n\n#\t3\n');
});

test('postconf -h agrees with MainCf.get after the mission edits', () => {
	const main = MainCf.parse(read(`${LIVE}/main.cf`));
	main.set('smtpd_tls_cert_file', '/etc/ssl/certs/cloud.crt');
	main.set('smtpd_tls_key_file', '/etc/ssl/private/cloud.key');
	main.set('smtpd_tls_auth_only', 'yes');
	main.set('virtual_transport', 'lmtp:unix:private/dovecot-lmtp');
	main.set('virtual_mailbox_domains', 'mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf');
	main.set('mydestination', removeFromList(main.get('mydestination')!, 'MAIL.example.test'));
	main.set('myhostname', 'mail.example.test');
	main.remove('biff');
	main.remove('mailbox_size_limit');
	const names = ['smtpd_tls_cert_file', 'smtpd_tls_key_file', 'smtpd_tls_auth_only', 'virtual_transport', 'virtual_mailbox_domains', 'mydestination', 'myhostname'];
	const values = postconf(stockMaster(), ['-h', ...names], main.toString()).split('\n');
	names.forEach((name, i) => assert.equal(main.get(name), values[i], name));
	assert.doesNotMatch(main.get('mydestination')!, /mail\.example\.test/);
	// Removed settings fall back to Postfix's defaults.
	assert.equal(postconf(stockMaster(), ['-h', 'biff', 'mailbox_size_limit'], main.toString()), 'yes\n51200000\n');
	assert.doesNotMatch(postconf(stockMaster(), ['-n'], main.toString()), /^(biff|mailbox_size_limit) =/m);
});

// ---- master.cf ----

test('MasterCf.active reads the stock entries', () => {
	const master = MasterCf.parse(stockMaster());
	assert.deepEqual(master.active('smtp', 'inet'), [{service: 'smtp', type: 'inet', fields: ['n', '-', 'y', '-', '-', 'smtpd'], args: []}]);
	assert.deepEqual(master.active('relay', 'unix')[0].args, ['-o', 'syslog_name=postfix/$service_name']);
	assert.deepEqual(master.active('maildrop', 'unix')[0].args, ['flags=DRXhu', 'user=vmail', 'argv=/usr/bin/maildrop', '-d', '${recipient}']);
	assert.deepEqual(master.active('postlog', 'unix-dgram')[0].fields, ['n', '-', 'n', '-', '1', 'postlogd']);
	assert.deepEqual(master.active('submission', 'inet'), []);
	assert.deepEqual(master.active('cyrus', 'unix'), []);
});

test('ensure turns the stock commented submission block into the entry, in place', () => {
	const text = stockMaster();
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	const result = master.toString();
	assertOneWantedEntry(master);
	// Everything before and after the commented block is untouched; the entry stands where the block was.
	const start = text.indexOf(STOCK_HEAD);
	const end = text.indexOf(STOCK_BLOCK_END) + STOCK_BLOCK_END.indexOf('# Choose');
	assert.ok(start > 0 && end > start);
	assert.equal(result, text.slice(0, start) + WANTED_LINES.join('\n') + '\n' + text.slice(end));
	// The submissions (port 465) example and the loopback-only variant stay commented.
	assert.match(result, /^#127\.0\.0\.1:submission inet/m);
	assert.match(result, /^#submissions {5}inet/m);
	assert.doesNotMatch(result, /^#submission inet/m);
});

test('ensure is idempotent: a file that already has the entry stays byte-identical', () => {
	const master = MasterCf.parse(stockMaster());
	ensureSubmission(master);
	const once = master.toString();
	ensureSubmission(master);
	assert.equal(master.toString(), once);
	const again = MasterCf.parse(once);
	ensureSubmission(again);
	assert.equal(again.toString(), once);
	// Same tokens with other spacing count as equal.
	const spaced = 'smtp inet n - y - - smtpd\nsubmission  inet n - - - - smtpd -o syslog_name=postfix/submission\n' +
		OPTIONS.slice(1).map(([name, value]) => `\t-o ${name}=${value}`).join('\n') + '\n';
	const other = MasterCf.parse(spaced);
	ensureSubmission(other);
	assert.equal(other.toString(), spaced);
});

test('ensure rewrites an active entry with other options in place', () => {
	const text = stockMaster() + 'submission inet n - y - - smtpd\n  -o syslog_name=old\n#  -o smtpd_tls_auth_only=yes\n  -o smtpd_tls_security_level=may\nafter     unix  -       -       y       -       -       smtp\n';
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.equal(master.toString(), stockMaster() + WANTED_LINES.join('\n') + '\n#  -o smtpd_tls_auth_only=yes\nafter     unix  -       -       y       -       -       smtp\n');
});

test('ensure keeps the first of two active entries and comments out the other', () => {
	const duplicate = 'submission inet n - y - - smtpd\n  -o syslog_name=second\n';
	const text = stockMaster() + 'submission inet n - - - - smtpd\n  -o syslog_name=first\nmiddle    unix  -       -       y       -       -       smtp\n' + duplicate;
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.equal(master.toString(), stockMaster() + WANTED_LINES.join('\n') + '\nmiddle    unix  -       -       y       -       -       smtp\n#submission inet n - y - - smtpd\n#  -o syslog_name=second\n');
});

test('ensure removes active -o lines stranded under the commented stock block', () => {
	// Someone uncommented the options but not the service line: Postfix hands them to the service above (smtp inet).
	const text = stockMaster().replace('#  -o smtpd_sasl_auth_enable=yes\n', '  -o smtpd_sasl_auth_enable=yes\n');
	assert.notEqual(text, stockMaster());
	assert.deepEqual(MasterCf.parse(text).active('smtp', 'inet')[0].args, ['-o', 'smtpd_sasl_auth_enable=yes']);
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.deepEqual(master.active('smtp', 'inet')[0].args, []);
	assert.equal(master.toString(), MasterCf.parse(stockMaster()).toString().replace(/#submission inet [^]*?(?=# Choose one: enable submissions)/, WANTED_LINES.join('\n') + '\n'));
});

test('ensure comments out stranded -o lines when the active entry is elsewhere', () => {
	const text = 'smtp      inet  n       -       y       -       -       smtpd\n#submission inet n - y - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n#  -o x=y\n\tsmtpd_client_restrictions=\npickup    unix  n       -       y       60      1       pickup\n' +
		WANTED_LINES.join('\n') + '\n';
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.deepEqual(master.active('smtp', 'inet')[0].args, []);
	assert.equal(master.toString(), text.replace('  -o smtpd_sasl_auth_enable=yes', '#  -o smtpd_sasl_auth_enable=yes').replace('\tsmtpd_client', '#\tsmtpd_client'));
});

test('ensure rewrites an entry that is only complete thanks to stranded lines', () => {
	// Postfix reads one correct entry here, but the second half sits under a commented service line.
	const text = `x unix - - y - - smtp\n${WANTED_LINES.slice(0, 3).join('\n')}\n#submission inet n - y - - smtpd\n${WANTED_LINES.slice(3).join('\n')}\n`;
	const master = MasterCf.parse(text);
	assertOneWantedEntry(master);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.equal(master.toString(), `x unix - - y - - smtp\n${WANTED_LINES.join('\n')}\n#submission inet n - y - - smtpd\n`);
});

test('ensure appends an absent entry at the end, adding a missing final newline', () => {
	const text = '# no submission here\nsmtp      inet  n       -       y       -       -       smtpd\n#127.0.0.1:submission inet n -   y       -       -       smtpd';
	const master = MasterCf.parse(text);
	ensureSubmission(master);
	assertOneWantedEntry(master);
	assert.equal(master.toString(), `${text}\n${WANTED_LINES.join('\n')}\n`);
});

test('ensure refuses option values Postfix would split', () => {
	const master = MasterCf.parse('');
	assert.throws(() => master.ensure('submission', 'inet', FIELDS, [['smtpd_client_restrictions', 'permit_sasl_authenticated, reject']]));
	assert.throws(() => master.ensure('submission', 'inet', ['n', '-'], []));
	assert.equal(master.toString(), '');
});

test('postconf sees exactly one submission entry with the wanted options, from every starting point', () => {
	const stock = stockMaster();
	const starts: Record<string, string> = {
		stock,
		live: read(`${LIVE}/master.cf`),
		otherOptions: stock + 'submission inet n - y - - smtpd\n  -o syslog_name=old\n  -o smtpd_tls_security_level=may\n',
		duplicate: stock + 'submission inet n - - - - smtpd\n  -o syslog_name=a\nsubmission inet n - y - - smtpd\n  -o smtpd_sasl_auth_enable=no\n',
		stranded: stock.replace('#  -o smtpd_sasl_auth_enable=yes\n', '  -o smtpd_sasl_auth_enable=yes\n'),
		strandedAndActive: stock.replace('#  -o smtpd_sasl_auth_enable=yes\n', '  -o smtpd_sasl_auth_enable=yes\n') + 'submission inet n - y - - smtpd\n',
		absent: stock.replace(/^#submission inet.*\n/m, ''),
	};
	// The hazard is real: Postfix gives the stranded option to smtp inet.
	assert.equal(postconf(starts.stranded, ['-P', 'smtp/inet/smtpd_sasl_auth_enable']), 'smtp/inet/smtpd_sasl_auth_enable = yes\n');
	for (const [name, text] of Object.entries(starts)) {
		const master = MasterCf.parse(text);
		ensureSubmission(master);
		const result = master.toString();
		assertPostfixSeesSubmission(result);
		assert.equal(postconf(result, ['-P', 'smtp/inet']), '', `${name}: smtp inet got options`);
		assert.equal(postconf(result, ['-M', 'smtp/inet']).trim().split('\n').length, 1, name);
		// The rest of Postfix's view is the stock one.
		const others = (cf: string) => postconf(cf, ['-Mf']).trimEnd().split(/\n(?=\S)/).filter(entry => !entry.startsWith('submission inet'));
		assert.deepEqual(others(result), others(MasterCf.parse(stock).toString()), name);
	}
});

// ---- removeFromList ----

test('removeFromList drops one item, case-insensitively, and keeps the order', () => {
	assert.equal(removeFromList('$myhostname, mail.example.com, localhost.example.com, , localhost', 'mail.example.com'), '$myhostname, localhost.example.com, localhost');
	assert.equal(removeFromList('$myhostname, Mail.Example.COM, localhost', 'mail.example.com'), '$myhostname, localhost');
	assert.equal(removeFromList('a b,c\n\tmail.example.com', 'mail.example.com'), 'a, b, c');
	assert.equal(removeFromList('a, b', 'c'), 'a, b');
	assert.equal(removeFromList('mail.example.com', 'mail.example.com'), '');
	assert.equal(removeFromList('sub.mail.example.com, mail.example.com.org', 'mail.example.com'), 'sub.mail.example.com, mail.example.com.org');
});
