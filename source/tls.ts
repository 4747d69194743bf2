// The TLS policy, in one place: Mozilla's "intermediate" profile (ssl-config.mozilla.org, guideline 5.7) for the
// ports where users log in (993, 587), and what "at least as strict" means for each setting, so that a rerun
// keeps what an operator tightened and replaces only what is looser than the profile or unrecognised.

/** Mozilla intermediate, TLS 1.2: forward-secret key exchange (ECDHE, DHE) with AEAD ciphers (AES-GCM, ChaCha20) only.
 * TLS 1.3 suites are all AEAD and are not governed by these lists. */
export const INTERMEDIATE_CIPHERS = [
	'ECDHE-ECDSA-AES128-GCM-SHA256',
	'ECDHE-RSA-AES128-GCM-SHA256',
	'ECDHE-ECDSA-AES256-GCM-SHA384',
	'ECDHE-RSA-AES256-GCM-SHA384',
	'ECDHE-ECDSA-CHACHA20-POLY1305',
	'ECDHE-RSA-CHACHA20-POLY1305',
	'DHE-RSA-AES128-GCM-SHA256',
	'DHE-RSA-AES256-GCM-SHA384',
	'DHE-RSA-CHACHA20-POLY1305',
] as const;

export const CIPHER_LIST = INTERMEDIATE_CIPHERS.join(':');

/** Debian's DH group for Dovecot (both releases ship it): the DHE suites above need one on the server. */
export const DOVECOT_DH = '/usr/share/dovecot/dh.pem';

/** Postfix's mandatory-TLS exclusions: redundant with CIPHER_LIST, but they still hold if the grade is changed. */
export const EXCLUDED_CIPHERS = ['aNULL', 'eNULL', 'EXPORT', 'LOW', 'DES', '3DES', 'RC4', 'MD5', 'PSK', 'SRP'];

const tokens = (value: string) => value.split(/[\s,:]+/).filter(Boolean);

/** A cipher list stays when it names only intermediate suites (a subset, any order); anything else is replaced,
 * since a list of keywords (HIGH, !aNULL) cannot be proven stricter without the server's OpenSSL. */
export function cipherList(current: string | undefined): string {
	const names = tokens(current ?? '');
	const known = new Set<string>(INTERMEDIATE_CIPHERS);
	return names.length > 0 && names.every(name => known.has(name)) ? current!.trim() : CIPHER_LIST;
}

// Dovecot's ssl_min_protocol values, loosest first.
const DOVECOT_PROTOCOLS = ['ANY', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'LATEST'];

/** Dovecot's ssl_min_protocol: a higher floor (TLSv1.3, LATEST) stays. */
export function dovecotMinProtocol(current: string | undefined): string {
	const at = DOVECOT_PROTOCOLS.indexOf(current?.trim() ?? '');
	return at >= DOVECOT_PROTOCOLS.indexOf('TLSv1.2') ? current!.trim() : 'TLSv1.2';
}

// Postfix's protocol names, oldest first.
const POSTFIX_PROTOCOLS = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The protocols a Postfix protocol list enables (`>=TLSv1.2`, `!SSLv2, !SSLv3`, `TLSv1.2 TLSv1.3`, `<=TLSv1.2`),
 * undefined when it names something unknown. An empty list enables everything, as in Postfix. */
export function postfixProtocols(value: string): string[] | undefined {
	let low = 0;
	let high = POSTFIX_PROTOCOLS.length - 1;
	const included: number[] = [];
	const excluded: number[] = [];
	for (const token of tokens(value)) {
		const [, op = '', name = ''] = token.match(/^(>=|<=|!)?(.*)$/)!;
		const at = POSTFIX_PROTOCOLS.indexOf(name);
		if (at < 0) return undefined;
		if (op === '>=') low = Math.max(low, at);
		else if (op === '<=') high = Math.min(high, at);
		else if (op === '!') excluded.push(at);
		else included.push(at);
	}
	return POSTFIX_PROTOCOLS.filter((_, at) => at >= low && at <= high && !excluded.includes(at) && (included.length === 0 || included.includes(at)));
}

/** A Postfix protocol list with `floor` as its lowest protocol: one that enables only protocols at or above it stays. */
export function postfixProtocolList(current: string | undefined, floor: 'TLSv1' | 'TLSv1.2'): string {
	const enabled = current === undefined ? undefined : postfixProtocols(current);
	const min = POSTFIX_PROTOCOLS.indexOf(floor);
	const strict = enabled !== undefined && enabled.length > 0 && enabled.every(name => POSTFIX_PROTOCOLS.indexOf(name) >= min);
	return strict ? current!.trim() : `>=${floor}`;
}

/** Postfix's exclusion list: the operator's entries stay, the missing ones of ours are added (more exclusions = stricter). */
export function excludedCiphers(current: string | undefined): string {
	const present = tokens(current ?? '');
	const missing = EXCLUDED_CIPHERS.filter(name => !present.includes(name));
	return missing.length === 0 ? current!.trim() : [...present, ...missing].join(', ');
}
