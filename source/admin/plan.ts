// Day two, pure: what the database holds (a snapshot) + one request → the SQL that carries it out, or a refusal
// (a UsageError: exit 2, nothing changed). The same plan is shown in a dry run and run for real.
import mysql from 'mysql2/promise';
import {MASK} from '../secrets.js';
import {mailHome} from '../stages/dovecot-sql.js';
import {UsageError} from '../types.js';
import {plural} from '../words.js';
import type {Request} from './request.js';

export interface Snapshot {
	domains: {id: number; name: string}[];
	mailboxes: {domainId: number; email: string}[];
	aliases: {domainId: number; source: string; destination: string}[];
}

export interface Statement {
	sql: string;
	params: (string | number)[];
	/** The statement as shown to the operator: the password hash as ***. */
	shown: string;
}

export interface Change {
	statements: Statement[];
	/** What was done, in the past tense: 'added mailbox alice@example.com'. */
	done: string;
	notes: string[];
	/** How to take it back. */
	reverse: string;
	/** mailbox remove: its mail directory (as on the target), and whether to move it into the backups. */
	maildir?: {path: string; purge: boolean};
}

export interface PlanInput {
	db: string; // database name (letters, digits, _ and $: safe between backticks)
	hash?: string; // SHA512-CRYPT of the new password (mailbox add, passwd)
	purgeMail?: boolean;
}

export type ChangeRequest = Exclude<Request, {verb: 'list'}>;

export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

const refuse = (message: string): never => {
	throw new UsageError(message);
};

function domainId(s: Snapshot, name: string, what: string): number {
	const found = s.domains.find(d => d.name === name);
	return found ? found.id : refuse(`${what} is in domain ${name}, which this server does not serve: mail-setup domain add ${name} first`);
}

const isMailbox = (s: Snapshot, address: string) => s.mailboxes.some(m => m.email === address);
const destinations = (s: Snapshot, source: string) => s.aliases.filter(a => a.source === source).map(a => a.destination);

/** Aliases left pointing at an address that takes no mail once `removed` are gone: worth a warning. */
function dangling(s: Snapshot, removed: Snapshot['aliases']): string | undefined {
	const left = s.aliases.filter(x => !removed.includes(x));
	const dead = new Set(removed.map(x => x.source).filter(source => !left.some(x => x.source === source) && !isMailbox(s, source)));
	const pointing = left.filter(x => dead.has(x.destination));
	return pointing.length ? `still forwarding to an address that now bounces: ${pointing.map(x => `${x.source} → ${x.destination}`).join(', ')}` : undefined;
}

/** The alias chain from `from` back to `to`, if following aliases from `from` ever reaches it. */
function chain(s: Snapshot, from: string, to: string): string[] | undefined {
	const seen = new Set<string>();
	const walk = (at: string, path: string[]): string[] | undefined => {
		if (at === to) return path;
		if (seen.has(at)) return undefined;
		seen.add(at);
		for (const next of destinations(s, at)) {
			const found = walk(next, [...path, next]);
			if (found) return found;
		}
		return undefined;
	};
	return walk(from, [from]);
}

export function planChange(s: Snapshot, r: ChangeRequest, input: PlanInput): Change {
	const table = (name: string) => `\`${input.db}\`.${name}`;
	const statements: Statement[] = [];
	const sql = (text: string, params: (string | number)[], shown = params) => statements.push({sql: text, params, shown: mysql.format(text, shown) + ';'});
	const hashed = () => input.hash ?? refuse('no password given');
	const notes: string[] = [];

	switch (r.noun) {
		case 'domain': {
			const found = s.domains.find(d => d.name === r.domain);
			if (r.verb === 'add') {
				if (found) refuse(`domain ${r.domain} is served already`);
				sql(`INSERT INTO ${table('virtual_domains')} (name) VALUES (?)`, [r.domain]);
				notes.push(`mail for ${r.domain} reaches this server once its MX record points here`);
				return {statements, done: `added domain ${r.domain}`, notes, reverse: `mail-setup domain remove ${r.domain}`};
			}
			if (!found) return refuse(`domain ${r.domain} is not served here (mail-setup domain list shows those that are)`);
			const mailboxes = s.mailboxes.filter(m => m.domainId === found.id).length;
			const aliases = s.aliases.filter(a => a.domainId === found.id || domainOf(a.destination) === r.domain).length;
			if (mailboxes || aliases) {
				refuse(`domain ${r.domain} still has ${plural(mailboxes, 'mailbox')} and ${plural(aliases, 'alias')}: remove them first (mail-setup mailbox list ${r.domain}, mail-setup alias list ${r.domain})`);
			}
			sql(`DELETE FROM ${table('virtual_domains')} WHERE name = ?`, [r.domain]);
			return {statements, done: `removed domain ${r.domain}`, notes, reverse: `mail-setup domain add ${r.domain}`};
		}
		case 'mailbox': {
			const a = r.address;
			if (r.verb === 'add') {
				const id = domainId(s, domainOf(a), a);
				if (isMailbox(s, a)) refuse(`mailbox ${a} exists already (a new password: mail-setup mailbox passwd ${a})`);
				const to = destinations(s, a);
				if (to.length) refuse(`${a} is an alias already (to ${to.join(', ')}): remove it first (mail-setup alias remove ${a})`);
				const text = `INSERT INTO ${table('virtual_users')} (domain_id, email, password) VALUES (?, ?, ?)`;
				sql(text, [id, a, hashed()], [id, a, MASK]);
				notes.push(`its mail will be kept in ${mailHome(a)}`);
				return {statements, done: `added mailbox ${a}`, notes, reverse: `mail-setup mailbox remove ${a}`};
			}
			if (!isMailbox(s, a)) refuse(`there is no mailbox ${a} (mail-setup mailbox list shows them)`);
			if (r.verb === 'passwd') {
				sql(`UPDATE ${table('virtual_users')} SET password = ? WHERE email = ?`, [hashed(), a], [MASK, a]);
				return {statements, done: `changed the password of ${a}`, notes, reverse: `the old password is not kept: mail-setup mailbox passwd ${a} sets another`};
			}
			// Its aliases go with it: left behind, they would bounce (or, as a source, take over its address).
			const linked = s.aliases.filter(x => x.source === a || x.destination === a);
			for (const x of linked) sql(`DELETE FROM ${table('virtual_aliases')} WHERE source = ? AND destination = ?`, [x.source, x.destination]);
			if (linked.length) notes.push(`removed with it: ${linked.map(x => `alias ${x.source} → ${x.destination}`).join(', ')}`);
			const bounce = dangling(s, linked);
			if (bounce) notes.push(bounce);
			sql(`DELETE FROM ${table('virtual_users')} WHERE email = ?`, [a]);
			const undo = [`mail-setup mailbox add ${a} (with a new password: the old one is not kept)`, ...linked.map(x => `mail-setup alias add ${x.source} ${x.destination}`)];
			if (input.purgeMail) undo.push('mail-setup undo (puts its mail directory back)');
			return {statements, done: `removed mailbox ${a}`, notes, reverse: undo.join('; '), maildir: {path: mailHome(a), purge: Boolean(input.purgeMail)}};
		}
		case 'alias': {
			const {source} = r;
			if (r.verb === 'remove') {
				const pairs = s.aliases.filter(x => x.source === source && (r.destination === undefined || x.destination === r.destination));
				if (!pairs.length) refuse(r.destination ? `there is no alias ${source} → ${r.destination}` : `there is no alias ${source} (mail-setup alias list shows them)`);
				if (r.destination) sql(`DELETE FROM ${table('virtual_aliases')} WHERE source = ? AND destination = ?`, [source, r.destination]);
				else sql(`DELETE FROM ${table('virtual_aliases')} WHERE source = ?`, [source]);
				const bounce = dangling(s, pairs);
				if (bounce) notes.push(bounce);
				const done = pairs.map(x => `${x.source} → ${x.destination}`).join(', ');
				return {statements, done: `removed alias ${done}`, notes, reverse: pairs.map(x => `mail-setup alias add ${x.source} ${x.destination}`).join('; ')};
			}
			const {destination} = r;
			const id = domainId(s, domainOf(source), source);
			if (source === destination) refuse(`alias ${source} cannot point to itself`);
			if (isMailbox(s, source)) refuse(`${source} is a mailbox: an alias of the same name would take its mail away (pick another alias, or remove the mailbox first)`);
			if (s.aliases.some(x => x.source === source && x.destination === destination)) refuse(`alias ${source} → ${destination} exists already`);
			const local = s.domains.some(d => d.name === domainOf(destination));
			if (local && !isMailbox(s, destination) && !destinations(s, destination).length) {
				refuse(`${destination} is neither a mailbox nor an alias here: add it first (mail-setup mailbox add ${destination})`);
			}
			const loop = chain(s, destination, source);
			if (loop) refuse(`alias ${source} → ${destination} would loop: ${[source, ...loop].join(' → ')}`);
			sql(`INSERT INTO ${table('virtual_aliases')} (domain_id, source, destination) VALUES (?, ?, ?)`, [id, source, destination]);
			const others = destinations(s, source);
			if (others.length) notes.push(`${source} also goes to ${others.join(', ')}`);
			if (!local) notes.push(`${destination} is on another server: mail to ${source} is forwarded there`);
			return {statements, done: `added alias ${source} → ${destination}`, notes, reverse: `mail-setup alias remove ${source} ${destination}`};
		}
	}
}

export interface MailboxRow {
	address: string;
	domain: string;
	maildir: string;
}

export interface AliasRow {
	source: string;
	destination: string;
}

export interface DomainRow {
	name: string;
	mailboxes: number;
	aliases: number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The ids of the domains to list: all, or the one named (which must be served). */
function wanted(s: Snapshot, domain: string | undefined): Set<number> {
	const ids = s.domains.filter(d => domain === undefined || d.name === domain).map(d => d.id);
	if (domain !== undefined && !ids.length) refuse(`domain ${domain} is not served here (mail-setup domain list shows those that are)`);
	return new Set(ids);
}

export function listMailboxes(s: Snapshot, domain?: string): MailboxRow[] {
	const ids = wanted(s, domain);
	return s.mailboxes
		.filter(m => ids.has(m.domainId))
		.map(m => ({address: m.email, domain: domainOf(m.email), maildir: mailHome(m.email)}))
		.sort((a, b) => byName(a.domain, b.domain) || byName(a.address, b.address));
}

export function listAliases(s: Snapshot, domain?: string): AliasRow[] {
	const ids = wanted(s, domain);
	return s.aliases
		.filter(a => ids.has(a.domainId))
		.map(({source, destination}) => ({source, destination}))
		.sort((a, b) => byName(domainOf(a.source), domainOf(b.source)) || byName(a.source, b.source) || byName(a.destination, b.destination));
}

export function listDomains(s: Snapshot): DomainRow[] {
	return s.domains
		.map(d => ({name: d.name, mailboxes: s.mailboxes.filter(m => m.domainId === d.id).length, aliases: s.aliases.filter(a => a.domainId === d.id).length}))
		.sort((a, b) => byName(a.name, b.name));
}
