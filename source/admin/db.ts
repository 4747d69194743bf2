// Day two's database effects: as MariaDB root over the Unix socket (the mail user keeps SELECT only),
// each command in one transaction: read what is there, run the plan's statements, commit — or roll back, all of it.
import mysql, {type Connection, type RowDataPacket} from 'mysql2/promise';
import {explain, type Who} from '../db/database.js';
import type {Snapshot, Statement} from './plan.js';

export interface Target {
	name: string; // the database Dovecot and Postfix read
	socketPath: string;
}

/** A database failure, already worded for the operator (exit 1). */
export class DbError extends Error {}

const who = (t: Target): Who => ({route: {label: `Unix socket ${t.socketPath}`, options: {socketPath: t.socketPath}, local: true}, user: 'root', database: t.name, root: true});

export class Session {
	private constructor(
		private readonly conn: Connection,
		readonly target: Target,
	) {}

	static async open(target: Target): Promise<Session> {
		try {
			const conn = await mysql.createConnection({socketPath: target.socketPath, user: 'root', password: '', connectTimeout: 5000, charset: 'utf8mb4'});
			// A server going away while idle emits 'error'; without a listener that would crash the process.
			conn.on('error', () => {});
			await conn.query('START TRANSACTION');
			return new Session(conn, target);
		} catch (error) {
			throw new DbError(explain(error, who(target)));
		}
	}

	private async guarded<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			throw new DbError(explain(error, who(this.target)));
		}
	}

	/** Everything the plan looks at. `lock`: rows stay ours until commit, so nobody changes them between plan and run. */
	snapshot(lock: boolean): Promise<Snapshot> {
		const db = `\`${this.target.name}\``;
		const tail = lock ? ' FOR UPDATE' : '';
		const rows = async (sql: string) => (await this.conn.query<RowDataPacket[]>(sql + tail))[0];
		// Lower-case as the tables' _ci collation compares them.
		const lower = (value: unknown) => String(value).toLowerCase();
		return this.guarded(async () => ({
			domains: (await rows(`SELECT id, name FROM ${db}.virtual_domains`)).map(r => ({id: Number(r.id), name: lower(r.name)})),
			mailboxes: (await rows(`SELECT domain_id, email FROM ${db}.virtual_users`)).map(r => ({domainId: Number(r.domain_id), email: lower(r.email)})),
			aliases: (await rows(`SELECT domain_id, source, destination FROM ${db}.virtual_aliases`)).map(r => ({
				domainId: Number(r.domain_id),
				source: lower(r.source),
				destination: lower(r.destination),
			})),
		}));
	}

	/** Values travel apart from the SQL text, as a prepared statement's parameters. */
	run(statements: Statement[]): Promise<void> {
		return this.guarded(async () => {
			for (const statement of statements) await this.conn.execute(statement.sql, statement.params);
		});
	}

	commit(): Promise<void> {
		return this.guarded(async () => void (await this.conn.query('COMMIT')));
	}

	/** Rolls back whatever is not committed and closes; safe after commit. */
	async close(): Promise<void> {
		await this.conn.query('ROLLBACK').catch(() => {});
		await this.conn.end().catch(() => this.conn.destroy());
	}
}
