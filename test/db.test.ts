// The database step against a real, private MariaDB: create, check, rerun, and each failure's message.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {after, before, test} from 'node:test';
import mysql, {type Connection, type RowDataPacket} from 'mysql2/promise';
import {checkDatabase, createDatabase, explain, nativePasswordHash, planCreate, validIdentifier, type CreateSpec, type DbReport} from '../source/db/database.ts';
import {startMariaDB, type MariaDB} from './helpers/mariadb.ts';
import {freePort as closedPort} from './helpers/ports.ts';
import {inRootSync} from './helpers/roots.ts';

// Spaces and both kinds of quotes and a backslash: the password that breaks naive quoting anywhere.
const DB_PASSWORD = `p a'ss"w\\rd`;
const TEST_PASSWORD = `mail "box' pw`;

let db: MariaDB;
let spec: CreateSpec;
/** Every report and message produced, to prove no secret ever shows. */
const seen: string[] = [];
const keep = (report: DbReport): DbReport => {
	seen.push(report.message, ...report.details);
	return report;
};

async function asRoot<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
	const c = await mysql.createConnection({socketPath: db.socket, user: 'root'});
	try {
		return await fn(c);
	} finally {
		await c.end();
	}
}

const rows = async (sql: string, params: string[] = []) => asRoot(async c => (await c.query<RowDataPacket[]>(sql, params))[0]);

const since = (start: number) => Date.now() - start;


before(async () => {
	// Name resolution off: a TCP login then lands on 'mailuser'@'127.0.0.1' (Postfix's account), not on 'mailuser'@'localhost'.
	db = await startMariaDB({args: ['--skip-name-resolve']});
	spec = {
		host: 'localhost',
		name: 'mail_server',
		user: 'mailuser',
		password: DB_PASSWORD,
		socketPath: db.socket,
		port: db.port,
		domain: 'example.com',
		testUser: 'test@example.com',
		testPassword: TEST_PASSWORD,
	};
});

after(async () => {
	await db?.stop();
});

test('before anything exists, the check fails with access denied and points at --db-create', async () => {
	const report = keep(await checkDatabase(spec, spec.testUser));
	assert.equal(report.ok, false);
	assert.match(report.message, /access denied for database user mailuser/);
	assert.match(report.message, /--db-create/);
});

test('create on an empty server: database, both accounts with SELECT only, three tables, domain, mailbox', async t => {
	const start = Date.now();
	const report = keep(await createDatabase(spec));
	t.diagnostic(`create took ${since(start)} ms`);
	assert.equal(report.ok, true, report.message);
	assert.match(report.message, /created 10 missing/);
	for (const what of ['database mail_server', 'user mailuser@localhost', 'user mailuser@127.0.0.1', 'table virtual_users', 'domain example.com', 'test mailbox test@example.com']) {
		assert.ok(report.details.includes(`created ${what}`), what);
	}
	for (const host of ['localhost', '127.0.0.1']) {
		const grants = (await rows(`SHOW GRANTS FOR 'mailuser'@'${host}'`)).map(row => String(Object.values(row)[0]));
		assert.equal(grants.length, 2, grants.join('\n'));
		assert.match(grants[0]!, /^GRANT USAGE ON \*\.\* TO `mailuser`@`[^`]+` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'$/);
		assert.equal(grants[1], `GRANT SELECT ON \`mail\\_server\`.* TO \`mailuser\`@\`${host}\``);
	}
	const tables = (await rows("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mail_server' ORDER BY 1")).map(row => row.t);
	assert.deepEqual(tables, ['virtual_aliases', 'virtual_domains', 'virtual_users']);
	const [users] = await rows('SELECT u.email, u.password, d.name FROM mail_server.virtual_users u JOIN mail_server.virtual_domains d ON d.id = u.domain_id');
	assert.equal(users!.email, 'test@example.com');
	assert.equal(users!.name, 'example.com');
	assert.match(users!.password, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
	const [charset] = await rows("SELECT DEFAULT_CHARACTER_SET_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'mail_server'");
	assert.equal(charset!.c, 'utf8mb4');
});

test('the DB user (password with spaces and quotes) logs in over the socket and over TCP, reads, and cannot write', async () => {
	const ways = [
		{how: {socketPath: db.socket}, account: 'mailuser@localhost'},
		{how: {host: '127.0.0.1', port: db.port}, account: 'mailuser@127.0.0.1'},
	];
	for (const {how, account} of ways) {
		const c = await mysql.createConnection({...how, user: 'mailuser', password: DB_PASSWORD, database: 'mail_server'});
		try {
			const [[me]] = await c.query<RowDataPacket[]>('SELECT CURRENT_USER() AS me');
			assert.equal(me!.me, account);
			const [found] = await c.execute<RowDataPacket[]>('SELECT email AS user, password FROM virtual_users WHERE email = ?', ['test@example.com']);
			assert.equal(found.length, 1);
			await assert.rejects(c.query("INSERT INTO virtual_domains (name) VALUES ('evil.example')"), {code: 'ER_TABLEACCESS_DENIED_ERROR'});
			await assert.rejects(c.query('CREATE TABLE x (i INT)'), {code: 'ER_TABLEACCESS_DENIED_ERROR'});
		} finally {
			await c.end();
		}
	}
});

test('the stored mailbox hash verifies with doveadm pw -t', async () => {
	const [row] = await rows("SELECT password FROM mail_server.virtual_users WHERE email = 'test@example.com'");
	const ok = inRootSync(12, ['doveadm', 'pw', '-t', `{SHA512-CRYPT}${row!.password}`], {input: `${TEST_PASSWORD}\n`});
	assert.equal(ok.exitCode, 0, ok.stderr);
	assert.match(ok.stdout, /\(verified\)/);
	const wrong = inRootSync(12, ['doveadm', 'pw', '-t', `{SHA512-CRYPT}${row!.password}`], {input: 'not it\n'});
	assert.notEqual(wrong.exitCode, 0);
});

test('check: both routes, domains, mailbox count, the test mailbox and its scheme', async t => {
	const start = Date.now();
	const report = keep(await checkDatabase(spec, spec.testUser, spec.testPassword));
	t.diagnostic(`check took ${since(start)} ms`);
	assert.equal(report.ok, true, report.message);
	assert.ok(report.details.includes(`Unix socket ${db.socket} (as Dovecot): logged in as mailuser@localhost`), report.details.join('\n'));
	assert.ok(report.details.includes(`127.0.0.1:${db.port} over TCP (as Postfix): logged in as mailuser@127.0.0.1`), report.details.join('\n'));
	assert.ok(report.details.includes('domains: example.com'));
	assert.ok(report.details.includes('mailboxes: 1'));
	assert.ok(report.details.includes('test mailbox test@example.com: present, SHA512-CRYPT'));
	assert.ok(report.details.includes('test mailbox test@example.com: password matches'));

	const plain = keep(await checkDatabase(spec));
	assert.equal(plain.ok, true);
	const other = keep(await checkDatabase(spec, spec.testUser, 'not the mailbox pw 9'));
	assert.equal(other.ok, false);
	assert.match(other.message, /does not match/);
	const absent = keep(await checkDatabase(spec, 'nobody@example.com'));
	assert.equal(absent.ok, false);
	assert.match(absent.message, /nobody@example\.com is not in virtual_users/);
	assert.ok(absent.details.includes('test mailbox nobody@example.com: absent'));
});

test('check accepts a {SHA512-CRYPT}-prefixed hash and refuses a bare non-SHA512 one', async () => {
	const [row] = await rows("SELECT password FROM mail_server.virtual_users WHERE email = 'test@example.com'");
	await rows(
		"INSERT INTO mail_server.virtual_users (domain_id, email, password) SELECT id, 'prefixed@example.com', ? FROM mail_server.virtual_domains WHERE name = 'example.com'",
		[`{SHA512-CRYPT}${row!.password}`],
	);
	await rows("INSERT INTO mail_server.virtual_users (domain_id, email, password) SELECT id, 'md5@example.com', '$1$abc$0123456789abcdefghijkl' FROM mail_server.virtual_domains");
	try {
		const prefixed = keep(await checkDatabase(spec, 'prefixed@example.com', TEST_PASSWORD));
		assert.equal(prefixed.ok, true, prefixed.message);
		assert.ok(prefixed.details.includes('test mailbox prefixed@example.com: present, SHA512-CRYPT'));
		assert.ok(prefixed.details.includes('mailboxes: 3'));
		const md5 = keep(await checkDatabase(spec, 'md5@example.com'));
		assert.equal(md5.ok, false);
		assert.match(md5.message, /not a SHA512-CRYPT hash/);
	} finally {
		await rows("DELETE FROM mail_server.virtual_users WHERE email IN ('prefixed@example.com', 'md5@example.com')");
	}
});

test('a rerun creates nothing and changes nothing', async () => {
	const snapshot = () =>
		Promise.all([
			rows('SELECT * FROM mail_server.virtual_domains ORDER BY id'),
			rows('SELECT * FROM mail_server.virtual_users ORDER BY id'),
			rows("SELECT Host, authentication_string FROM mysql.user WHERE User = 'mailuser' ORDER BY Host"),
			rows("SELECT * FROM mysql.db WHERE User = 'mailuser' ORDER BY Host"),
		]);
	const earlier = await snapshot();
	const report = keep(await createDatabase(spec));
	assert.equal(report.ok, true);
	assert.equal(report.message, 'database mail_server: nothing to create');
	assert.deepEqual(report.details, []);
	assert.deepEqual(await snapshot(), earlier);
});

test('a rerun with another test or DB password alters nothing and says the mailbox kept its password', async () => {
	const [earlier] = await rows("SELECT password FROM mail_server.virtual_users WHERE email = 'test@example.com'");
	const report = keep(await createDatabase({...spec, password: 'a new db pw', testPassword: 'a new mailbox pw'}));
	assert.equal(report.ok, true);
	assert.match(report.message, /nothing to create/);
	assert.ok(report.details.includes('test mailbox test@example.com existed with another password; left as it is'));
	const [afterRow] = await rows("SELECT password FROM mail_server.virtual_users WHERE email = 'test@example.com'");
	assert.equal(afterRow!.password, earlier!.password);
	const [account] = await rows("SELECT authentication_string AS a FROM mysql.user WHERE User = 'mailuser' AND Host = 'localhost'");
	assert.equal(account!.a, nativePasswordHash(DB_PASSWORD));
});

test('only the missing parts are added to a half-made database; its data stays', async () => {
	await asRoot(async c => {
		await c.query('CREATE DATABASE half');
		await c.query('CREATE TABLE half.virtual_domains (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)');
		await c.query("INSERT INTO half.virtual_domains (name) VALUES ('keep.example')");
		await c.query("GRANT SELECT ON half.* TO 'mailuser'@'localhost', 'mailuser'@'127.0.0.1'");
	});
	const half = {...spec, name: 'half'};
	const missing = keep(await checkDatabase(half, spec.testUser));
	assert.equal(missing.ok, false);
	assert.match(missing.message, /a table is missing in half \(Table 'half\.virtual_users' doesn't exist\): --db-create/);

	const report = keep(await createDatabase(half));
	assert.equal(report.ok, true, report.message);
	assert.deepEqual(report.details, ['created table virtual_users', 'created table virtual_aliases', 'created domain example.com', 'created test mailbox test@example.com']);
	const domains = (await rows('SELECT name FROM half.virtual_domains ORDER BY id')).map(row => row.name);
	assert.deepEqual(domains, ['keep.example', 'example.com']);
	const grants = (await rows("SHOW GRANTS FOR 'mailuser'@'localhost'")).map(row => String(Object.values(row)[0]));
	assert.ok(grants.includes('GRANT SELECT ON `half`.* TO `mailuser`@`localhost`'), 'the existing grant is kept, not replaced');
	assert.equal(keep(await checkDatabase(half, spec.testUser, TEST_PASSWORD)).ok, true);
});

test('wrong DB password: access denied, and the password is not in the message', async () => {
	const report = keep(await checkDatabase({...spec, password: 'wrong pw 123'}, spec.testUser));
	assert.equal(report.ok, false);
	assert.match(report.message, /^access denied for database user mailuser over the Unix socket/);
	assert.doesNotMatch(report.message, /wrong pw 123/);
});

test('unknown database: says it does not exist or lacks a grant, and suggests --db-create', async () => {
	const report = keep(await checkDatabase({...spec, name: 'no_such_db'}, spec.testUser));
	assert.equal(report.ok, false);
	assert.match(report.message, /database no_such_db does not exist.*--db-create/);
});

test('root not reachable over the socket (not OS root): says so and how to fix it', async () => {
	const code = `import {createDatabase} from ${JSON.stringify(path.resolve('source/db/database.ts'))};
		const spec = ${JSON.stringify({...spec, name: 'as_nobody'})};
		console.log(JSON.stringify(await createDatabase(spec)));`;
	const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000});
	assert.equal(child.status, 0, child.stderr);
	const report = keep(JSON.parse(child.stdout) as DbReport);
	assert.equal(report.ok, false);
	assert.match(report.message, /^MariaDB root is not reachable over the Unix socket .* as OS user nobody .*run mail-setup as root/);
	assert.deepEqual(await rows("SHOW DATABASES LIKE 'as\\_nobody'"), []);
});

test('a silent DB host: a clear timeout message within a few seconds', async () => {
	// Accepts TCP and never sends the handshake, like a firewalled or wedged host.
	const sockets: net.Socket[] = [];
	const silent = net.createServer(socket => sockets.push(socket));
	await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
	const {port} = silent.address() as net.AddressInfo;
	try {
		const start = Date.now();
		const report = keep(await checkDatabase({...spec, host: '127.0.0.1', port}, spec.testUser));
		assert.ok(since(start) < 8000, `${since(start)} ms`);
		assert.equal(report.ok, false);
		assert.match(report.message, /^cannot reach the database host at 127\.0\.0\.1:\d+ over TCP .*\(ETIMEDOUT\): check the database host/);
	} finally {
		for (const socket of sockets) socket.destroy();
		silent.close();
	}
});

test('a remote database host: --db-create refuses, the check goes over TCP only', async () => {
	const report = keep(await createDatabase({...spec, host: 'db.example.com'}));
	assert.equal(report.ok, false);
	assert.match(report.message, /only on this machine's MariaDB/);
	const tcp = keep(await checkDatabase({...spec, host: '127.0.0.1'}, spec.testUser));
	assert.equal(tcp.ok, true, tcp.message);
	assert.equal(tcp.details.filter(line => line.includes('logged in as')).length, 1);
});

test('planCreate: every statement, secrets as ***, nothing run; bad identifiers refused', async () => {
	const plan = planCreate({...spec, name: 'planned_only'});
	assert.equal(plan.length, 10);
	assert.equal(plan[0], 'CREATE DATABASE IF NOT EXISTS `planned_only` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;');
	assert.equal(plan.filter(sql => sql.includes("IDENTIFIED VIA mysql_native_password USING '***'")).length, 2);
	assert.match(plan[9]!, /^INSERT INTO `planned_only`\.virtual_users .*'test@example\.com', '\*\*\*'/);
	seen.push(...plan);
	assert.deepEqual(await rows("SHOW DATABASES LIKE 'planned\\_only'"), []);

	for (const bad of ['', 'mail-db', 'a`b', "a'b", 'x'.repeat(65), 'mail db']) assert.equal(validIdentifier(bad), false, bad);
	for (const good of ['mailserver', 'mail_server', 'M$1', 'x'.repeat(64)]) assert.equal(validIdentifier(good), true, good);
	const refused = keep(await createDatabase({...spec, name: 'x`; DROP DATABASE mysql; --'}));
	assert.equal(refused.ok, false);
	assert.match(refused.message, /may hold only letters, digits, _ and \$/);
	assert.match(planCreate({...spec, user: 'bad user'})[0]!, /^-- cannot plan: database user/);
});

test('server down (stale socket, stopped server, refused port) or TCP off: each said plainly, within 15 s', async () => {
	// A socket file nobody listens on, as a killed server leaves behind.
	const stale = path.join(db.dir, 'stale.sock');
	const listenAndDie = `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`;
	spawnSync(process.execPath, ['-e', listenAndDie]);
	assert.ok(fs.existsSync(stale));
	const staleReport = keep(await checkDatabase({...spec, socketPath: stale}, spec.testUser));
	assert.match(staleReport.message, /^cannot connect to MariaDB at Unix socket .*stale\.sock \(as Dovecot\): the server is not running; start it: systemctl start mariadb \(without systemd: mariadbd --user=mysql &\)$/);

	// The socket answers, TCP is refused: networking is off, which only Postfix notices.
	const noTcp = keep(await checkDatabase({...spec, port: await closedPort()}, spec.testUser));
	assert.match(noTcp.message, /^cannot connect to 127\.0\.0\.1:\d+ over TCP \(as Postfix\): MariaDB answers on its Unix socket but refuses TCP, which Postfix needs/);

	await db.stop();
	const start = Date.now();
	const check = keep(await checkDatabase(spec, spec.testUser));
	const create = keep(await createDatabase(spec));
	assert.ok(since(start) < 15_000);
	for (const report of [check, create]) {
		assert.equal(report.ok, false);
		assert.match(report.message, /^cannot connect to MariaDB at Unix socket .*: the server is not running; start it: systemctl start mariadb/);
	}
	const tcp = keep(await checkDatabase({...spec, host: '127.0.0.1'}));
	assert.match(tcp.message, /^cannot connect to MariaDB at 127\.0\.0\.1:\d+ over TCP.*not running/);
});

test('a one-letter DB password does not mangle messages; server text that echoes a secret is masked', async () => {
	const report = keep(await checkDatabase({...spec, password: 'p', socketPath: '/nonexistent/mysqld.sock'}));
	assert.match(report.message, /^cannot connect to MariaDB at Unix socket \/nonexistent\/mysqld\.sock \(as Dovecot\): the server is not running/);
	const who = {route: {label: 'Unix socket /x', options: {}, local: true}, user: 'mailuser'};
	const message = explain({code: 'ER_SOMETHING_NEW', sqlMessage: `odd: ${DB_PASSWORD} echoed`}, who, [DB_PASSWORD]);
	assert.equal(message, 'database error over the Unix socket /x: ER_SOMETHING_NEW odd: *** echoed');
});

test('no password, no password hash, ever shows in a report, message or plan', () => {
	assert.ok(seen.length > 40, `${seen.length} lines seen`);
	const secrets = [DB_PASSWORD, TEST_PASSWORD, 'wrong pw 123', 'a new db pw', 'a new mailbox pw', 'not the mailbox pw 9', nativePasswordHash(DB_PASSWORD)];
	for (const line of seen) {
		for (const secret of secrets) assert.ok(!line.includes(secret), `${JSON.stringify(secret)} in ${JSON.stringify(line)}`);
		assert.doesNotMatch(line, /\$6\$/);
		assert.doesNotMatch(line, /\n\s+at /, 'no stack trace');
	}
});
