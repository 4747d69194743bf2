// Step 1: the database Dovecot and Postfix read. On this machine it looks first (read-only, as MariaDB root)
// for what is missing; the wizard then offers to create exactly that, which --db-create says up front.
import {checkDatabase, createDatabase, type CreateSpec, inspectDatabase, isLocal} from '../db/database.js';
import type {Answers, Command, Plan} from '../types.js';
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

/** SQL shown as a command of the plan: the preview, never run by the engine (run() below does). */
const sql = (statements: string[]): Command[] => statements.map(statement => ({argv: [`SQL> ${statement}`]}));

export const OFFER_QUESTION = 'Create what is missing, as MariaDB root over the Unix socket?';

export const database: Stage = {
	id: 'database',
	title: 'Database (virtual users)',
	live: true,
	async plan(ctx): Promise<Plan> {
		const a = ctx.answers;
		const read = `connect to ${a.dbName} on ${a.dbHost} as ${a.dbUser} and read virtual_users`;
		const would = a.dbCreate ? `would create what is missing as MariaDB root over the Unix socket, then ${read}` : `would ${read}`;
		const plan = (commands: Command[], ...notes: string[]): Plan => ({files: [], commands, notes, would});
		// Elsewhere the accounts it would make (user@localhost, user@127.0.0.1) are of no use: only check.
		if (!isLocal(a.dbHost)) return plan([]);
		const found = await inspectDatabase(spec(a));
		if (found.unknown) {
			// A laptop's dry run: no MariaDB here, or not root. Say so once; show what would run where something is missing.
			const show = a.dbCreate || ctx.host.dryRun;
			return plan(show ? sql(found.sql) : [], `cannot look into MariaDB as root: ${found.unknown}${show ? '; the SQL below runs only where something is missing' : ''}`);
		}
		if (found.missing.length === 0) return plan([], `${a.dbName}: nothing is missing`);
		const missing = `missing: ${found.missing.join(', ')}`;
		if (a.dbCreate) return plan(sql(found.sql), missing);
		// --db-create says yes to this up front; headless without it, the stage fails with that hint.
		return {...plan(sql(found.sql), missing), offer: {question: OFFER_QUESTION, yes: {dbCreate: true}, default: true}};
	},
	async run(ctx) {
		const a = ctx.answers;
		const lines: string[] = [];
		const ran: string[] = [];
		if (a.dbCreate) {
			const created = await createDatabase(spec(a));
			lines.push(created.message, ...created.details);
			ran.push(...created.ran.map(statement => `SQL> ${statement}`));
			if (!created.ok) return {ok: false, message: lines.join('\n'), commands: ran};
		}
		// With the password too: a rerun with a changed test password fails here, not later at the IMAP login.
		const found = await checkDatabase(spec(a), a.testUser, a.testPassword || undefined);
		lines.push(found.message, ...found.details);
		return {ok: found.ok, message: lines.join('\n'), commands: ran};
	},
};
