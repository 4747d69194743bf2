// A fresh server's database, offered: the read-only inspection, the database stage's plan and offer, and the
// wizard taking the offer, all against a real private MariaDB (reached as root over its socket, as on Debian).
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {render} from 'ink-testing-library';
import mysql, {type RowDataPacket} from 'mysql2/promise';
import {withDefaults} from '../source/answers.ts';
import {App, type AppProps, createStore, wizard} from '../source/app.tsx';
import {type CreateSpec, inspectDatabase, planCreate} from '../source/db/database.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import {database, OFFER_QUESTION} from '../source/stages/database.ts';
import type {Answers} from '../source/types.ts';
import {startMariaDB, type MariaDB} from './helpers/mariadb.ts';
import {keys, until} from './ui-keys.ts';

const DB_PASSWORD = `db p'w "1`;
const TEST_PASSWORD = 'Test-pw-2';

let db: MariaDB;
let tree: string;
const saved = {socket: process.env.MYSQL_UNIX_PORT, port: process.env.MYSQL_TCP_PORT};

before(async () => {
	// Name resolution off: a TCP login lands on 'mailuser'@'127.0.0.1' (Postfix's account), as in db.test.ts.
	db = await startMariaDB({args: ['--skip-name-resolve']});
	// The stage reaches "this machine's MariaDB" through the variables every MariaDB client honours.
	process.env.MYSQL_UNIX_PORT = db.socket;
	process.env.MYSQL_TCP_PORT = String(db.port);
	tree = fs.mkdtempSync(path.join(os.tmpdir(), 'db-offer-'));
});

after(async () => {
	process.env.MYSQL_UNIX_PORT = saved.socket ?? '';
	process.env.MYSQL_TCP_PORT = saved.port ?? '';
	await db?.stop();
	if (tree) fs.rmSync(tree, {recursive: true, force: true});
});

const answers = (name: string, extra: Partial<Answers> = {}): Answers =>
	withDefaults({fqdn: 'mail.example.test', dbName: name, dbPassword: DB_PASSWORD, testPassword: TEST_PASSWORD, ...extra});
const spec = (name: string): CreateSpec => ({host: 'localhost', name, user: 'mailuser', password: DB_PASSWORD, domain: 'example.test', testUser: 'test@example.test', testPassword: TEST_PASSWORD});

async function rows(sql: string): Promise<RowDataPacket[]> {
	const c = await mysql.createConnection({socketPath: db.socket, user: 'root'});
	try {
		return (await c.query<RowDataPacket[]>(sql))[0];
	} finally {
		await c.end();
	}
}

test('on an empty server every step is missing; the SQL is exactly --db-create’s, secrets masked; nothing is created', async () => {
	const found = await inspectDatabase(spec('fresh'));
	assert.equal(found.unknown, undefined);
	assert.deepEqual(found.missing, [
		'database fresh',
		'user mailuser@localhost',
		'SELECT grant on fresh for mailuser@localhost',
		'user mailuser@127.0.0.1',
		'SELECT grant on fresh for mailuser@127.0.0.1',
		'table virtual_domains',
		'table virtual_users',
		'table virtual_aliases',
		'domain example.test',
		'test mailbox test@example.test',
	]);
	assert.deepEqual(found.sql, planCreate(spec('fresh')));
	assert.ok(found.sql.every(sql => !sql.includes(DB_PASSWORD) && !sql.includes(TEST_PASSWORD) && !/\$6\$|\*[0-9A-F]{40}/.test(sql)));
	assert.deepEqual(await rows("SHOW DATABASES LIKE 'fresh'"), []);
	assert.deepEqual(await rows("SELECT User FROM mysql.user WHERE User = 'mailuser'"), []);
});

test('the stage on a fresh server: notes say what is missing, the SQL is its preview, the offer asks (yes by default)', async () => {
	const host = new Host({root: tree, dryRun: false});
	const plan = await database.plan({answers: answers('fresh'), host});
	assert.match(plan.notes[0]!, /^missing: database fresh, user mailuser@localhost, .*, test mailbox test@example\.test$/);
	assert.equal(plan.commands.length, 10);
	assert.match(plan.commands[0]!.argv[0]!, /^SQL> CREATE DATABASE IF NOT EXISTS `fresh`/);
	assert.deepEqual(plan.offer, {question: OFFER_QUESTION, yes: {dbCreate: true}, default: true});
	assert.equal(OFFER_QUESTION, 'Create what is missing, as MariaDB root over the Unix socket?');
	const yes = await database.plan({answers: answers('fresh', {dbCreate: true}), host});
	assert.equal(yes.offer, undefined, '--db-create (or yes) asks nothing');
	assert.equal(yes.commands.length, 10);
});

test('headless without --db-create: unchanged, it fails with the --db-create hint and creates nothing', async () => {
	const host = new Host({root: tree, dryRun: false});
	const report = await runStages([database], {answers: answers('headless'), host});
	assert.equal(report.ok, false);
	assert.match(report.stages[0]!.message, /^access denied for database user mailuser .*--db-create/);
	assert.deepEqual(await rows("SHOW DATABASES LIKE 'headless'"), []);
});

function wizardOn(name: string, dryRun: boolean) {
	const host = new Host({root: tree, dryRun});
	const props: AppProps = {host, answers: answers(name), stages: [database], version: '9.9.9', ask: false};
	const store = createStore(props.answers);
	const view = render(<App store={store} {...props} />);
	return {...view, store, code: wizard(props, store)};
}

test('the wizard offers, Enter says yes: exactly the missing parts are created, the result lists the SQL that ran', async () => {
	const {stdin, stdout, lastFrame, store, code, unmount} = wizardOn('offered', false);
	await until(lastFrame, text => text.includes('Stages, in order') && text.includes('to do'));
	stdin.write('a');
	const frame = await until(lastFrame, text => text.includes(`? ${OFFER_QUESTION}`));
	assert.match(frame, /· missing: database offered, user mailuser@localhost/);
	assert.match(frame, /SQL> CREATE DATABASE IF NOT EXISTS `offered`/);
	assert.match(frame, /Enter yes · y yes · n no · q quit/);
	stdin.write(keys.enter);
	const summary = await until(lastFrame, text => text.includes('Still to do by you'), 20_000);
	assert.match(summary, /✔ database +database offered: created 10 missing item\(s\)/);
	assert.equal(await code, 0);
	const result = store.state.outcomes[0]!.result;
	assert.equal(result.status, 'pass');
	assert.ok(result.commands.filter(command => command.startsWith('SQL> ')).length >= 10, 'the statements it ran are listed');
	assert.equal((await rows("SELECT email FROM offered.virtual_users"))[0]!.email, 'test@example.test');
	// Asked again: nothing is missing, so nothing is offered.
	const again = await database.plan({answers: answers('offered'), host: new Host({root: tree, dryRun: false})});
	assert.equal(again.offer, undefined);
	assert.deepEqual(again.commands, []);
	assert.match(again.notes[0]!, /offered: nothing is missing/);
	assert.ok(stdout.frames.every(text => !text.includes(DB_PASSWORD) && !text.includes(TEST_PASSWORD)));
	unmount();
});

test('a half-made database: only its missing parts are named and would be created', async () => {
	await rows('CREATE DATABASE half');
	await rows('CREATE TABLE half.virtual_domains (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)');
	await rows("INSERT INTO half.virtual_domains (name) VALUES ('example.test')");
	const found = await inspectDatabase(spec('half'));
	// The users exist from the test before; their grants on `half` do not.
	assert.deepEqual(found.missing, [
		'SELECT grant on half for mailuser@localhost',
		'SELECT grant on half for mailuser@127.0.0.1',
		'table virtual_users',
		'table virtual_aliases',
		'test mailbox test@example.test',
	]);
	assert.equal(found.sql.length, 5);
});

test('a dry run looks (read-only) and shows what yes would create; nothing is created', async () => {
	const {stdin, lastFrame, code, unmount} = wizardOn('dry_only', true);
	await until(lastFrame, text => text.includes('Stages, in order') && text.includes('to do'));
	stdin.write(keys.enter);
	await until(lastFrame, text => text.includes(`? ${OFFER_QUESTION}`));
	stdin.write('y');
	const frame = await until(lastFrame, text => text.includes('PLANNED'), 10_000);
	assert.match(frame, /Would run:\n {2}SQL> CREATE DATABASE IF NOT EXISTS `dry_only`/);
	stdin.write(keys.enter);
	assert.equal(await code, 0);
	assert.deepEqual(await rows("SHOW DATABASES LIKE 'dry\\_only'"), []);
	unmount();
});

test('where it cannot look (not root, or no MariaDB at all) it says so in one line and shows the SQL', async () => {
	const script = `import {database} from ${JSON.stringify(path.resolve('source/stages/database.ts'))};
		import {Host} from ${JSON.stringify(path.resolve('source/host/host.ts'))};
		const answers = ${JSON.stringify(answers('as_nobody'))};
		console.log(JSON.stringify(await database.plan({answers, host: new Host({root: ${JSON.stringify(tree)}, dryRun: true})})));`;
	const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000, env: process.env});
	assert.equal(child.status, 0, child.stderr);
	const plan = JSON.parse(child.stdout);
	assert.match(plan.notes[0], /^cannot look into MariaDB as root: MariaDB root is not reachable over the Unix socket .* as OS user nobody/);
	assert.equal(plan.notes[0].split('\n').length, 1);
	assert.equal(plan.commands.length, 10);
	assert.equal(plan.offer, undefined);

	process.env.MYSQL_UNIX_PORT = path.join(tree, 'no-such.sock');
	try {
		const laptop = await database.plan({answers: answers('laptop'), host: new Host({root: tree, dryRun: true})});
		assert.equal(laptop.notes[0], `cannot look into MariaDB as root: no MariaDB answers here (no socket at ${path.join(tree, 'no-such.sock')}); the SQL below runs only where something is missing`);
		assert.equal(laptop.commands.length, 10);
	} finally {
		process.env.MYSQL_UNIX_PORT = db.socket;
	}
});
