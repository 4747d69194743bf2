// Does an SPF record allow an address to send for a domain? The mechanisms a mail server's record uses:
// all, ip4:, ip6:, a, mx (with their :domain and /prefix forms) and include: / redirect= one level deep.
// Not followed, and said so: exists:, ptr, macros (%{…}), and an include or redirect inside an include.
import {isIPv4, isIPv6} from 'node:net';
import {parseNetwork, within} from '../net/addresses.js';

/** What a DNS question got: records, none (no such name or no such type), or no answer at all. */
export type Answer<T> = {kind: 'data'; data: T} | {kind: 'none'} | {kind: 'error'; why: string};

export interface SpfDns {
	/** TXT records, each record's strings joined. */
	txt(name: string): Promise<Answer<string[]>>;
	address(name: string, family: 4 | 6): Promise<Answer<string[]>>;
	/** The exchanges the MX records name. */
	mx(name: string): Promise<Answer<string[]>>;
}

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral';

export type SpfVerdict =
	| {result: SpfResult; by: string} // by: the term that decided, or why nothing did
	| {result: 'permerror'; why: string} // the record is broken: receivers treat that as no permission
	| {result: 'unknown'; why: string}; // not evaluated here (a term not followed, a lookup without answer)

const qualifiers: Record<string, SpfResult> = {'+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral'};

/** The SPF records among a name's TXT records (RFC 7208 4.5: "v=spf1" then a space or the end). */
export const spfRecords = (txts: string[]) => txts.filter(txt => /^v=spf1(\s|$)/i.test(txt.trim()));

/** Evaluate record (the SPF record of domain) for ip; depth 1 inside an include or redirect. */
export async function evaluateSpf(record: string, domain: string, ip: string, dns: SpfDns, depth = 0): Promise<SpfVerdict> {
	const family = isIPv4(ip) ? 4 : 6;
	let redirect: string | undefined;
	for (const term of record.trim().split(/\s+/).slice(1)) {
		if (term.includes('%')) return {result: 'unknown', why: `${term}: macros are not expanded here`};
		const modifier = term.match(/^([a-z][a-z0-9_.-]*)=(.*)$/i);
		if (modifier) {
			if (modifier[1]!.toLowerCase() === 'redirect') redirect = modifier[2];
			continue; // exp= and unknown modifiers do not change the result
		}
		const qualifier = '+-~?'.includes(term[0]!) ? term[0]! : '+';
		const body = qualifier === term[0] ? term.slice(1) : term;
		const [, name = '', rest = ''] = body.match(/^([a-z0-9]+)(.*)$/i) ?? [];
		let match: boolean | SpfVerdict;
		switch (name.toLowerCase()) {
			case 'all':
				match = rest === '' ? true : {result: 'permerror', why: `${term} is not a mechanism`};
				break;
			case 'ip4':
			case 'ip6':
				match = rest.startsWith(':') ? inNetwork(ip, rest.slice(1), name.toLowerCase() === 'ip4', term) : {result: 'permerror', why: `${term} names no network`};
				break;
			case 'a':
			case 'mx':
				match = await byName(name.toLowerCase() as 'a' | 'mx', rest, domain, ip, family, term, dns);
				break;
			case 'include':
				match = depth > 0 ? {result: 'unknown', why: `${term} inside an include is not followed`} : await included(rest.slice(1), ip, dns, term);
				break;
			case 'exists':
			case 'ptr':
				return {result: 'unknown', why: `${term}: ${name} is not evaluated here`};
			default:
				return {result: 'permerror', why: `unknown mechanism ${term}`};
		}
		if (typeof match === 'object') return match;
		if (match) return {result: qualifiers[qualifier]!, by: term};
	}
	if (redirect !== undefined) {
		if (depth > 0) return {result: 'unknown', why: `redirect=${redirect} inside an include is not followed`};
		const target = await recordOf(redirect, dns, `redirect=${redirect}`);
		return 'result' in target ? target : evaluateSpf(target.record, redirect, ip, dns, depth + 1);
	}
	return {result: 'neutral', by: 'no mechanism matched and there is no "all"'};
}

function inNetwork(ip: string, spec: string, v4: boolean, term: string): boolean | SpfVerdict {
	const [network = '', prefixText] = spec.split('/');
	if (v4 ? !isIPv4(network) : !isIPv6(network)) return {result: 'permerror', why: `${term}: not an ${v4 ? 'IPv4' : 'IPv6'} address`};
	if (v4 !== isIPv4(ip)) return false;
	const prefix = prefixText === undefined ? (v4 ? 32 : 128) : Number(prefixText);
	if (!Number.isInteger(prefix) || prefix < 0 || prefix > (v4 ? 32 : 128)) return {result: 'permerror', why: `${term}: bad prefix length`};
	return within(parseNetwork(ip)!, parseNetwork(network, prefix)!);
}

/** a[:domain][/p4][//p6] and mx[:domain][/p4][//p6]. */
async function byName(kind: 'a' | 'mx', rest: string, domain: string, ip: string, family: 4 | 6, term: string, dns: SpfDns): Promise<boolean | SpfVerdict> {
	const parts = rest.match(/^(?::([^/]+))?(?:\/(\d+))?(?:\/\/(\d+))?$/);
	if (!parts) return {result: 'permerror', why: `${term} is not a valid ${kind} mechanism`};
	const target = parts[1] ?? domain;
	const prefix = family === 4 ? parts[2] : parts[3];
	let hosts = [target];
	if (kind === 'mx') {
		const mx = await dns.mx(target);
		if (mx.kind === 'error') return {result: 'unknown', why: `${term}: no answer for the MX of ${target} (${mx.why})`};
		hosts = mx.kind === 'data' ? mx.data : [];
	}
	for (const host of hosts) {
		const found = await dns.address(host, family);
		if (found.kind === 'error') return {result: 'unknown', why: `${term}: no answer for the addresses of ${host} (${found.why})`};
		for (const address of found.kind === 'data' ? found.data : []) {
			if (inNetwork(ip, prefix === undefined ? address : `${address}/${prefix}`, family === 4, term) === true) return true;
		}
	}
	return false;
}

/** include:domain matches when that domain's own record gives pass. */
async function included(target: string, ip: string, dns: SpfDns, term: string): Promise<boolean | SpfVerdict> {
	const found = await recordOf(target, dns, term);
	if ('result' in found) return found;
	const inner = await evaluateSpf(found.record, target, ip, dns, 1);
	return inner.result === 'permerror' || inner.result === 'unknown' ? inner : inner.result === 'pass';
}

async function recordOf(target: string, dns: SpfDns, term: string): Promise<{record: string} | SpfVerdict> {
	const txt = await dns.txt(target);
	if (txt.kind === 'error') return {result: 'unknown', why: `${term}: no answer for the TXT records of ${target} (${txt.why})`};
	const records = spfRecords(txt.kind === 'data' ? txt.data : []);
	if (records.length !== 1) return {result: 'permerror', why: `${term}: ${target} has ${records.length || 'no'} SPF records, not one`};
	return {record: records[0]!};
}
