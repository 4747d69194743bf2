// Step 1: the database Dovecot and Postfix read. Check it with the operator's answers; create what is missing as MariaDB root.
import crypto from 'node:crypto';
import os from 'node:os';
import mysql, {type Connection, type ConnectionOptions, type RowDataPacket} from 'mysql2/promise';
import {MASK, scrub} from '../secrets.js';
import {sha512Crypt, verifySha512Crypt} from './sha512crypt.js';

export interface DbTarget {
	host: string;
	name: string;
	user: string;
	password: string;
	/** Only for tests: the real server listens on /run/mysqld/mysqld.sock and 3306. */
	socketPath?: string;
	port?: number;
}

export interface DbReport {
	ok: boolean;
	message: string;
	details: string[];
}

export interface CreateSpec extends DbTarget {
	domain: string;
	testUser: string;
	testPassword: string;
}

export const SOCKET = '/run/mysqld/mysqld.sock';
// Debian's; MYSQL_UNIX_PORT and MYSQL_TCP_PORT move them, as they do for every MariaDB client (tests use that).
export const defaultSocket = () => process.env.MYSQL_UNIX_PORT || SOCKET;
const defaultPort = () => Number(process.env.MYSQL_TCP_PORT) || 3306;
const CONNECT_TIMEOUT_MS = 5000;
const START_HINT = 'start it: systemctl start mariadb (without systemd: mariadbd --user=mysql &)';
const SHOW_LIMIT = 10;

/** Letters, digits, _ and $, 1–64 characters: safe between backticks without any escaping. */
export function validIdentifier(name: string): boolean {
	return /^[A-Za-z0-9_$]{1,64}$/.test(name);
}

const id = (name: string) => `\`${name}\``;

/** Where a connection goes, said the way the messages need it. */
export interface Route {
	label: string; // 'Unix socket /run/mysqld/mysqld.sock (as Dovecot)'
	options: ConnectionOptions;
	local: boolean; // on this machine: "refused" means the server is down
	refused?: string; // what "refused" means instead, when we know better
}

// 'localhost' is the Unix socket to MySQL clients, which is how Dovecot connects; Postfix's chroot sends it to 127.0.0.1 over TCP.
function routes(t: DbTarget): Route[] {
	const port = t.port ?? defaultPort();
	const socketPath = t.socketPath ?? defaultSocket();
	const tcp = (host: string, as: string): Route => ({label: `${host}:${port} over TCP (${as})`, options: {host, port}, local: isLocal(host)});
	if (t.host !== 'localhost') return [tcp(t.host, 'as Dovecot and Postfix')];
	// Tried only after the socket answered, so a refusal here means networking is off, not the server.
	const postfix = {...tcp('127.0.0.1', 'as Postfix'), refused: 'MariaDB answers on its Unix socket but refuses TCP, which Postfix needs: check port and skip-networking in /etc/mysql/mariadb.conf.d/50-server.cnf'};
	return [{label: `Unix socket ${socketPath} (as Dovecot)`, options: {socketPath}, local: true}, postfix];
}

/** Is the database host this machine, where MariaDB root can be reached over the Unix socket? */
export const isLocal = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '::1';

async function connect(route: Route, user: string, password: string, database?: string): Promise<Connection> {
	const conn = await mysql.createConnection({...route.options, user, password, database, connectTimeout: CONNECT_TIMEOUT_MS, charset: 'utf8mb4'});
	// A server going away while idle emits 'error'; without a listener that would crash the process.
	conn.on('error', () => {});
	return conn;
}

async function close(conn: Connection): Promise<void> {
	await conn.end().catch(() => conn.destroy());
}

export interface Who {
	route: Route;
	user: string;
	database?: string;
	root?: boolean;
}

/** One sentence naming what went wrong and the fix; never the error's stack or SQL. */
export function explain(err: unknown, who: Who, secrets: string[] = []): string {
	const e = err as {code?: string; sqlMessage?: string; message?: string};
	const where = who.route.label;
	const db = who.database ?? '';
	switch (e.code) {
		case 'ENOENT':
		case 'ECONNREFUSED':
			if (who.route.refused) return `cannot connect to ${where}: ${who.route.refused}`;
			if (who.route.local) return `cannot connect to MariaDB at ${where}: the server is not running; ${START_HINT}`;
			return `cannot connect to MariaDB at ${where}: connection refused; is MariaDB running there and listening on the network (bind-address)?`;
		case 'EACCES':
			return `cannot open ${where}: permission denied; run mail-setup as root`;
		case 'ETIMEDOUT':
		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
		case 'EHOSTDOWN':
			return `cannot reach the database host at ${where} (${e.code}): check the database host answer, the network and any firewall`;
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
			return `cannot resolve the database host in ${where}: check the database host answer`;
		case 'ER_ACCESS_DENIED_ERROR':
		case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
		case 'ER_HOST_NOT_PRIVILEGED':
			if (who.root) {
				return `MariaDB root is not reachable over the ${where} as OS user ${os.userInfo().username} (access denied): run mail-setup as root, which Debian's root@localhost lets in by unix_socket; if root needs a password on this server, run the SQL from --dry-run yourself`;
			}
			return `access denied for database user ${who.user} over the ${where}: check the database user and password (--db-create creates a missing user but never changes an existing one's password)`;
		// MariaDB says this, not "unknown database", to a user without grants there, so it hides whether the database exists.
		case 'ER_DBACCESS_DENIED_ERROR':
			return `database ${db} does not exist, or user ${who.user} has no grant on it: --db-create creates both (or GRANT SELECT ON ${id(db)}.* to it)`;
		case 'ER_BAD_DB_ERROR':
			return `database ${db} does not exist: create it with --db-create`;
		case 'ER_NO_SUCH_TABLE':
			return `a table is missing in ${db} (${e.sqlMessage}): --db-create creates the missing tables`;
		case 'ER_TABLEACCESS_DENIED_ERROR':
			return `database user ${who.user} may not read a table (${e.sqlMessage}): GRANT SELECT ON ${id(db)}.* to it`;
		case 'ER_BAD_FIELD_ERROR':
			return `a table in ${db} lacks a column the mail servers query (${e.sqlMessage}): the schema must match the tutorial's`;
		default: {
			// Only here does text we did not write show: masked, should the server ever echo a secret.
			const text = scrub(`${e.code ?? ''} ${e.sqlMessage ?? e.message ?? String(err)}`, secrets);
			return `database error over the ${where}: ${text}`.replace(/\s+/g, ' ').trim();
		}
	}
}

function failure(err: unknown, who: Who, secrets: string[], details: string[] = []): DbReport {
	return {ok: false, message: explain(err, who, secrets), details};
}

/** The scheme of a stored hash: its `{PREFIX}`, else SHA512-CRYPT when it is a bare `$6$` hash, else unknown. */
export function hashScheme(stored: string): string {
	const prefix = /^\{([^}]+)\}/.exec(stored);
	const bare = /^\$6\$(rounds=\d+\$)?[^$]{1,16}\$[./0-9A-Za-z]{86}$/;
	if (prefix) return prefix[1]!.toUpperCase() === 'SHA512-CRYPT' && !bare.test(stored.slice(prefix[0].length)) ? 'malformed SHA512-CRYPT' : prefix[1]!.toUpperCase();
	return bare.test(stored) ? 'SHA512-CRYPT' : 'unknown';
}

const list = (names: string[]) =>
	names.length === 0 ? 'none' : names.length <= SHOW_LIMIT ? names.join(', ') : `${names.slice(0, SHOW_LIMIT).join(', ')}, … (${names.length} in all)`;

/**
 * Connects as the DB user the way Dovecot and Postfix will, runs their queries (the tutorial's password query among them)
 * and reports what is there. With `testPassword`, also checks it against the stored hash.
 */
export async function checkDatabase(t: DbTarget, testUser?: string, testPassword?: string): Promise<DbReport> {
	if (!validIdentifier(t.name)) return {ok: false, message: `database name ${JSON.stringify(t.name)} may hold only letters, digits, _ and $`, details: []};
	const secrets = [t.password, testPassword ?? ''];
	const details: string[] = [];
	let mailbox: RowDataPacket | undefined;
	for (const [i, route] of routes(t).entries()) {
		const who: Who = {route, user: t.user, database: t.name};
		let conn: Connection;
		try {
			conn = await connect(route, t.user, t.password, t.name);
		} catch (err) {
			return failure(err, who, secrets, details);
		}
		try {
			const [[me]] = await conn.query<RowDataPacket[]>('SELECT CURRENT_USER() AS me');
			details.push(`${route.label}: logged in as ${me!.me}`);
			// The queries Postfix's maps and Dovecot's passdb run, with placeholders for their %s and %u.
			const [domains] = await conn.query<RowDataPacket[]>('SELECT name FROM virtual_domains ORDER BY name');
			const [[users]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM virtual_users');
			const [[aliases]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM virtual_aliases');
			await conn.execute('SELECT destination FROM virtual_aliases WHERE source = ?', [testUser ?? '']);
			const [found] = await conn.execute<RowDataPacket[]>('SELECT email AS user, password FROM virtual_users WHERE email = ?', [testUser ?? '']);
			if (i === 0) {
				details.push(`domains: ${list(domains.map(row => String(row.name)))}`, `mailboxes: ${users!.n}`, `aliases: ${aliases!.n}`);
				mailbox = found[0];
			}
		} catch (err) {
			return failure(err, who, secrets, details);
		} finally {
			await close(conn);
		}
	}
	const where = `database ${t.name} on ${t.host}`;
	if (testUser === undefined) return {ok: true, message: `${where}: readable as ${t.user}`, details};
	if (!mailbox) {
		details.push(`test mailbox ${testUser}: absent`);
		return {ok: false, message: `${where}: test mailbox ${testUser} is not in virtual_users: add it (--db-create does)`, details};
	}
	const stored = String(mailbox.password ?? '');
	const scheme = hashScheme(stored);
	details.push(`test mailbox ${testUser}: present, ${scheme}`);
	// A bare hash is read with default_pass_scheme = SHA512-CRYPT; other schemes work only behind their {PREFIX}.
	if (scheme === 'unknown' || scheme === 'malformed SHA512-CRYPT') {
		return {ok: false, message: `${where}: the password of ${testUser} is not a SHA512-CRYPT hash: store one made by doveadm pw -s SHA512-CRYPT`, details};
	}
	if (testPassword !== undefined && scheme === 'SHA512-CRYPT') {
		if (!verifySha512Crypt(testPassword, stored)) {
			return {ok: false, message: `${where}: the stored hash of ${testUser} does not match the test mailbox password given`, details};
		}
		details.push(`test mailbox ${testUser}: password matches`);
	}
	return {ok: true, message: `${where}: readable as ${t.user}, test mailbox ${testUser} present`, details};
}

/** mysql_native_password's stored form (`*` and 40 hex digits), so CREATE USER carries a hash and never the password. */
export function nativePasswordHash(password: string): string {
	const sha1 = (data: Buffer) => crypto.createHash('sha1').update(data).digest();
	return `*${sha1(sha1(Buffer.from(password, 'utf8'))).toString('hex').toUpperCase()}`;
}

interface Step {
	what: string;
	sql: string;
	params: string[];
	/** The statement as shown to the operator: secrets as ***. */
	shown: string;
	/** Is it there already? Asked just before the step, so earlier steps (the database, the tables) have run. */
	present(c: Connection): Promise<boolean>;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

async function any(c: Connection, sql: string, params: string[]): Promise<boolean> {
	const [rows] = await c.execute<RowDataPacket[]>(sql, params);
	return rows.length > 0;
}

// One list for the plan and the run, so --dry-run shows exactly what would run.
function steps(spec: CreateSpec, dbHash: string, mailHash: string): Step[] {
	const db = id(spec.name);
	// In grant tables _ is a wildcard: escape it so SELECT covers this database only.
	const grantDb = id(spec.name.replace(/_/g, '\\_'));
	const out: Step[] = [];
	const add = (what: string, sql: string, present: Step['present'], params: string[] = [], shown = mysql.format(sql, params)) =>
		out.push({what, sql, params, shown, present});

	add(
		`database ${spec.name}`,
		`CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
		c => any(c, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [spec.name]),
	);
	// Dovecot comes in over the socket as user@localhost, Postfix over TCP as user@127.0.0.1.
	for (const host of ['localhost', '127.0.0.1']) {
		// MariaDB takes no placeholder here; the hash (hex digits only) goes in the text, the password nowhere.
		// (The same as IDENTIFIED BY PASSWORD, spelled so that a dry run's output never holds the word PASS.)
		const user = `CREATE USER IF NOT EXISTS ${id(spec.user)}@${id(host)} IDENTIFIED VIA mysql_native_password USING`;
		add(
			`user ${spec.user}@${host}`,
			`${user} '${dbHash}'`,
			c => any(c, 'SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [spec.user, host]),
			[],
			`${user} '${MASK}'`,
		);
		add(`SELECT grant on ${spec.name} for ${spec.user}@${host}`, `GRANT SELECT ON ${grantDb}.* TO ${id(spec.user)}@${id(host)}`, c =>
			any(c, "SELECT 1 FROM mysql.db WHERE User = ? AND Host = ? AND Db IN (?, ?) AND Select_priv = 'Y'", [spec.user, host, spec.name, spec.name.replace(/_/g, '\\_')]),
		);
	}
	const table = (name: string, columns: string) =>
		add(`table ${name}`, `CREATE TABLE IF NOT EXISTS ${db}.${id(name)} (${columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`, c =>
			any(c, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [spec.name, name]),
		);
	table('virtual_domains', 'id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, UNIQUE KEY name (name)');
	// 120 holds a hash with its {SHA512-CRYPT} prefix too, as `doveadm pw` prints it; we store the bare 106-character form.
	table(
		'virtual_users',
		'id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, domain_id INT NOT NULL, password VARCHAR(120) NOT NULL, email VARCHAR(100) NOT NULL, ' +
			'UNIQUE KEY email (email), FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE',
	);
	table(
		'virtual_aliases',
		'id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, domain_id INT NOT NULL, source VARCHAR(100) NOT NULL, destination VARCHAR(100) NOT NULL, ' +
			'FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE',
	);
	for (const domain of new Set([spec.domain, domainOf(spec.testUser)])) {
		add(`domain ${domain}`, `INSERT INTO ${db}.virtual_domains (name) VALUES (?)`, c => any(c, `SELECT 1 FROM ${db}.virtual_domains WHERE name = ?`, [domain]), [domain]);
	}
	const mailbox = `INSERT INTO ${db}.virtual_users (domain_id, email, password) SELECT id, ?, ? FROM ${db}.virtual_domains WHERE name = ? LIMIT 1`;
	add(
		`test mailbox ${spec.testUser}`,
		mailbox,
		c => any(c, `SELECT 1 FROM ${db}.virtual_users WHERE email = ?`, [spec.testUser]),
		[spec.testUser, mailHash, domainOf(spec.testUser)],
		mysql.format(mailbox, [spec.testUser, MASK, domainOf(spec.testUser)]),
	);
	return out;
}

function problem(spec: CreateSpec): string | undefined {
	if (!validIdentifier(spec.name)) return `database name ${JSON.stringify(spec.name)} may hold only letters, digits, _ and $ (1–64)`;
	if (!validIdentifier(spec.user)) return `database user ${JSON.stringify(spec.user)} may hold only letters, digits, _ and $ (1–64)`;
	if (!spec.testUser.includes('@')) return `test mailbox ${JSON.stringify(spec.testUser)} is not an address`;
	return undefined;
}

/** The SQL --db-create would run, in order, each only if what it makes is missing; secrets shown as ***. */
export function planCreate(spec: CreateSpec): string[] {
	const bad = problem(spec);
	if (bad) return [`-- cannot plan: ${bad}`];
	return steps(spec, '', '').map(step => step.shown + ';');
}

/** MariaDB root over the Unix socket: Debian lets OS root in by unix_socket, with no password. */
function rootWho(spec: CreateSpec, opts: {rootSocketPath?: string}): Who {
	const socketPath = opts.rootSocketPath ?? spec.socketPath ?? defaultSocket();
	return {route: {label: `Unix socket ${socketPath}`, options: {socketPath}, local: true}, user: 'root', database: spec.name, root: true};
}

export interface Inspection {
	/** Why it could not look (no MariaDB here, not root, a remote host), in one sentence; then `missing` is empty. */
	unknown?: string;
	/** What --db-create would create, as its steps name it: 'database mailserver', 'user mailuser@localhost', … */
	missing: string[];
	/** The statements that would create exactly those (all of them when it could not look); secrets as ***. */
	sql: string[];
}

/** Read-only: which of the steps --db-create takes are missing, asked as MariaDB root over the Unix socket. */
export async function inspectDatabase(spec: CreateSpec, opts: {rootSocketPath?: string} = {}): Promise<Inspection> {
	const bad = problem(spec);
	if (bad) return {unknown: bad, missing: [], sql: []};
	const all = steps(spec, '', '');
	const blind = (unknown: string): Inspection => ({unknown, missing: [], sql: all.map(step => step.shown + ';')});
	if (!isLocal(spec.host)) return blind(`the database host ${spec.host} is not this machine`);
	const who = rootWho(spec, opts);
	let conn: Connection;
	try {
		conn = await connect(who.route, 'root', '');
	} catch (err) {
		const e = err as {code?: string};
		// No MariaDB on this machine at all (a laptop's dry run): say just that.
		return blind(e.code === 'ENOENT' ? `no MariaDB answers here (no socket at ${who.route.label.replace('Unix socket ', '')})` : explain(err, who));
	}
	const out: Inspection = {missing: [], sql: []};
	try {
		for (const step of all) {
			// A database or table that does not exist yet holds nothing: what depends on it is missing too.
			const present = await step.present(conn).catch((err: {code?: string}) => {
				if (err.code === 'ER_BAD_DB_ERROR' || err.code === 'ER_NO_SUCH_TABLE') return false;
				throw err;
			});
			if (present) continue;
			out.missing.push(step.what);
			out.sql.push(step.shown + ';');
		}
	} catch (err) {
		return blind(explain(err, who));
	} finally {
		await close(conn);
	}
	return out;
}

/**
 * As MariaDB root over the Unix socket, creates whatever of database, users, grants, tables, domain and test
 * mailbox is missing. Drops and alters nothing. `ran`: the statements it ran, secrets as ***.
 */
export async function createDatabase(spec: CreateSpec, opts: {rootSocketPath?: string} = {}): Promise<DbReport & {ran: string[]}> {
	const bad = problem(spec);
	if (bad) return {ok: false, message: bad, details: [], ran: []};
	// The accounts made are user@localhost and user@127.0.0.1: useless for a server elsewhere.
	if (!isLocal(spec.host)) {
		return {ok: false, message: `--db-create works only on this machine's MariaDB (database host localhost), not ${spec.host}: create the database there by hand (--dry-run shows the SQL)`, details: [], ran: []};
	}
	const who = rootWho(spec, opts);
	const secrets = [spec.password, spec.testPassword];
	let conn: Connection;
	try {
		conn = await connect(who.route, 'root', '');
	} catch (err) {
		return {...failure(err, who, secrets), ran: []};
	}
	const details: string[] = [];
	const ran: string[] = [];
	try {
		for (const step of steps(spec, nativePasswordHash(spec.password), sha512Crypt(spec.testPassword))) {
			if (await step.present(conn)) continue;
			// execute(): values travel apart from the SQL text, as a prepared statement's parameters.
			if (step.params.length) await conn.execute(step.sql, step.params);
			else await conn.query(step.sql);
			details.push(`created ${step.what}`);
			ran.push(step.shown + ';');
		}
		// Never altered, so an existing mailbox keeps its password: say so when it is not the one given.
		const [[row]] = await conn.execute<RowDataPacket[]>(`SELECT password FROM ${id(spec.name)}.virtual_users WHERE email = ?`, [spec.testUser]);
		if (row && !verifySha512Crypt(spec.testPassword, String(row.password))) {
			details.push(`test mailbox ${spec.testUser} existed with another password; left as it is`);
		}
	} catch (err) {
		return {...failure(err, who, secrets, details), ran};
	} finally {
		await close(conn);
	}
	return {ok: true, message: ran.length ? `database ${spec.name}: created ${ran.length} missing item(s)` : `database ${spec.name}: nothing to create`, details, ran};
}
