// The operator's answers: validation (shared by flags and the wizard's fields) and defaults.
import {isIP} from 'node:net';
import type {Answers, DovecotSyntax} from './types.js';
import {UsageError} from './types.js';

export type Validator = (value: string) => string | undefined; // an error, or undefined when fine

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export const validFqdn: Validator = value => {
	if (!value) return 'is empty';
	if (value.length > 253) return 'is longer than 253 characters';
	const labels = value.split('.');
	if (labels.length < 2) return 'needs at least two labels (like mail.example.com)';
	for (const part of labels) {
		if (part === '') return 'has an empty label';
		if (part.length > 63) return `has a label longer than 63 characters (${part.slice(0, 12)}…)`;
		if (!label.test(part)) return `has an invalid label "${part}": letters, digits and inner hyphens only`;
	}
	return undefined;
};

export const validAddress: Validator = value => {
	if (!value) return 'is empty';
	if (value.length > 100) return 'is longer than 100 characters';
	const at = value.lastIndexOf('@');
	if (at < 1) return 'is not an address (local@domain)';
	if (!/^[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+$/.test(value.slice(0, at)) || value.startsWith('.') || value.includes('..')) {
		return 'has an invalid local part';
	}
	const domain = validFqdn(value.slice(at + 1));
	return domain ? `has a domain that ${domain}` : undefined;
};

export const validIdentifier: Validator = value => {
	if (!value) return 'is empty';
	if (value.length > 64) return 'is longer than 64 characters';
	if (!/^[A-Za-z0-9_$]+$/.test(value)) return 'may hold only letters, digits, _ and $';
	return undefined;
};

export const validDbHost: Validator = value => {
	if (!value) return 'is empty';
	if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || (value.includes(':') && /^[0-9a-f:]+$/i.test(value))) return undefined;
	if (value.length <= 253 && value.split('.').every(part => label.test(part))) return undefined;
	return 'is not a host name or IP address';
};

export const validPassword: Validator = value => {
	if (!value) return 'is empty';
	if (value.length > 128) return 'is longer than 128 characters';
	if (/[^\x20-\x7e]/.test(value)) return 'may hold only printable ASCII characters';
	if (value.trim() !== value) return 'has leading or trailing spaces';
	return undefined;
};

export const validSelector: Validator = value => {
	if (!value) return 'is empty';
	if (value.length > 63) return 'is longer than 63 characters';
	// It names a DNS label and a file under /etc/dkimkeys: no slash, no dot-dot, no empty label.
	return value.split('.').every(part => label.test(part)) ? undefined : 'may hold only letters, digits, inner hyphens and dots between labels';
};

/** '' is the system's resolver; else an address, optionally with a port (203.0.113.53, 203.0.113.53:5353, [2001:db8::53]:53). */
export const validDnsServer: Validator = value => {
	if (value === '' || isIP(value)) return undefined;
	const withPort = value.match(/^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/);
	const address = withPort?.[1] ?? withPort?.[2];
	if (address && isIP(address) && Number(withPort![3]) > 0 && Number(withPort![3]) < 65536) return undefined;
	return 'is not an IP address (with an optional :port)';
};

export function validDovecot(value: string): DovecotSyntax {
	if (value === '2.3' || value === '2.4') return value;
	throw new UsageError(`--dovecot must be 2.3 or 2.4, not "${value}"`, 'dovecot');
}

/** The field's check, for the wizard and the flags alike. */
export const validators: Partial<Record<keyof Answers, Validator>> = {
	fqdn: validFqdn,
	domain: validFqdn,
	postmaster: validAddress,
	dbHost: validDbHost,
	dbName: validIdentifier,
	dbUser: validIdentifier,
	dbPassword: validPassword,
	testUser: validAddress,
	testPassword: validPassword,
	checkHost: validDbHost,
	cert: value => (value.startsWith('/') ? undefined : 'must be an absolute path'),
	key: value => (value.startsWith('/') ? undefined : 'must be an absolute path'),
	dkimSelector: validSelector,
	dnsServer: validDnsServer,
};

export const fieldNames: Record<keyof Answers, string> = {
	fqdn: 'FQDN',
	domain: 'mail domain',
	postmaster: 'postmaster address',
	dbHost: 'database host',
	dbName: 'database name',
	dbUser: 'database user',
	dbPassword: 'database password',
	testUser: 'test mailbox',
	testPassword: 'test mailbox password',
	checkHost: 'check host',
	dovecot: 'Dovecot syntax',
	cert: 'certificate file',
	key: 'key file',
	renew: 'renew',
	dbCreate: 'create database',
	dkimSelector: 'DKIM selector',
	dnsServer: 'DNS server',
};

/** Defaults that follow from other answers (FQDN → domain → postmaster, mailbox, cert paths). */
export function withDefaults(given: Partial<Answers> & {fqdn: string}): Answers {
	const domain = given.domain || given.fqdn.split('.').slice(1).join('.');
	return {
		domain,
		postmaster: `postmaster@${domain}`,
		dbHost: 'localhost',
		dbName: 'mailserver',
		dbUser: 'mailuser',
		dbPassword: '',
		testUser: `test@${domain}`,
		testPassword: '',
		checkHost: given.fqdn,
		dovecot: '2.3',
		cert: `/etc/ssl/certs/${given.fqdn}.crt`,
		key: `/etc/ssl/private/${given.fqdn}.key`,
		renew: false,
		dbCreate: false,
		dkimSelector: 'mail',
		dnsServer: '',
		...stripEmpty(given),
	} as Answers;
}

function stripEmpty<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** Throw a UsageError naming the first bad field. */
export function validate(answers: Answers, need: {dbPassword: boolean; testPassword: boolean}): void {
	for (const [field, check] of Object.entries(validators) as [keyof Answers, Validator][]) {
		const value = answers[field] as string;
		if (value === '' && ((field === 'dbPassword' && !need.dbPassword) || (field === 'testPassword' && !need.testPassword))) continue;
		const problem = check(value);
		if (problem) throw new UsageError(`${fieldNames[field]} ${problem}`, field);
	}
}
