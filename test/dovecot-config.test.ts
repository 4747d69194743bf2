import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {ConfigParseError, DovecotConfig} from '../source/config/dovecot.ts';
import {inRootSync, rootDir} from './helpers/roots.ts';

// Debian 12's pristine Dovecot 2.3 files (from its root): read at test time, never copied into the repo.
const STOCK = path.join(rootDir(12), 'usr/share/dovecot');
/** Debian 12's doveconf -n on a config file of a temp dir. */
const doveconf = (dir: string, config: string) => inRootSync(12, ['doveconf', '-n', '-c', config], {binds: [dir]});
const stock = (name: string) => fs.readFileSync(path.join(STOCK, name), 'utf8');

/** The lines of b that differ from a, for files whose edits keep the line count. */
function changedLines(a: string, b: string): string[] {
	const left = a.split('\n');
	const right = b.split('\n');
	assert.equal(right.length, left.length, 'line count changed');
	return right.filter((line, i) => line !== left[i]);
}

// The mission's step 4, as the dovecot-master stage applies it.
function applyMaster(config: DovecotConfig): void {
	config.set(['service imap-login', 'inet_listener imap'], 'port', '0');
	config.set(['service imap-login', 'inet_listener imaps'], 'port', '993');
	config.set(['service imap-login', 'inet_listener imaps'], 'ssl', 'yes');
	config.set(['service pop3-login', 'inet_listener pop3'], 'port', '0');
	config.set(['service pop3-login', 'inet_listener pop3s'], 'port', '0');
	const lmtp = ['service lmtp', 'unix_listener /var/spool/postfix/private/dovecot-lmtp'];
	config.set(lmtp, 'mode', '0666');
	config.set(lmtp, 'group', 'postfix');
	config.set(lmtp, 'user', 'postfix');
	config.set(['service lmtp'], 'user', 'mail');
	config.set(['service auth', 'unix_listener auth-userdb'], 'mode', '0600');
	config.set(['service auth', 'unix_listener auth-userdb'], 'user', 'mail');
	const auth = ['service auth', 'unix_listener /var/spool/postfix/private/auth'];
	config.set(auth, 'mode', '0666');
	config.set(auth, 'user', 'postfix');
	config.set(auth, 'group', 'postfix');
	config.set(['service auth'], 'user', 'dovecot');
	config.set(['service auth-worker'], 'user', 'mail');
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;

test('every stock Dovecot file round-trips byte for byte', () => {
	const files = ['.', 'conf.d', 'protocols.d'].flatMap(dir =>
		fs.readdirSync(path.join(STOCK, dir)).filter(name => /\.(conf|ext|protocol)$/.test(name)).map(name => path.join(dir, name)),
	);
	assert.ok(files.length >= 30, `only ${files.length} files found`);
	for (const file of files) {
		const text = stock(file);
		assert.equal(DovecotConfig.parse(text, file).toString(), text, file);
	}
});

test('handwritten oddities round-trip: CRLF, no final newline, tabs, trailing spaces, continuation', () => {
	for (const text of [
		'',
		'\n\n',
		'a = 1',
		'a = 1\r\nb {\r\n\tc = 2  \r\n}\r\n',
		'a = 1\nb = 2\r\n# mixed\n',
		'x = one \\\n  two\\\n three\n\n',
		'  \t\n#\n  # c  \nk=v#tail\n',
		'a = 1\r',
	]) {
		assert.equal(DovecotConfig.parse(text).toString(), text, JSON.stringify(text));
	}
});

test('10-master.conf: the step-4 edits land in place', () => {
	const before = stock('conf.d/10-master.conf');
	const config = DovecotConfig.parse(before, '10-master.conf');
	applyMaster(config);
	const after = config.toString();

	// The stock `#port = 143` became the setting, in its own block, not a second block.
	assert.equal(count(after, /^ *inet_listener imap \{$/), 1);
	assert.match(after, /inet_listener imap \{\n {4}port = 0\n {2}\}/);
	assert.match(after, /inet_listener imaps \{\n {4}port = 993\n {4}ssl = yes\n {2}\}/);
	assert.match(after, /inet_listener pop3s \{\n {4}port = 0\n {4}#ssl = yes\n {2}\}/);
	assert.doesNotMatch(after, /#port = (143|993|110|995)/);

	// The Postfix auth socket: the commented block uncommented, not a second one appended.
	assert.equal(count(after, /unix_listener \/var\/spool\/postfix\/private\/auth \{/), 1);
	assert.match(
		after,
		/ {2}# Postfix smtp-auth\n {2}unix_listener \/var\/spool\/postfix\/private\/auth \{\n {4}mode = 0666\n {4}user = postfix\n {4}group = postfix\n {2}\}\n/,
	);
	assert.match(after, /unix_listener auth-userdb \{\n {4}mode = 0600\n {4}user = mail\n {4}#group = \n/);
	assert.match(after, / {2}# Auth process is run as this user\.\n {2}user = dovecot\n\}/);
	assert.match(after, /# \$default_internal_user\.\n {2}user = mail\n\}/);

	// The LMTP socket did not exist: a new block at the end of `service lmtp`; the commented inet block is untouched.
	assert.match(
		after,
		/ {2}#\}\n {2}unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{\n {4}mode = 0666\n {4}group = postfix\n {4}user = postfix\n {2}\}\n {2}user = mail\n\}\n/,
	);
	assert.match(after, / {2}#inet_listener lmtp \{\n {4}# Avoid making LMTP visible for the entire internet\n {4}#address =\n {4}#port = \n/);

	// Every stock comment line that was not a setting or a block line is still there.
	const prose = before.split('\n').filter(line => /^\s*#(\s|$)/.test(line) && !/^\s*#\s*\w+ =/.test(line));
	assert.equal(prose.length, 39);
	for (const line of prose) assert.ok(after.includes(`${line}\n`), `lost: ${line}`);

	assert.equal(config.get(['service imap-login', 'inet_listener imap'], 'port'), '0');
	assert.equal(config.get(['service imap-login', 'inet_listener imaps'], 'port'), '993');
	assert.equal(config.get(['service auth'], 'user'), 'dovecot');
	assert.equal(config.get(['service auth', 'unix_listener /var/spool/postfix/private/auth'], 'user'), 'postfix');
});

test('10-master.conf: applying the same edits twice changes nothing', () => {
	const once = DovecotConfig.parse(stock('conf.d/10-master.conf'));
	applyMaster(once);
	const twice = DovecotConfig.parse(once.toString());
	applyMaster(twice);
	assert.equal(twice.toString(), once.toString());
	applyMaster(once); // and on the same object
	assert.equal(once.toString(), twice.toString());
});

test('10-master.conf after the edits: the real doveconf accepts it and reads the ports', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dovecot-config-'));
	try {
		const tree = path.join(dir, 'dovecot');
		execFileSync('cp', ['-r', STOCK, tree]);
		const config = DovecotConfig.parse(stock('conf.d/10-master.conf'));
		applyMaster(config);
		fs.writeFileSync(path.join(tree, 'conf.d/10-master.conf'), config.toString());
		const run = doveconf(dir, path.join(tree, 'dovecot.conf'));
		assert.equal(run.exitCode, 0, run.stderr);
		// doveconf -n prints Dovecot syntax: read it back with the same parser.
		const dump = DovecotConfig.parse(run.stdout, 'doveconf -n');
		assert.equal(dump.get(['service imap-login', 'inet_listener imap'], 'port'), '0');
		assert.equal(dump.get(['service imap-login', 'inet_listener imaps'], 'port'), '993');
		assert.equal(dump.get(['service imap-login', 'inet_listener imaps'], 'ssl'), 'yes');
		assert.equal(dump.get(['service pop3-login', 'inet_listener pop3'], 'port'), '0');
		assert.equal(dump.get(['service pop3-login', 'inet_listener pop3s'], 'port'), '0');
		assert.equal(dump.get(['service lmtp', 'unix_listener /var/spool/postfix/private/dovecot-lmtp'], 'group'), 'postfix');
		assert.equal(dump.get(['service lmtp'], 'user'), 'mail');
		assert.equal(dump.get(['service auth', 'unix_listener auth-userdb'], 'mode'), '0600');
		assert.equal(dump.get(['service auth', 'unix_listener /var/spool/postfix/private/auth'], 'mode'), '0666');
		assert.equal(dump.get(['service auth'], 'user'), 'dovecot');
		assert.equal(dump.get(['service auth-worker'], 'user'), 'mail');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('an uncommented block keeps its prose and empty placeholders commented (doveconf rejects `port =`)', () => {
	const config = DovecotConfig.parse(stock('conf.d/10-master.conf'));
	config.ensureSection(['service lmtp', 'inet_listener lmtp']);
	const after = config.toString();
	assert.match(after, / {2}inet_listener lmtp \{\n {4}# Avoid making LMTP visible for the entire internet\n {4}#address =\n {4}#port = \n {2}\}\n\}/);
	config.set(['service lmtp', 'inet_listener lmtp'], 'port', '24');
	assert.match(config.toString(), /\n {4}port = 24\n {2}\}\n\}/);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dovecot-config-'));
	try {
		execFileSync('cp', ['-r', STOCK, `${dir}/d`]);
		fs.writeFileSync(`${dir}/d/conf.d/10-master.conf`, config.toString());
		const run = doveconf(dir, `${dir}/d/dovecot.conf`);
		assert.equal(run.exitCode, 0, run.stderr);
		assert.equal(DovecotConfig.parse(run.stdout).get(['service lmtp', 'inet_listener lmtp'], 'port'), '24');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('nested commented blocks are uncommented as a whole (10-tcpwrapper.conf)', () => {
	const before = stock('conf.d/10-tcpwrapper.conf');
	const config = DovecotConfig.parse(before);
	assert.equal(config.hasSection(['service tcpwrap']), false);
	config.set(['service tcpwrap', 'unix_listener login/tcpwrap'], 'mode', '0660');
	assert.deepEqual(changedLines(before, config.toString()), [
		'service tcpwrap {',
		'  unix_listener login/tcpwrap {',
		'    group = $default_login_user',
		'    mode = 0660',
		'    user = $default_login_user',
		'  }',
		'}',
	]);
	assert.equal(config.get(['service tcpwrap', 'unix_listener login/tcpwrap'], 'group'), '$default_login_user');
});

test('10-auth.conf: switching from system to SQL auth changes exactly two lines', () => {
	const before = stock('conf.d/10-auth.conf');
	const config = DovecotConfig.parse(before);
	assert.deepEqual(
		config.includes().filter(include => /auth-(sql|system)/.test(include.file)),
		[
			{file: 'auth-system.conf.ext', active: true, optional: false},
			{file: 'auth-sql.conf.ext', active: false, optional: false},
		],
	);
	config.setInclude('auth-system.conf.ext', false);
	config.setInclude('auth-sql.conf.ext', true);
	assert.deepEqual(changedLines(before, config.toString()), ['#!include auth-system.conf.ext', '!include auth-sql.conf.ext']);
	assert.deepEqual(
		config.includes().filter(include => include.active).map(include => include.file),
		['auth-sql.conf.ext'],
	);
	const again = config.toString();
	config.setInclude('auth-system.conf.ext', false);
	config.setInclude('auth-sql.conf.ext', true);
	assert.equal(config.toString(), again);
});

test('includes(): active, optional and commented, in file order; setInclude appends a missing one', () => {
	const config = DovecotConfig.parse('!include_try /usr/share/dovecot/protocols.d/*.protocol\n#!include a.conf\n!include conf.d/*.conf\nx {\n  !include b.conf\n}\n');
	assert.deepEqual(config.includes(), [
		{file: '/usr/share/dovecot/protocols.d/*.protocol', active: true, optional: true},
		{file: 'a.conf', active: false, optional: false},
		{file: 'conf.d/*.conf', active: true, optional: false},
		{file: 'b.conf', active: true, optional: false},
	]);
	config.setInclude('new.conf', true);
	config.setInclude('b.conf', false);
	config.setInclude('never.conf', false);
	assert.equal(
		config.toString(),
		'!include_try /usr/share/dovecot/protocols.d/*.protocol\n#!include a.conf\n!include conf.d/*.conf\nx {\n  #!include b.conf\n}\n!include new.conf\n',
	);
});

test('unbalanced braces throw ConfigParseError with file and line, in both directions', () => {
	const extra = () => DovecotConfig.parse('a = 1\nservice x {\n}\n}\nb = 2\n', '/etc/dovecot/conf.d/10-master.conf');
	assert.throws(extra, (error: unknown) => {
		assert.ok(error instanceof ConfigParseError);
		assert.equal(error.file, '/etc/dovecot/conf.d/10-master.conf');
		assert.equal(error.line, 4);
		assert.match(error.message, /10-master\.conf line 4: unexpected '\}'/);
		return true;
	});
	const missing = () => DovecotConfig.parse('service x {\n  inet_listener y {\n    port = 1\n}\n', 'm.conf');
	assert.throws(missing, (error: unknown) => error instanceof ConfigParseError && error.line === 1 && error.file === 'm.conf' && /never closed/.test(error.message));
	const inner = () => DovecotConfig.parse('a {\n}\nb {\n  c {\n  d {\n  }\n}\n', 'n.conf');
	assert.throws(inner, (error: unknown) => error instanceof ConfigParseError && error.line === 3);
});

test('lines Dovecot itself rejects throw too', () => {
	assert.throws(() => DovecotConfig.parse('a = 1\nservice imap-login\n', 'f'), (error: unknown) => error instanceof ConfigParseError && error.line === 2);
	assert.throws(() => DovecotConfig.parse('x {\n} }\n', 'f'), (error: unknown) => error instanceof ConfigParseError && error.line === 2);
});

test('braces inside comments, quotes and values do not count', () => {
	const config = DovecotConfig.parse('a = %{user}\nb = "}" # {\n# service x {\nc { # the c section\n  d = x{\n} # end\n');
	assert.equal(config.get([], 'a'), '%{user}');
	assert.equal(config.get([], 'b'), '"}"');
	assert.equal(config.get(['c'], 'd'), 'x{');
	assert.equal(config.hasSection(['c']), true);
});

test('CRLF files stay CRLF, also on edited and added lines', () => {
	const config = DovecotConfig.parse('a = 1\r\nsvc x {\r\n  p = 1\r\n}\r\n');
	config.set([], 'a', '2');
	config.set(['svc x'], 'q', '3');
	config.set(['svc y'], 'r', '4');
	assert.equal(config.toString(), 'a = 2\r\nsvc x {\r\n  p = 1\r\n  q = 3\r\n}\r\nsvc y {\r\n  r = 4\r\n}\r\n');
});

test('a file without final newline keeps that, edited or appended to', () => {
	const config = DovecotConfig.parse('a = 1\nb = 2');
	config.set([], 'b', '3');
	assert.equal(config.toString(), 'a = 1\nb = 3');
	config.set([], 'c', '4');
	assert.equal(config.toString(), 'a = 1\nb = 3\nc = 4');
	const empty = DovecotConfig.parse('');
	empty.set([], 'x', 'y');
	assert.equal(empty.toString(), 'x = y\n');
});

test('set replaces only the value: indentation, spacing, tabs and a trailing comment stay', () => {
	const config = DovecotConfig.parse('s {\n\tport\t=  143   # the default\n  key=v\n  empty =\n}\n');
	config.set(['s'], 'port', '0');
	config.set(['s'], 'key', 'w');
	config.set(['s'], 'empty', 'full');
	assert.equal(config.toString(), 's {\n\tport\t=  0   # the default\n  key=w\n  empty = full\n}\n');
	assert.equal(config.get(['s'], 'port'), '0');
});

test('an equal value changes nothing, even in spacing', () => {
	const text = 'a =   yes   \nb {\n  c =  x  # keep\n}\n';
	const config = DovecotConfig.parse(text);
	config.set([], 'a', 'yes');
	config.set(['b'], 'c', '  x ');
	assert.equal(config.toString(), text);
});

test('quoted values are raw text; a # inside quotes is not a comment', () => {
	const config = DovecotConfig.parse(`a = "x # y" # real comment\nb = 'it''s'\nc = "He said \\"hi\\""\n`);
	assert.equal(config.get([], 'a'), '"x # y"');
	assert.equal(config.get([], 'b'), "'it''s'");
	assert.equal(config.get([], 'c'), '"He said \\"hi\\""');
	config.set([], 'a', '"p#ss word"');
	assert.equal(config.toString().split('\n')[0], 'a = "p#ss word" # real comment');
});

test('set refuses values Dovecot would read back differently', () => {
	const config = DovecotConfig.parse('a = 1\n');
	assert.throws(() => config.set([], 'a', 'pass #word'), /quote it/);
	assert.throws(() => config.set([], 'a', 'one\ntwo'), /quote it/);
	assert.throws(() => config.set([], 'a', 'ends \\'), /quote it/);
	assert.equal(config.toString(), 'a = 1\n');
});

test('<file and $variable values', () => {
	const config = DovecotConfig.parse('ssl_cert = </etc/dovecot/private/dovecot.pem\n#ssl_key = </etc/dovecot/private/dovecot.key\nuser = $default_internal_user\n');
	assert.equal(config.get([], 'ssl_cert'), '</etc/dovecot/private/dovecot.pem');
	assert.equal(config.get([], 'user'), '$default_internal_user');
	assert.equal(config.get([], 'ssl_key'), undefined);
	config.set([], 'ssl_cert', '</etc/ssl/certs/cloud.crt');
	config.set([], 'ssl_key', '</etc/ssl/private/cloud.key');
	assert.equal(config.toString(), 'ssl_cert = </etc/ssl/certs/cloud.crt\nssl_key = </etc/ssl/private/cloud.key\nuser = $default_internal_user\n');
});

test('continued lines: get joins them, set makes one line, comment covers every physical line', () => {
	const text = 'password_query = \\\n  SELECT a, b \\\n  FROM t # why\nnext = 1\n';
	const config = DovecotConfig.parse(text);
	assert.equal(config.get([], 'password_query'), 'SELECT a, b FROM t');
	assert.equal(config.get([], 'next'), '1');
	config.set([], 'password_query', 'SELECT 1');
	assert.equal(config.toString(), 'password_query = SELECT 1\nnext = 1\n');

	const same = DovecotConfig.parse(text);
	same.set([], 'password_query', 'SELECT a, b FROM t');
	assert.equal(same.toString(), text, 'an equal continued value stays as written');

	const other = DovecotConfig.parse(text);
	other.comment([], 'password_query');
	assert.equal(other.toString(), '#password_query = \\\n  #SELECT a, b \\\n  #FROM t # why\nnext = 1\n');
	assert.equal(other.get([], 'password_query'), undefined);
	assert.equal(other.get([], 'next'), '1');
});

test('a commented continued example: only its first line is a placeholder (dovecot-sql.conf.ext)', () => {
	const before = stock('dovecot-sql.conf.ext');
	const config = DovecotConfig.parse(before);
	config.set([], 'driver', 'mysql');
	config.set([], 'connect', 'host=localhost dbname=mailserver user=mailuser password=secret');
	config.set([], 'password_query', "SELECT email as user, password FROM virtual_users WHERE email='%u';");
	// The `#connect =` placeholder, not the `#   connect = host=192.168.1.1` example in the prose above it.
	assert.deepEqual(changedLines(before, config.toString()), [
		'driver = mysql',
		'connect = host=localhost dbname=mailserver user=mailuser password=secret',
		"password_query = SELECT email as user, password FROM virtual_users WHERE email='%u';",
	]);
	const lines = config.toString().split('\n');
	assert.equal(lines[73], 'connect = host=localhost dbname=mailserver user=mailuser password=secret');
	assert.equal(lines[69], '#   connect = host=192.168.1.1 dbname=users');
	assert.equal(lines[110], '#  SELECT username, domain, password \\', 'the commented continuation stays a comment');
	assert.equal(config.get([], 'password_query'), "SELECT email as user, password FROM virtual_users WHERE email='%u';");
});

test('rule 1: the last active setting wins and earlier duplicates get commented out', () => {
	const config = DovecotConfig.parse('s {\n  a = 1\n  b = 0\n  a = 2\n}\na = top\n');
	assert.equal(config.get(['s'], 'a'), '2');
	config.set(['s'], 'a', '3');
	assert.equal(config.toString(), 's {\n  #a = 1\n  b = 0\n  a = 3\n}\na = top\n');
	assert.equal(config.get([], 'a'), 'top');
});

test('rule 2: the first commented line is activated in place, and keys are case-sensitive', () => {
	const config = DovecotConfig.parse('# prose: set a = 1 here\n  ##A = 9\n#a = 1\n#a = 2\n');
	config.set([], 'a', '5');
	assert.equal(config.toString(), '# prose: set a = 1 here\n  ##A = 9\na = 5\n#a = 2\n');
	config.set([], 'A', '7');
	assert.equal(config.toString(), '# prose: set a = 1 here\n  A = 7\na = 5\n#a = 2\n');
	// `# key` (hash, one space) loses the space too; `#  key` keeps its column, as in Debian's commented blocks.
	const spaced = DovecotConfig.parse('# b = 1\ns {\n  #  c = 1\n}\n');
	spaced.set([], 'b', '2');
	spaced.set(['s'], 'c', '2');
	assert.equal(spaced.toString(), 'b = 2\ns {\n    c = 2\n}\n');
});

test('comment() comments every active occurrence in that section only, and is a no-op without one', () => {
	const text = 'a = 1\ns {\n  a = 2\n  a = 3\n  #a = 4\n}\n';
	const config = DovecotConfig.parse(text);
	config.comment(['s'], 'missing');
	config.comment(['t'], 'a');
	assert.equal(config.toString(), text);
	config.comment(['s'], 'a');
	assert.equal(config.toString(), 'a = 1\ns {\n  #a = 2\n  #a = 3\n  #a = 4\n}\n');
	assert.equal(config.get(['s'], 'a'), undefined);
	assert.equal(config.get([], 'a'), '1');
});

test('same key in sibling sections is never confused', () => {
	const text = 'service imap-login {\n  inet_listener imap {\n    port = 143\n  }\n  inet_listener imaps {\n    #port = 993\n  }\n  port = 7\n}\n';
	const config = DovecotConfig.parse(text);
	assert.equal(config.get(['service imap-login', 'inet_listener imaps'], 'port'), undefined);
	assert.equal(config.get(['service imap-login'], 'port'), '7');
	config.set(['service imap-login', 'inet_listener imaps'], 'port', '993');
	config.set(['service imap-login', 'inet_listener imap'], 'port', '0');
	assert.equal(config.toString(), text.replace('port = 143', 'port = 0').replace('#port = 993', 'port = 993'));
	assert.equal(config.get(['service imap-login'], 'port'), '7');
});

test('2.4-style nested blocks: passdb sql, userdb static { fields }, mysql localhost', () => {
	const text = [
		'dovecot_config_version = 2.4.0',
		'sql_driver = mysql',
		'mysql localhost {',
		'  user = x',
		'}',
		'passdb sql {',
		"  query = SELECT email AS user, password FROM virtual_users WHERE email = '%{user}'",
		'}',
		'userdb static {',
		'  fields {',
		'    uid = mail',
		'  }',
		'}',
		'',
	].join('\n');
	const config = DovecotConfig.parse(text, 'auth-sql.conf.ext');
	assert.equal(config.get(['mysql localhost'], 'user'), 'x');
	assert.equal(config.get([], 'user'), undefined);
	assert.equal(config.get(['passdb sql'], 'query'), "SELECT email AS user, password FROM virtual_users WHERE email = '%{user}'");
	assert.equal(config.get(['userdb static', 'fields'], 'uid'), 'mail');
	assert.equal(config.get(['userdb static'], 'uid'), undefined);
	assert.equal(config.hasSection(['fields']), false);
	assert.equal(config.hasSection(['userdb static', 'fields']), true);
	assert.equal(config.hasSection(['passdb']), false, 'passdb sql is not passdb');

	config.set(['userdb static', 'fields'], 'gid', 'mail');
	config.set(['mysql localhost'], 'password', '"p w"');
	config.set(['passdb sql'], 'default_password_scheme', 'SHA512-CRYPT');
	config.set(['userdb   static'], 'driver_hint', 'y');
	const lines = config.toString().split('\n');
	assert.deepEqual(lines.slice(2, 19), [
		'mysql localhost {',
		'  user = x',
		'  password = "p w"',
		'}',
		'passdb sql {',
		"  query = SELECT email AS user, password FROM virtual_users WHERE email = '%{user}'",
		'  default_password_scheme = SHA512-CRYPT',
		'}',
		'userdb static {',
		'  fields {',
		'    uid = mail',
		'    gid = mail',
		'  }',
		'  driver_hint = y',
		'}',
		'',
	].slice(0, 17));
});

test('ensureSection appends new blocks with the right indentation, at top level at the end of the file', () => {
	const config = DovecotConfig.parse('a = 1\nservice lmtp {\n  unix_listener lmtp {\n  }\n}\nb = 2\n');
	config.ensureSection(['service lmtp', 'unix_listener /var/spool/postfix/private/dovecot-lmtp']);
	config.ensureSection(['passdb sql']);
	config.ensureSection(['userdb static', 'fields']);
	config.set(['service lmtp', 'unix_listener lmtp'], 'mode', '0600');
	config.set(['service lmtp', 'unix_listener /var/spool/postfix/private/dovecot-lmtp'], 'mode', '0666');
	assert.equal(
		config.toString(),
		[
			'a = 1',
			'service lmtp {',
			'  unix_listener lmtp {',
			'    mode = 0600',
			'  }',
			'  unix_listener /var/spool/postfix/private/dovecot-lmtp {',
			'    mode = 0666',
			'  }',
			'}',
			'b = 2',
			'passdb sql {',
			'}',
			'userdb static {',
			'  fields {',
			'  }',
			'}',
			'',
		].join('\n'),
	);
	const text = config.toString();
	config.ensureSection(['userdb static', 'fields']);
	assert.equal(config.toString(), text);
});

test('a tab-indented file gets tab-indented additions', () => {
	const config = DovecotConfig.parse('s {\n\tt {\n\t}\n}\n');
	config.set(['s', 't'], 'k', 'v');
	config.set(['s', 'u'], 'k', 'v');
	assert.equal(config.toString(), 's {\n\tt {\n\t\tk = v\n\t}\n\tu {\n\t\tk = v\n\t}\n}\n');
});

test('section headers are matched whitespace-normalised, names with slashes and quotes included', () => {
	const config = DovecotConfig.parse('service   auth  {\n  unix_listener\t/var/spool/postfix/private/auth {\n  }\n}\nnamespace inbox {\n  mailbox "Sent Messages" {\n    special_use = \\Sent\n  }\n  #mailbox virtual/All {\n  #  special_use = \\All\n  #}\n}\n');
	assert.equal(config.hasSection(['service auth', 'unix_listener /var/spool/postfix/private/auth']), true);
	assert.equal(config.hasSection([' service auth ', 'unix_listener  /var/spool/postfix/private/auth']), true);
	assert.equal(config.get(['namespace  inbox', ' mailbox "Sent Messages" '], 'special_use'), '\\Sent');
	assert.equal(config.get(['namespace inbox', 'mailbox "Sent Messages"'], 'special_use'), '\\Sent');
	assert.equal(config.hasSection(['namespace inbox', 'mailbox virtual/All']), false);
	config.set(['namespace inbox', 'mailbox virtual/All'], 'auto', 'subscribe');
	assert.equal(config.get(['namespace inbox', 'mailbox virtual/All'], 'special_use'), '\\All');
	assert.match(config.toString(), /\n {2}mailbox virtual\/All \{\n {4}special_use = \\All\n {4}auto = subscribe\n {2}\}\n\}\n$/);
	config.set(['service auth', 'unix_listener /var/spool/postfix/private/auth'], 'mode', '0666');
	assert.match(config.toString(), /^service {3}auth {2}\{\n {2}unix_listener\t\/var\/spool\/postfix\/private\/auth \{\n {4}mode = 0666\n {2}\}\n/);
});

test('a commented block is only used when it sits directly in the wanted parent', () => {
	const text = 'service a {\n  #unix_listener sock {\n  #  mode = 1\n  #}\n}\nservice b {\n}\n';
	const config = DovecotConfig.parse(text);
	config.set(['service b', 'unix_listener sock'], 'mode', '2');
	assert.equal(config.toString(), 'service a {\n  #unix_listener sock {\n  #  mode = 1\n  #}\n}\nservice b {\n  unix_listener sock {\n    mode = 2\n  }\n}\n');
	// And a commented setting inside a commented block is not a placeholder of the enclosing section.
	config.set(['service a'], 'mode', '3');
	assert.match(config.toString(), /^service a \{\n {2}#unix_listener sock \{\n {2}# {2}mode = 1\n {2}#\}\n {2}mode = 3\n\}\n/);
});
