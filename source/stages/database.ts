// Step 1: the database Dovecot and Postfix read; with --db-create, make what is missing.
import {checkDatabase, createDatabase, planCreate, type CreateSpec} from '../db/database.js';
import type {Answers} from '../types.js';
import type {Stage} from './stage.js';

const spec = (a: Answers): CreateSpec => ({
	host: a.dbHost,
	name: a.dbName,
	user: a.dbUser,
	password: a.dbPassword,
	domain: a.domain,
	testUser: a.testUser,
	testPassword: a.testPassword,
});

export const database: Stage = {
	id: 'database',
	title: 'Database (virtual users)',
	live: true,
	async plan(ctx) {
		const a = ctx.answers;
		const read = `connect to ${a.dbName} on ${a.dbHost} as ${a.dbUser} and read virtual_users`;
		if (!a.dbCreate) return {files: [], commands: [], notes: [], would: `would ${read}`};
		const would = `would create what is missing as MariaDB root over the Unix socket, then ${read}`;
		return {files: [], commands: planCreate(spec(a)).map(sql => ({argv: [`SQL> ${sql}`]})), notes: [], would};
	},
	async run(ctx) {
		const a = ctx.answers;
		const lines: string[] = [];
		if (a.dbCreate) {
			const created = await createDatabase(spec(a));
			lines.push(created.message, ...created.details);
			if (!created.ok) return {ok: false, message: lines.join('\n'), commands: []};
		}
		// With the password too: a rerun with a changed test password fails here, not later at the IMAP login.
		const found = await checkDatabase(spec(a), a.testUser, a.testPassword || undefined);
		lines.push(found.message, ...found.details);
		return {ok: found.ok, message: lines.join('\n'), commands: []};
	},
};
