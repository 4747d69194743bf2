// The DNS records a mail server needs, as data and as zone-file lines. Pure: no lookups here.
import {isIPv6} from 'node:net';
import {parseNetwork} from '../net/addresses.js';
import type {DnsRecord} from '../types.js';

export interface RecordFacts {
	domain: string;
	fqdn: string;
	postmaster: string;
	selector: string;
	/** The server's public addresses; [] when not known here. */
	addresses: string[];
	/** The DKIM public key in use (base64 SubjectPublicKeyInfo); undefined when not known here. */
	dkimKey?: string;
}

export const dkimName = (selector: string, domain: string) => `${selector}._domainkey.${domain}`;
export const dmarcName = (domain: string) => `_dmarc.${domain}`;
// The server by name, and whatever else the domain's MX records name: no MX change ever breaks it.
export const spfValue = (fqdn: string) => `v=spf1 mx a:${fqdn} -all`;
export const dkimValue = (key: string) => `v=DKIM1; k=rsa; p=${key}`;
export const dmarcValue = (postmaster: string) => `v=DMARC1; p=quarantine; rua=mailto:${postmaster}`;

const record = (type: DnsRecord['type'], name: string, value: string): DnsRecord => ({type, name, value, status: 'unchecked'});

/** Every record to publish, in the order an operator adds them; PTR last (the hosting provider sets it). */
export function recordsFor(f: RecordFacts): DnsRecord[] {
	return [
		record('MX', f.domain, `10 ${f.fqdn}`),
		...f.addresses.map(address => record(isIPv6(address) ? 'AAAA' : 'A', f.fqdn, address)),
		record('TXT', f.domain, spfValue(f.fqdn)),
		...(f.dkimKey ? [record('TXT', dkimName(f.selector, f.domain), dkimValue(f.dkimKey))] : []),
		record('TXT', dmarcName(f.domain), dmarcValue(f.postmaster)),
		...(f.addresses.length ? f.addresses.map(address => record('PTR', reverseName(address), f.fqdn)) : [record('PTR', '', f.fqdn)]),
	];
}

/** A TXT value as zone-file strings: at most 255 bytes each (RFC 1035), quotes and backslashes escaped. */
export function txtStrings(value: string): string[] {
	const bytes = Buffer.from(value);
	const parts: string[] = [];
	for (let at = 0; at < bytes.length || parts.length === 0; at += 255) parts.push(bytes.subarray(at, at + 255).toString());
	return parts.map(part => `"${part.replace(/["\\]/g, c => `\\${c}`)}"`);
}

/** One zone-file line, names absolute (trailing dot). A PTR whose address is not known says so instead of a name. */
export function zoneLine(r: DnsRecord): string {
	const name = r.name ? `${r.name}.` : "<the server's address, reversed>.";
	const value = r.type === 'TXT' ? txtStrings(r.value).join(' ') : r.type === 'A' || r.type === 'AAAA' ? r.value : `${r.value}.`;
	return `${name} IN ${r.type} ${value}`;
}

/** 203.0.113.2 → 2.113.0.203.in-addr.arpa; IPv6 as 32 reversed nibbles under ip6.arpa. */
export function reverseName(address: string): string {
	const n = parseNetwork(address)!;
	if (n.family === 4) return `${[0n, 8n, 16n, 24n].map(shift => (n.base >> shift) & 255n).join('.')}.in-addr.arpa`;
	return `${[...n.base.toString(16).padStart(32, '0')].reverse().join('.')}.ip6.arpa`;
}

export const recordLabels: Record<DnsRecord['status'], string> = {
	published: 'published',
	missing: 'TO PUBLISH',
	wrong: 'WRONG',
	unchecked: 'not checked',
};

/** The labels' column width, so the records line up. */
export const recordLabelWidth = Math.max(...Object.values(recordLabels).map(label => label.length));

/** What the summaries print for one record: its zone-file line, the PTR marked as the hosting provider's. */
export function recordText(r: DnsRecord): string {
	return r.type === 'PTR' ? `${zoneLine(r)}   (ask your hosting provider)` : zoneLine(r);
}
