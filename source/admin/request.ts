// Day two: `mailbox`, `alias` and `domain` commands. The words after the noun → one request, checked for form only
// (what the database holds is plan.ts's business). Bad form is a UsageError: exit 2, nothing touched.
import {validAddress, validFqdn} from '../answers.js';
import {UsageError} from '../types.js';

export const NOUNS = ['mailbox', 'alias', 'domain'] as const;
export type Noun = (typeof NOUNS)[number];

export type Request =
	| {noun: 'mailbox'; verb: 'add' | 'passwd' | 'remove'; address: string}
	| {noun: 'mailbox'; verb: 'list'; domain?: string}
	| {noun: 'alias'; verb: 'add'; source: string; destination: string}
	| {noun: 'alias'; verb: 'remove'; source: string; destination?: string}
	| {noun: 'alias'; verb: 'list'; domain?: string}
	| {noun: 'domain'; verb: 'add' | 'remove'; domain: string}
	| {noun: 'domain'; verb: 'list'};

/** `mail-setup mailbox` alone: the screen (in a terminal). */
export type Screen = {noun: 'mailbox'; verb: 'screen'};

const usage: Record<Noun, string> = {
	mailbox: 'mailbox add|passwd|remove ADDRESS · mailbox list [DOMAIN]',
	alias: 'alias add SOURCE DESTINATION · alias remove SOURCE [DESTINATION] · alias list [DOMAIN]',
	domain: 'domain add|remove DOMAIN · domain list',
};

// Operand counts per verb: [least, most].
const shapes: Record<Noun, Record<string, [number, number]>> = {
	mailbox: {add: [1, 1], passwd: [1, 1], remove: [1, 1], list: [0, 1]},
	alias: {add: [2, 2], remove: [1, 2], list: [0, 1]},
	domain: {add: [1, 1], remove: [1, 1], list: [0, 0]},
};

/** Mail addresses and domains are stored lower-case: Postfix folds lookups to it, and one spelling means one mailbox. */
export function address(value: string, what: string): string {
	const problem = validAddress(value);
	if (problem) throw new UsageError(`${what} ${JSON.stringify(value)} ${problem}`);
	// The local part names the mail directory (/var/mail/<domain>/<local>).
	if (value.slice(0, value.lastIndexOf('@')).includes('/')) throw new UsageError(`${what} ${JSON.stringify(value)} may not hold a /`);
	return value.toLowerCase();
}

export function domain(value: string): string {
	const problem = validFqdn(value);
	if (problem) throw new UsageError(`domain ${JSON.stringify(value)} ${problem}`);
	// virtual_domains.name is VARCHAR(50) in the tutorial's schema.
	if (value.length > 50) throw new UsageError(`domain ${JSON.stringify(value)} is longer than 50 characters (the virtual_domains.name column)`);
	return value.toLowerCase();
}

export function parseRequest(words: string[]): Request | Screen {
	const [noun, verb, ...rest] = words as [Noun, string | undefined, ...string[]];
	if (verb === undefined) {
		if (noun === 'mailbox') return {noun, verb: 'screen'};
		throw new UsageError(`${noun} needs a subcommand: ${usage[noun]}`);
	}
	const shape = Object.hasOwn(shapes[noun], verb) ? shapes[noun][verb] : undefined;
	if (!shape) throw new UsageError(`unknown subcommand "${noun} ${verb}": ${usage[noun]}`);
	if (rest.length < shape[0] || rest.length > shape[1]) throw new UsageError(`wrong number of arguments to "${noun} ${verb}": ${usage[noun]}`);
	const [first, second] = rest;
	switch (noun) {
		case 'mailbox':
			if (verb === 'list') return {noun, verb, domain: first === undefined ? undefined : domain(first)};
			return {noun, verb: verb as 'add' | 'passwd' | 'remove', address: address(first!, 'address')};
		case 'alias':
			if (verb === 'list') return {noun, verb, domain: first === undefined ? undefined : domain(first)};
			if (verb === 'add') return {noun, verb, source: address(first!, 'alias'), destination: address(second!, 'destination')};
			return {noun, verb: 'remove', source: address(first!, 'alias'), destination: second === undefined ? undefined : address(second, 'destination')};
		case 'domain':
			if (verb === 'list') return {noun, verb};
			return {noun, verb: verb as 'add' | 'remove', domain: domain(first!)};
	}
}

/** The command as the operator would type it (for messages and the JSON document). */
export function commandOf(request: Request): string {
	return `${request.noun} ${request.verb}`;
}

export const needsPassword = (r: Request | Screen): r is {noun: 'mailbox'; verb: 'add' | 'passwd'; address: string} =>
	r.noun === 'mailbox' && (r.verb === 'add' || r.verb === 'passwd');

/** The day-two flags make sense with some commands only. */
export function checkFlags(r: Request | Screen | undefined, flags: {passwordFile?: string; purgeMail: boolean}): void {
	if (flags.purgeMail && !(r?.noun === 'mailbox' && r.verb === 'remove')) throw new UsageError('--purge-mail goes with mailbox remove only', 'purge-mail');
	if (flags.passwordFile !== undefined && !(r && needsPassword(r))) throw new UsageError('--password-file goes with mailbox add and mailbox passwd only', 'password-file');
}
