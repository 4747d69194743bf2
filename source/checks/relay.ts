// Whom Postfix lets relay, judged on the server itself. Postfix trusts a client by its address, not by
// its being local: a connection to one of this machine's own addresses arrives from that same address, so
// when mynetworks does not cover it, the answer the probe gets there is the answer the world gets.
// Here: mynetworks parsed and matched as Postfix does, the choice of that address, a static audit of the
// relay settings, and the verdict that combines probe and audit. Only the readers (postconf, interfaces, DNS)
// touch the machine; what kind an address is comes from net/addresses.ts.
import {addressKey, interfaceAddresses, isLoopback, isOwn, isPrivate, parseNetwork, reachableAddresses, resolveAll, within, type Network} from '../net/addresses.js';
import type {CheckStatus} from '../types.js';

/** One mynetworks entry as written; no `net` for what cannot be judged here (a /file/name, a type:table, junk). */
export interface Entry {
	text: string;
	negated: boolean;
	net?: Network;
}

/** What the relay decision needs of Postfix, read with `postconf -xh` (values expanded). */
export interface RelaySettings {
	mynetworks: string;
	/** Set when main.cf has no mynetworks: Postfix computed it from this style and the interfaces. */
	mynetworksStyle?: string;
	relayRestrictions: string;
	recipientRestrictions: string;
	inetProtocols: string;
}

/** Runs postconf with these arguments (through the Host's probe: no shell). */
export type Postconf = (args: string[]) => Promise<{exitCode: number; stdout: string; stderr: string}>;

/** A mynetworks entry: `127.0.0.0/8`, `[::1]/128`, `[::ffff:127.0.0.0]/104`, a bare address, `!entry`, or a table. */
export function parseEntry(token: string): Entry {
	const negated = token.startsWith('!');
	const text = negated ? token.slice(1) : token;
	const m = /^\[([^\]/]+)(?:\/(\d+))?\](?:\/(\d+))?$/.exec(text) ?? /^([^[\]/]+)(?:\/(\d+))?$/.exec(text);
	const prefix = m?.[2] ?? m?.[3];
	return {text: token, negated, net: m ? parseNetwork(m[1]!, prefix === undefined ? undefined : Number(prefix)) : undefined};
}

/** Entries are separated by commas and/or whitespace; an inline:{ … } table stays one entry. */
export function parseMynetworks(value: string): Entry[] {
	return (value.match(/[^\s,{]*\{[^}]*\}|[^\s,]+/g) ?? []).map(parseEntry);
}

/** Postfix's first match decides: the entry that trusts this address, or undefined. A table may trust anything, so it counts. */
export function trustingEntry(address: Network, entries: Entry[]): Entry | undefined {
	for (const entry of entries) {
		// A negated table can only distrust: passing over it never claims less trust than Postfix grants.
		if (!entry.net) {
			if (entry.negated) continue;
			return entry;
		}
		if (within(address, entry.net)) return entry.negated ? undefined : entry;
	}
	return undefined;
}

/** Restriction lists as tokens (names and their table arguments). */
const tokens = (list: string) => list.split(/[\s,]+/).filter(Boolean);

// What refuses relaying to unauthorized destinations, as Postfix counts them: without one before any bare
// permit in either list its smtpd will not even run ("specify at least one working instance of: …").
const REFUSALS = new Set(['reject_unauth_destination', 'defer_unauth_destination', 'reject', 'defer', 'defer_if_permit', 'check_relay_domains']);

/** The refusal in this restriction list that comes before any bare permit (which would let every client through). */
function guard(list: string): string | undefined {
	for (const token of tokens(list)) {
		if (token === 'permit') return undefined;
		if (REFUSALS.has(token)) return token;
	}
	return undefined;
}

const restrictionLists = (s: RelaySettings) => ({smtpd_relay_restrictions: s.relayRestrictions, smtpd_recipient_restrictions: s.recipientRestrictions});

const computed = (s: RelaySettings) => (s.mynetworksStyle ? ` (not in main.cf: computed from mynetworks_style = ${s.mynetworksStyle})` : '');

function describeMynetworks(s: RelaySettings): string {
	return `mynetworks ${s.mynetworks || '(empty)'}${computed(s)}`;
}

function describeEntry(entry: Entry): string {
	return entry.net ? `${entry.text} in mynetworks` : `${entry.text} in mynetworks (which this check cannot read: it may trust any address)`;
}

export interface Choice {
	/** An address of this machine Postfix does not trust; absent when every one is trusted. */
	address?: string;
	/** Each address passed over, with what trusts it. */
	trusted: {address: string; by: string}[];
}

/**
 * The address to probe relaying from (and to): not loopback, not IPv6 link-local (it needs a zone), a family
 * Postfix listens on, trusted by nothing. The checked host's own addresses first, then public before private,
 * IPv4 before IPv6 (an IPv6 address may still be tentative just after boot).
 */
export function chooseAddress(own: string[], preferred: string[], s: RelaySettings): Choice {
	const entries = parseMynetworks(s.mynetworks);
	const families = /ipv[46]/.test(s.inetProtocols) ? [4, 6].filter(f => s.inetProtocols.includes(`ipv${f}`)) : [4, 6]; // "all"
	// permit_inet_interfaces lets every address of this machine relay, whatever mynetworks says.
	const everyOwn = Object.entries(restrictionLists(s)).find(([, list]) => tokens(list).includes('permit_inet_interfaces'))?.[0];
	const trustedBy = (n: Network): string | undefined => {
		if (everyOwn) return `permit_inet_interfaces in ${everyOwn}`;
		const entry = trustingEntry(n, entries);
		return entry && describeEntry(entry);
	};
	const prefer = new Set(preferred.map(addressKey));
	const rank = ({address, net: n}: {address: string; net: Network}) => (prefer.has(addressKey(address)) ? 0 : 4) + (isPrivate(n) ? 2 : 0) + (n.family === 6 ? 1 : 0);
	const candidates = [...new Set(reachableAddresses(own))]
		.flatMap(address => {
			const n = parseNetwork(address);
			return n && families.includes(n.family) ? [{address, net: n}] : [];
		})
		.sort((a, b) => rank(a) - rank(b));
	const trusted: Choice['trusted'] = [];
	for (const {address, net: n} of candidates) {
		const by = trustedBy(n);
		if (!by) return {address, trusted};
		trusted.push({address, by});
	}
	return {trusted};
}

export interface Audit {
	/** Each makes the server an open relay by configuration. */
	problems: string[];
	/** What the operator should know but is no fault: a private range trusted, a table not judged, the guard found. */
	notes: string[];
}

/**
 * Open relay by configuration: mynetworks trusts everyone or a public range wider than a /24 (IPv4) or /48
 * (IPv6), or neither restriction list refuses unauthorized destinations.
 */
export function auditRelay(s: RelaySettings): Audit {
	const problems: string[] = [];
	const notes: string[] = [];
	for (const entry of parseMynetworks(s.mynetworks)) {
		if (entry.negated) continue;
		const n = entry.net;
		if (!n) notes.push(`mynetworks entry ${entry.text} cannot be judged here: it may trust any address`);
		else if (n.prefix === 0) problems.push(`mynetworks holds ${entry.text}: every client on the internet may relay`);
		else if (isLoopback(n)) continue;
		else if (isPrivate(n)) notes.push(`mynetworks trusts the private range ${entry.text}`);
		else if (n.prefix < (n.family === 4 ? 24 : 48)) problems.push(`mynetworks trusts the public range ${entry.text}, wider than a /${n.family === 4 ? 24 : 48}: every client there may relay`);
		else notes.push(`mynetworks trusts the public ${n.prefix === (n.family === 4 ? 32 : 128) ? 'address' : 'range'} ${entry.text}`);
	}
	const lists = Object.entries(restrictionLists(s));
	const guarded = lists.find(([, list]) => guard(list));
	if (guarded) notes.push(`${guarded[0]} holds ${guard(guarded[1])}`);
	else
		problems.push(
			`neither ${lists.map(([name, list]) => `${name} (${list || 'empty'})`).join(' nor ')} holds reject_unauth_destination or defer_unauth_destination before any bare permit: nothing refuses relaying (Postfix's smtpd will not even run so, and port 25 answers nobody)`,
		);
	return {problems, notes};
}

const NAMES = ['mynetworks', 'mynetworks_style', 'smtpd_relay_restrictions', 'smtpd_recipient_restrictions', 'inet_protocols'];

/** The relay settings from `postconf -xh`; undefined when postconf does not run here (no Postfix on this machine). */
export async function readRelaySettings(postconf: Postconf, log: (line: string) => void): Promise<RelaySettings | undefined> {
	const values = await postconf(['-xh', ...NAMES]);
	const lines = values.stdout.split('\n');
	if (values.exitCode !== 0 || lines.length < NAMES.length) return undefined;
	log(`$ postconf -xh ${NAMES.join(' ')}`);
	NAMES.forEach((name, i) => log(`${name} = ${lines[i]}`));
	// `postconf -n` names only what main.cf sets: without mynetworks there, Postfix computed it.
	const set = await postconf(['-n', 'mynetworks']);
	const [mynetworks = '', style, relayRestrictions = '', recipientRestrictions = '', inetProtocols = ''] = lines;
	return {mynetworks, ...(set.stdout.trim() ? {} : {mynetworksStyle: style}), relayRestrictions, recipientRestrictions, inetProtocols};
}

export interface RelayPlan {
	/** Where the probe connects (s_client -connect); SNI and EHLO keep the FQDN. */
	connect: string;
	/** Does Postfix answer this probe as it answers the world? */
	conclusive: boolean;
	/** Why it counts, or which entry trusts each address of this machine. */
	why: string;
	/** Only on the server itself, where postconf runs. */
	audit?: Audit;
}

export interface RelayOptions {
	checkHost: string;
	/** Is checkHost this machine? Detected when unset. */
	thisMachine?: boolean;
	/** Absent, or not runnable: nothing is known of what Postfix trusts. */
	postconf?: Postconf;
	/** This machine's addresses (default: its interfaces). */
	ownAddresses?: string[];
}

/** Where the relay probe connects, and whether its answer decides. */
export async function planRelay(o: RelayOptions, log: (line: string) => void): Promise<RelayPlan> {
	const outside: RelayPlan = {connect: o.checkHost, conclusive: true, why: ''};
	if (o.thisMachine === false) return outside;
	const resolved = await resolveAll(o.checkHost);
	const own = o.ownAddresses ?? interfaceAddresses();
	if (!(o.thisMachine ?? isOwn(resolved, own))) return outside;
	const settings = o.postconf && (await readRelaySettings(o.postconf, log));
	if (!settings)
		return {connect: o.checkHost, conclusive: false, why: `${o.checkHost} is this machine, and postconf did not say here which of its addresses Postfix trusts (mynetworks)`};
	const audit = auditRelay(settings);
	const choice = chooseAddress(own, resolved, settings);
	if (choice.address) {
		log(`relay probe connects to ${choice.address}, an address of this machine that Postfix does not trust`);
		return {connect: choice.address, conclusive: true, why: `Postfix does not trust ${choice.address}: outside ${describeMynetworks(settings)}`, audit};
	}
	const each = choice.trusted.length ? choice.trusted.map(t => `${t.address} by ${t.by}`).join('; ') : `it has no address but loopback, which ${describeMynetworks(settings)} covers`;
	return {connect: o.checkHost, conclusive: false, why: `${o.checkHost} is this machine, and Postfix trusts every address of it: ${each}${computed(settings)}`, audit};
}

/** What the relay probe saw: the server's answer to RCPT TO an outside address, or why there was none. */
export interface Probe {
	outcome: 'refused' | 'accepted' | 'blocked' | 'error';
	message: string;
}

const PROBE_STATUS = {refused: 'pass', accepted: 'fail', blocked: 'inconclusive', error: 'fail'} as const;

/** The verdict: the probe's answer where it decides, else inconclusive with `again` (how to check from outside); an audit problem always fails. */
export function relayVerdict(plan: RelayPlan, probe: Probe, again: string): {status: CheckStatus; message: string} {
	const problems = plan.audit?.problems ?? [];
	const notes = plan.audit?.notes.length ? ` Audit: ${plan.audit.notes.join('; ')}.` : '';
	const failed = problems.length ? `OPEN RELAY BY CONFIGURATION: ${problems.join('; ')}. ` : '';
	if (plan.conclusive) {
		const why = plan.why ? ` ${plan.why}, so its answer is the one the world gets.` : '';
		return {status: problems.length ? 'fail' : PROBE_STATUS[probe.outcome], message: `${failed}${probe.message.replace(/\.?$/, '.')}${why}${notes}`};
	}
	const seen = {
		accepted: 'relaying was accepted from here, as expected for a trusted client',
		refused: 'relaying was refused even from here (a good sign)',
		blocked: 'the probe from here proved nothing',
		error: `the probe from here failed (${probe.message})`,
	}[probe.outcome];
	// With an audit problem the answer is known: no need to send the operator elsewhere.
	const advice = problems.length ? '' : ` Only a check from outside says whether the world may relay: ${again}`;
	return {status: problems.length ? 'fail' : 'inconclusive', message: `${failed}${plan.why}; ${seen}.${advice}${notes}`};
}
