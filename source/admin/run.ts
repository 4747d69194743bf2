// Day two, the runner: the database the wizard configured → the password → one transaction (read, plan, run, commit)
// → a report. No UI here: a terminal's questions come in through an Asker.
import {validPassword} from '../answers.js';
import {defaultSocket, SOCKET, validIdentifier} from '../db/database.js';
import {sha512Crypt} from '../db/sha512crypt.js';
import {MASK} from '../secrets.js';
import {HostError, InterruptedError, type Host} from '../host/host.js';
import {detectDovecot, readBack, secret} from '../resolve.js';
import {UsageError} from '../types.js';
import {DbError, Session, type Target} from './db.js';
import {listAliases, listDomains, listMailboxes, planChange, type AliasRow, type ChangeRequest, type DomainRow, type MailboxRow, type PlanInput, type Snapshot} from './plan.js';
import {changeLines} from './format.js';
import {commandOf, needsPassword, type Request} from './request.js';
import {done, type Message, type RunEffect, type ScreenState} from './screen.js';

export interface AdminOptions {
	yes: boolean;
	purgeMail: boolean;
	passwordFile?: string;
}

/** What a terminal can ask. Headless there is none: passwords come from a file or the environment, --yes confirms. */
export interface Asker {
	/** Asked twice, masked; undefined when the operator gave up. */
	password(address: string): Promise<string | undefined>;
	confirm(question: string, details: string[]): Promise<boolean>;
}

/** The --json document of a change (add, passwd, remove). */
export interface ChangeReport {
	ok: boolean;
	dryRun: boolean;
	command: string; // 'mailbox add'
	status: 'pass' | 'fail' | 'planned';
	message: string;
	sql: string[]; // as run (or, in a dry run, as it would run); the password hash as ***
	notes: string[];
	reverse?: string; // how to take it back
	maildir?: {path: string; exists: boolean; movedTo?: string}; // mailbox remove
}

export type ListReport = {ok: true; mailboxes: MailboxRow[]} | {ok: true; aliases: AliasRow[]} | {ok: true; domains: DomainRow[]};

export type Report = ChangeReport | ListReport;

export interface Outcome {
	code: number;
	report: Report;
}

export const MAILBOX_PASSWORD_ENV = 'MAIL_SETUP_MAILBOX_PASSWORD';

/** A dry run needs no password: the hash it would store is shown as *** anyway. */
const DRY_RUN_HASH = MASK;

/** The database Dovecot reads, as the wizard wrote it; reached as root over this machine's socket (MYSQL_UNIX_PORT moves it; under --root: DIR's). */
export async function findDatabase(host: Host): Promise<Target> {
	const found = await readBack(host, await detectDovecot(host));
	if (!found.dbName) {
		throw new DbError('no database settings in /etc/dovecot (dovecot-sql.conf.ext, or conf.d/auth-sql.conf.ext on 2.4): set up the server with mail-setup first');
	}
	if (!validIdentifier(found.dbName)) throw new DbError(`the database name in the Dovecot configuration, ${JSON.stringify(found.dbName)}, is not one mail-setup handles (letters, digits, _ and $)`);
	if (found.dbHost && !['localhost', '127.0.0.1', '::1'].includes(found.dbHost)) {
		throw new DbError(`the mail database is on ${found.dbHost}: mail-setup writes mailboxes as MariaDB root over this machine's Unix socket only; add them there with SQL`);
	}
	return {name: found.dbName, socketPath: host.root === '/' ? defaultSocket() : host.real(SOCKET)};
}

async function passwordFor(address: string, o: AdminOptions, dryRun: boolean, asker: Asker | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
	const given = await secret(o.passwordFile, env[MAILBOX_PASSWORD_ENV], 'password-file');
	if (given) {
		const problem = validPassword(given);
		if (problem) throw new UsageError(`the mailbox password ${problem}`, 'password-file');
		return given;
	}
	if (dryRun) return undefined;
	if (asker) return asker.password(address);
	throw new UsageError(`the password of ${address}: give it in a file (--password-file FILE) or in env ${MAILBOX_PASSWORD_ENV}; never on the command line`, 'password-file');
}

/** Plan inside an open session; refusals (UsageError) leave it to be rolled back. */
async function planIn(session: Session, request: ChangeRequest, input: PlanInput, lock: boolean) {
	return planChange(await session.snapshot(lock), request, input);
}

/** Read, plan, run, commit: all of it or none. A purged mail directory is moved back if the commit does not happen. */
export async function carryOut(host: Host, target: Target, request: ChangeRequest, input: Omit<PlanInput, 'db'>): Promise<ChangeReport> {
	const session = await Session.open(target);
	const mark = host.journal.size;
	let committed = false;
	try {
		const change = await planIn(session, request, {db: target.name, ...input}, !host.dryRun);
		const report: ChangeReport = {
			ok: true,
			dryRun: host.dryRun,
			command: commandOf(request),
			status: host.dryRun ? 'planned' : 'pass',
			message: host.dryRun ? `dry run: would have ${change.done}; nothing was changed` : change.done,
			sql: change.statements.map(statement => statement.shown),
			notes: change.notes,
			reverse: change.reverse,
		};
		if (!host.dryRun) await session.run(change.statements);
		if (change.maildir) {
			const {path, purge} = change.maildir;
			const exists = Boolean(await host.info(path));
			const movedTo = purge ? await host.stash(path) : undefined;
			report.maildir = {path, exists, ...(movedTo ? {movedTo} : {})};
			const would = host.dryRun ? 'would be ' : '';
			if (!exists) report.notes.push(`it had no mail directory (${path})`);
			else if (movedTo) report.notes.push(`its mail directory ${path} ${would}moved to ${movedTo}: mail-setup undo puts it back`);
			else report.notes.push(`its mail stays in ${path} (--purge-mail moves it into the backups)`);
		}
		if (host.interrupted) throw new InterruptedError('interrupted: nothing was changed');
		if (!host.dryRun) await session.commit();
		committed = true;
		return report;
	} finally {
		if (!committed && host.journal.size > mark) await host.journal.restoreSince(mark);
		await session.close();
	}
}

/** What the tables hold now (read, nothing locked). */
export async function readSnapshot(target: Target): Promise<Snapshot> {
	const session = await Session.open(target);
	try {
		return await session.snapshot(false);
	} finally {
		await session.close();
	}
}

async function list(target: Target, request: Extract<Request, {verb: 'list'}>): Promise<ListReport> {
	const snapshot = await readSnapshot(target);
	if (request.noun === 'domain') return {ok: true, domains: listDomains(snapshot)};
	if (request.noun === 'alias') return {ok: true, aliases: listAliases(snapshot, request.domain)};
	return {ok: true, mailboxes: listMailboxes(snapshot, request.domain)};
}

/** The mailbox screen's change: carried out as the command would, then the rows read again; a refusal or failure is its message. */
export async function perform(host: Host, target: Target, state: ScreenState, effect: RunEffect): Promise<ScreenState> {
	const {request} = effect;
	let message: Message;
	try {
		const hash = effect.password === undefined ? DRY_RUN_HASH : sha512Crypt(effect.password);
		message = {ok: true, lines: changeLines(await carryOut(host, target, request, {hash}))};
	} catch (error) {
		message = {ok: false, lines: [(error as Error).message]};
	}
	const focus = request.noun === 'domain' ? request.domain : request.noun === 'mailbox' ? request.address : request.source;
	const snapshot = await readSnapshot(target).catch(() => undefined);
	return snapshot ? done(state, snapshot, message, focus) : {...state, mode: {kind: 'browse'}, message};
}

const failed = (request: Request, dryRun: boolean, message: string): Outcome => ({
	code: 1,
	report: {ok: false, dryRun, command: commandOf(request), status: 'fail', message, sql: [], notes: []},
});

/** One day-two command. Refusals are UsageErrors (exit 2, nothing changed); a database or file failure is exit 1. */
export async function runAdmin(request: Request, host: Host, o: AdminOptions, asker?: Asker, env = process.env): Promise<Outcome> {
	try {
		const target = await findDatabase(host);
		if (request.verb === 'list') return {code: 0, report: await list(target, request)};
		const input: Omit<PlanInput, 'db'> = {purgeMail: o.purgeMail, hash: host.dryRun ? DRY_RUN_HASH : undefined};
		// In a terminal, what would be refused is said before any question, and remove shows what it takes with it.
		if (asker && !host.dryRun) {
			const session = await Session.open(target);
			const preview = await planIn(session, request, {db: target.name, ...input, hash: DRY_RUN_HASH}, false).finally(() => session.close());
			if (request.verb === 'remove' && request.noun === 'mailbox' && !o.yes && !(await asker.confirm(`Remove mailbox ${request.address}?`, preview.notes))) {
				return failed(request, host.dryRun, 'not removed: nothing was changed');
			}
		} else if (request.noun === 'mailbox' && request.verb === 'remove' && !o.yes && !host.dryRun) {
			throw new UsageError('mailbox remove asks for confirmation in a terminal; without one, say --yes');
		}
		if (needsPassword(request)) {
			const password = await passwordFor(request.address, o, host.dryRun, asker, env);
			if (password === undefined && !host.dryRun) return failed(request, host.dryRun, 'no password given: nothing was changed');
			if (password !== undefined) input.hash = sha512Crypt(password);
		}
		return {code: 0, report: await carryOut(host, target, request, input)};
	} catch (error) {
		if (error instanceof DbError || error instanceof HostError || error instanceof InterruptedError) return failed(request, host.dryRun, error.message);
		throw error;
	}
}
