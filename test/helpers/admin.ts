// Day-two tests: a private MariaDB with the wizard's schema, and server trees whose Dovecot config names that
// database and whose /run/mysqld/mysqld.sock is its socket (so `--root TREE` reaches it as on a server).
import fs from 'node:fs';
import path from 'node:path';
import mysql, {type RowDataPacket} from 'mysql2/promise';
import {createDatabase} from '../../source/db/database.ts';
import {startMariaDB, type MariaDB} from './mariadb.ts';

export const DB = 'mail_db';

export interface AdminDb {
	db: MariaDB;
	query(sql: string, params?: string[]): Promise<RowDataPacket[]>;
	/** The stored hash of a mailbox ('' when there is none). */
	hashOf(email: string): Promise<string>;
	/** Every row of the three tables: "unchanged" means this stays the same. */
	dump(): Promise<string>;
	/** A tree as the wizard leaves it (the parts day two reads), below dir. */
	tree(dir: string, syntax: '2.3' | '2.4'): string;
}

/** The database as `--db-create` makes it: domain example.test with test@example.test. */
export async function adminDb(): Promise<AdminDb> {
	const db = await startMariaDB();
	const made = await createDatabase(
		{host: 'localhost', name: DB, user: 'mailuser', password: 'db pw', domain: 'example.test', testUser: 'test@example.test', testPassword: 'test pw'},
		{rootSocketPath: db.socket},
	);
	if (!made.ok) throw new Error(made.message);
	const query = async (sql: string, params: string[] = []) => {
		const c = await mysql.createConnection({socketPath: db.socket, user: 'root', database: DB});
		try {
			return (await c.query<RowDataPacket[]>(sql, params))[0];
		} finally {
			await c.end();
		}
	};
	return {
		db,
		query,
		hashOf: async email => String((await query('SELECT password FROM virtual_users WHERE email = ?', [email]))[0]?.password ?? ''),
		dump: async () =>
			JSON.stringify(
				await Promise.all([
					query('SELECT id, name FROM virtual_domains ORDER BY id'),
					query('SELECT id, domain_id, email, password FROM virtual_users ORDER BY id'),
					query('SELECT id, domain_id, source, destination FROM virtual_aliases ORDER BY id'),
				]),
			),
		tree(dir, syntax) {
			const root = fs.mkdtempSync(path.join(dir, `tree${syntax}-`));
			fs.mkdirSync(path.join(root, 'etc/dovecot/conf.d'), {recursive: true});
			fs.mkdirSync(path.join(root, 'run/mysqld'), {recursive: true});
			fs.symlinkSync(db.socket, path.join(root, 'run/mysqld/mysqld.sock'));
			if (syntax === '2.3') {
				fs.writeFileSync(path.join(root, 'etc/dovecot/dovecot.conf'), '!include conf.d/*.conf\n');
				fs.writeFileSync(path.join(root, 'etc/dovecot/dovecot-sql.conf.ext'), `driver = mysql\nconnect = host=localhost dbname=${DB} user=mailuser password=x\n`);
			} else {
				fs.writeFileSync(path.join(root, 'etc/dovecot/dovecot.conf'), 'dovecot_config_version = 2.4.0\n!include conf.d/*.conf\n');
				fs.writeFileSync(path.join(root, 'etc/dovecot/conf.d/auth-sql.conf.ext'), `sql_driver = mysql\nmysql localhost {\n  user = mailuser\n  password = "x"\n  dbname = ${DB}\n}\n`);
			}
			return root;
		},
	};
}
