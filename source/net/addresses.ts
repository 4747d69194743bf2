// Addresses: what kind an address is, and which are this machine's. The one place for these rules;
// the relay check (mynetworks), the DNS checks and the Let's Encrypt stage all ask here.
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';

/** An address (a full-length prefix) or a network, as a number. */
export interface Network {
	family: 4 | 6;
	base: bigint;
	prefix: number;
}

function mask(family: 4 | 6, prefix: number): bigint {
	const bits = BigInt(family === 4 ? 32 : 128);
	return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** An IPv4 or IPv6 address as a number (an IPv6 zone such as %eth0 dropped). */
function parseRaw(text: string): {family: 4 | 6; value: bigint} | undefined {
	const bare = text.replace(/%.*$/, '');
	if (net.isIPv4(bare)) return {family: 4, value: bare.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n)};
	if (!net.isIPv6(bare)) return undefined;
	// A dotted IPv4 tail (::ffff:192.0.2.1) is the last two groups.
	const hex = bare.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
	const [head = '', tail] = hex.split('::');
	const groups = (part: string) => (part ? part.split(':') : []);
	const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
	return {family: 6, value: all.reduce((n, group) => (n << 16n) | BigInt(`0x${group}`), 0n)};
}

/** An address or address/prefix as a network; IPv4-mapped IPv6 (::ffff:0:0/96) becomes IPv4, as servers see such a client. */
export function parseNetwork(address: string, prefix?: number): Network | undefined {
	const raw = parseRaw(address);
	if (!raw) return undefined;
	let {family, value} = raw;
	let length = prefix ?? (family === 4 ? 32 : 128);
	if (length > (family === 4 ? 32 : 128)) return undefined;
	if (family === 6 && length >= 96 && value >> 32n === 0xffffn) {
		family = 4;
		value &= 0xffffffffn;
		length -= 96;
	}
	// Host bits set (192.168.1.1/24): the network is what matches.
	return {family, prefix: length, base: value & mask(family, length)};
}

/** Is `inner` (an address is a full-length network) inside `outer`? */
export function within(inner: Network, outer: Network): boolean {
	return inner.family === outer.family && inner.prefix >= outer.prefix && (inner.base & mask(outer.family, outer.prefix)) === outer.base;
}

/** One spelling per address, so that two spellings of the same address compare equal ('' when not an address). */
export function addressKey(address: string): string {
	const n = parseNetwork(address);
	return n ? `${n.family} ${n.base}` : '';
}

const networks = (list: [string, number][]) => list.map(([address, prefix]) => parseNetwork(address, prefix)!);
const LOOPBACK = networks([['127.0.0.0', 8], ['::1', 128]]);
const LINK_LOCAL = networks([['169.254.0.0', 16], ['fe80::', 10]]);
// RFC 1918, CGNAT, link-local, IPv6 unique-local and link-local: a LAN, never the internet at large.
const PRIVATE = [...networks([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['fc00::', 7]]), ...LINK_LOCAL];

const inAny = (list: Network[]) => (what: string | Network) => {
	const n = typeof what === 'string' ? parseNetwork(what) : what;
	return !!n && list.some(outer => within(n, outer));
};
export const isLoopback = inAny(LOOPBACK);
export const isLinkLocal = inAny(LINK_LOCAL);
/** Inside a private range (a whole network too: 10.1.0.0/16 is). */
export const isPrivate = inAny(PRIVATE);

/** Every address of this machine's interfaces, loopback included. */
export function interfaceAddresses(): string[] {
	return Object.values(os.networkInterfaces()).flatMap(list => (list ?? []).map(info => info.address));
}

/** This machine's addresses another host could reach it at: no loopback, no link-local. */
export function reachableAddresses(own = interfaceAddresses()): string[] {
	return own.filter(address => !isLoopback(address) && !isLinkLocal(address));
}

/** What a client here connects to for this name (/etc/hosts first, as getaddrinfo does); [] when it does not resolve. */
export async function resolveAll(host: string): Promise<string[]> {
	try {
		return (await dns.lookup(host, {all: true})).map(entry => entry.address);
	} catch {
		return [];
	}
}

/** Any of these addresses is loopback, unspecified (0.0.0.0, ::), or one of `own`. */
export function isOwn(addresses: string[], own = interfaceAddresses()): boolean {
	const mine = new Set(own.map(addressKey));
	return addresses.some(address => {
		const n = parseNetwork(address);
		return !!n && (isLoopback(n) || n.base === 0n || mine.has(addressKey(address)));
	});
}

/** True when host resolves to loopback or to an address of one of this machine's interfaces. */
export async function isThisMachine(host: string): Promise<boolean> {
	return isOwn(await resolveAll(host));
}
