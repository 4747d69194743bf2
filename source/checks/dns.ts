// The DNS checks: what receivers look up before they trust the server's mail (MX, A/AAAA, PTR, SPF, DKIM,
// DMARC), asked of the system's resolver or --dns-server, all of them decided within 3 s.
// Verdicts: a record that answers and is right passes; one that answers and is wrong fails; one that is not
// published is inconclusive while none of the domain's mail records (MX, SPF, DKIM, DMARC) is published yet
// (a first run, before the operator touched DNS, ends green with the records to publish) and a failure once
// some are (the operator started and forgot this one). No answer is never a pass: inconclusive.
import {createPublicKey} from 'node:crypto';
import {Resolver} from 'node:dns/promises';
import {isIPv4} from 'node:net';
import {addressKey, interfaceAddresses, isOwn, isPrivate, reachableAddresses, resolveAll} from '../net/addresses.js';
import {dkimName, dmarcName, recordsFor, reverseName, zoneLine} from '../dns/records.js';
import {evaluateSpf, spfRecords, type Answer, type SpfDns, type SpfVerdict} from '../dns/spf.js';
import type {CheckResult, CheckStatus, DnsRecord, RecordStatus} from '../types.js';

export interface DnsCheckOptions {
	domain: string;
	fqdn: string;
	postmaster: string;
	selector: string;
	/** Where the other checks connect: its address is the server's. */
	checkHost: string;
	/** '' or undefined: the system's resolver. */
	dnsServer?: string;
	/** The DKIM key in use (base64 SubjectPublicKeyInfo), when this machine can read it. */
	dkimKey?: string;
	/** Why the key in use is not known here (no key file, not readable, another machine). */
	dkimUnknown?: string;
	/** Every question is answered or given up within this (default 2.5 s, so all is decided within 3 s). */
	budgetMs?: number;
}

export interface DnsReport {
	checks: CheckResult[];
	records: DnsRecord[];
}

type RecordType = 'MX' | 'A' | 'AAAA' | 'TXT' | 'PTR';

interface Finding {
	status: CheckStatus;
	message: string;
	record: RecordStatus; // what the records this check is about are
}

const BUDGET_MS = 2500;
const lower = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** Each question, its answer as strings: MX exchanges by preference, TXT strings of a record joined, names without the dot. */
const queries: Record<RecordType, (resolver: Resolver, name: string) => Promise<string[]>> = {
	MX: async (resolver, name) => (await resolver.resolveMx(name)).sort((a, b) => a.priority - b.priority).map(mx => lower(mx.exchange)),
	TXT: async (resolver, name) => (await resolver.resolveTxt(name)).map(strings => strings.join('')),
	PTR: async (resolver, name) => (await resolver.resolvePtr(name)).map(lower),
	A: (resolver, name) => resolver.resolve4(name),
	AAAA: (resolver, name) => resolver.resolve6(name),
};

/** Asks each question once, however many checks need its answer; after the budget, nothing waits any more. */
class Asker {
	private readonly resolver = new Resolver({timeout: 1000, tries: 2});
	private readonly answers = new Map<string, Promise<Answer<string[]>>>();
	private readonly timer: NodeJS.Timeout;
	private expired = false;
	readonly server: string;

	constructor(server: string | undefined, budgetMs: number) {
		if (server) this.resolver.setServers([server]);
		this.server = server || `the system resolver (${this.resolver.getServers().join(', ') || 'none configured'})`;
		this.timer = setTimeout(() => {
			this.expired = true;
			this.resolver.cancel();
		}, budgetMs);
	}

	done(): void {
		clearTimeout(this.timer);
		this.resolver.cancel();
	}

	ask(type: RecordType, name: string): Promise<Answer<string[]>> {
		const key = `${type} ${lower(name)}`;
		let answer = this.answers.get(key);
		if (!answer) {
			answer = this.expired ? Promise.resolve({kind: 'error', why: 'no answer within the deadline'}) : this.query(type, name);
			this.answers.set(key, answer);
		}
		return answer;
	}

	private async query(type: RecordType, name: string): Promise<Answer<string[]>> {
		try {
			const data = await queries[type](this.resolver, name);
			return data.length ? {kind: 'data', data} : {kind: 'none'};
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			// NXDOMAIN and NODATA: the name or the type is not published. Everything else is no answer.
			if (code === 'ENOTFOUND' || code === 'ENODATA') return {kind: 'none'};
			return {kind: 'error', why: code === 'ECANCELLED' ? 'no answer within the deadline' : code};
		}
	}
}

function describe(answer: Answer<string[]>): string {
	return answer.kind === 'data' ? answer.data.join(' | ') : answer.kind === 'none' ? 'not published' : `no answer (${answer.why})`;
}

/** The server's addresses: those the checks reach, or, run on the server itself, its own (public ones first). */
export async function serverAddresses(checkHost: string, budgetMs = BUDGET_MS): Promise<{addresses: string[]; here: boolean; how: string}> {
	const lookup = resolveAll(checkHost).then(list => list.map(address => address.replace(/^::ffff:(?=\d+\.)/i, '')));
	let timer: NodeJS.Timeout | undefined;
	const found = await Promise.race([lookup, new Promise<string[]>(resolve => (timer = setTimeout(() => resolve([]), budgetMs)))]);
	clearTimeout(timer);
	const own = interfaceAddresses();
	const here = isOwn(found, own);
	if (!here) return {addresses: found, here, how: found.length ? `${checkHost} resolves here to ${found.join(', ')}` : `${checkHost} does not resolve here`};
	const usable = reachableAddresses(own);
	const addresses = usable.some(address => !isPrivate(address)) ? usable.filter(address => !isPrivate(address)) : usable;
	return {addresses, here, how: `the checks run on the server itself, whose address${addresses.length === 1 ? ' is' : 'es are'} ${addresses.join(', ') || 'not known'}`};
}

const familyOf = (address: string) => (isIPv4(address) ? 4 : 6);

/** The key a DKIM record's p= holds, as base64 SubjectPublicKeyInfo, with its size; or what is wrong with it. */
function publishedKey(txt: string): {key: string; bits: number} | {problem: string} {
	const tags = new Map(
		txt
			.split(';')
			.map(tag => tag.trim())
			.filter(Boolean)
			.map(tag => [tag.slice(0, tag.indexOf('=')).trim().toLowerCase(), tag.slice(tag.indexOf('=') + 1).replace(/\s+/g, '')] as const),
	);
	if (!tags.has('p')) return {problem: 'not a DKIM key record (no p= tag)'};
	if ((tags.get('k') ?? 'rsa').toLowerCase() !== 'rsa') return {problem: `a ${tags.get('k')} key, not RSA`};
	const p = tags.get('p')!;
	if (!p) return {problem: 'a revoked key (empty p=)'};
	const der = Buffer.from(p, 'base64');
	for (const type of ['spki', 'pkcs1'] as const) {
		try {
			const key = createPublicKey({key: der, format: 'der', type});
			return {key: key.export({type: 'spki', format: 'der'}).toString('base64'), bits: key.asymmetricKeyDetails?.modulusLength ?? 0};
		} catch {}
	}
	return {problem: 'p= is not an RSA public key'};
}

/** Runs the six DNS checks; `onEvent` gets each check's lines as they happen. */
export async function runDnsChecks(o: DnsCheckOptions, onEvent?: (id: string, line: string) => void): Promise<DnsReport> {
	const budget = o.budgetMs ?? BUDGET_MS;
	const q = new Asker(o.dnsServer, budget);
	const transcripts = new Map<string, string[]>();
	const logger = (id: string) => (line: string) => {
		transcripts.set(id, [...(transcripts.get(id) ?? []), line]);
		onEvent?.(id, line);
	};
	const asked = async (log: (line: string) => void, type: RecordType, name: string) => {
		const answer = await q.ask(type, name);
		log(`${type} ${name}: ${describe(answer)}`);
		return answer;
	};
	const {domain, fqdn} = o;
	try {
		// The questions every verdict below needs, all at once.
		const [reach, mx, txt, dkimTxt, dmarcTxt, a, aaaa] = await Promise.all([
			serverAddresses(o.checkHost, budget),
			q.ask('MX', domain),
			q.ask('TXT', domain),
			q.ask('TXT', dkimName(o.selector, domain)),
			q.ask('TXT', dmarcName(domain)),
			q.ask('A', fqdn),
			q.ask('AAAA', fqdn),
		]);
		const has = (answer: Answer<string[]>) => answer.kind === 'data';
		const started = has(mx) || spfRecords(txt.kind === 'data' ? txt.data : []).length > 0 || has(dkimTxt) || has(dmarcTxt);

		const published = [...(a.kind === 'data' ? a.data : []), ...(aaaa.kind === 'data' ? aaaa.data : [])];
		const reached = new Set(reach.addresses.map(addressKey));
		const shared = published.filter(address => reached.has(addressKey(address)));
		// The addresses the server sends from, as far as can be told from here.
		const servers = shared.length ? shared : reach.addresses.length ? reach.addresses : published;
		const records = recordsFor({domain, fqdn, postmaster: o.postmaster, selector: o.selector, addresses: servers, dkimKey: o.dkimKey});
		const lineOf = (type: RecordType, name: string) => records.filter(r => r.type === type && r.name === name).map(zoneLine).join('  ');

		const missing = (what: string, line: string, verb = 'publish'): Finding =>
			started
				? {status: 'fail', message: `${what} is missing, while other mail records of ${domain} are published: ${verb} ${line}`, record: 'missing'}
				: {status: 'inconclusive', message: `${what} is not published yet: ${verb} ${line}`, record: 'missing'};
		const noAnswer = (what: string, why: string): Finding => ({
			status: 'inconclusive',
			message: `no answer from ${q.server} for ${what} (${why}): check again later, or name a resolver that answers with --dns-server`,
			record: 'unchecked',
		});

		const judges: Record<string, (log: (line: string) => void) => Promise<Finding>> = {
			async 'dns-mx'(log) {
				const answer = await asked(log, 'MX', domain);
				const line = lineOf('MX', domain);
				if (answer.kind === 'error') return noAnswer(`the MX of ${domain}`, answer.why);
				if (answer.kind === 'none') return missing(`the MX record of ${domain}`, line);
				if (answer.data.includes(lower(fqdn))) return {status: 'pass', message: `the MX of ${domain} names ${fqdn}`, record: 'published'};
				const names = answer.data.map(name => name || '. (a null MX: no mail at all)').join(', ');
				return {status: 'fail', message: `the MX of ${domain} names ${names}, not ${fqdn}: publish ${line}`, record: 'wrong'};
			},
			async 'dns-address'(log) {
				await asked(log, 'A', fqdn);
				await asked(log, 'AAAA', fqdn);
				log(reach.how);
				const lines = records.filter(r => r.type === 'A' || r.type === 'AAAA').map(zoneLine).join('  ') || `${fqdn}. IN A <the server's address>`;
				if (!published.length) {
					const error = [a, aaaa].find(answer => answer.kind === 'error');
					return error?.kind === 'error' ? noAnswer(`the addresses of ${fqdn}`, error.why) : missing(`the address record of ${fqdn}`, lines);
				}
				if (!reach.addresses.length) return {status: 'inconclusive', message: `${fqdn} has ${published.join(', ')}, but ${reach.how}: no address to compare with`, record: 'unchecked'};
				const families = new Set(reach.addresses.map(familyOf));
				const foreign = published.filter(address => families.has(familyOf(address)) && !reached.has(addressKey(address)));
				if (shared.length && !foreign.length) return {status: 'pass', message: `${fqdn} has ${published.join(', ')}: ${reach.how}`, record: 'published'};
				if (reach.here && reach.addresses.every(isPrivate))
					return {
						status: 'inconclusive',
						message: `${fqdn} has ${published.join(', ')}, and this server has only private addresses (${reach.addresses.join(', ')}): behind NAT its public address cannot be seen from here. Run mail-setup check from another machine.`,
						record: 'unchecked',
					};
				return {status: 'fail', message: `${fqdn} has ${published.join(', ')}, but ${reach.how}: publish ${lines}`, record: 'wrong'};
			},
			async 'dns-ptr'(log) {
				if (!servers.length) return {status: 'inconclusive', message: `the server's address is not known here (${reach.how}), so its PTR cannot be looked up`, record: 'unchecked'};
				const found = await Promise.all(servers.map(async address => ({address, answer: await asked(log, 'PTR', reverseName(address))})));
				const ask = (address: string) => lineOf('PTR', reverseName(address));
				const wrong = found.filter(({answer}) => answer.kind === 'data' && !answer.data.includes(lower(fqdn)));
				if (wrong.length)
					return {
						status: 'fail',
						message: wrong.map(({address, answer}) => `the PTR of ${address} names ${describe(answer)}, not ${fqdn}`).join('; ') + `: ask your hosting provider for ${wrong.map(({address}) => ask(address)).join('  ')}`,
						record: 'wrong',
					};
				const error = found.find(({answer}) => answer.kind === 'error');
				if (error?.answer.kind === 'error') return noAnswer(`the PTR of ${error.address}`, error.answer.why);
				const absent = found.filter(({answer}) => answer.kind === 'none');
				if (absent.length) return missing(`the PTR of ${absent.map(({address}) => address).join(', ')}`, absent.map(({address}) => ask(address)).join('  '), 'ask your hosting provider for');
				return {status: 'pass', message: `the PTR of ${servers.join(', ')} names ${fqdn}`, record: 'published'};
			},
			async 'dns-spf'(log) {
				const answer = await asked(log, 'TXT', domain);
				const line = lineOf('TXT', domain);
				if (answer.kind === 'error') return noAnswer(`the TXT records of ${domain}`, answer.why);
				const spf = spfRecords(answer.kind === 'data' ? answer.data : []);
				if (!spf.length) return missing(`an SPF record for ${domain}`, line);
				if (spf.length > 1) return {status: 'fail', message: `${domain} has ${spf.length} SPF records, which receivers treat as an error: keep one, e.g. ${line}`, record: 'wrong'};
				if (!servers.length) return {status: 'inconclusive', message: `the server's address is not known here (${reach.how}): cannot tell whether "${spf[0]}" allows it`, record: 'unchecked'};
				const spfDns: SpfDns = {
					txt: name => asked(log, 'TXT', name),
					address: (name, family) => asked(log, family === 4 ? 'A' : 'AAAA', name),
					mx: name => asked(log, 'MX', name),
				};
				const verdicts = await Promise.all(servers.map(async ip => ({ip, verdict: await evaluateSpf(spf[0]!, domain, ip, spfDns)})));
				const shown = (v: SpfVerdict) => ('by' in v ? `${v.result}: ${v.by}` : `${v.result}: ${v.why}`);
				for (const {ip, verdict} of verdicts) log(`${ip}: ${shown(verdict)}`);
				const denied = verdicts.filter(({verdict}) => verdict.result !== 'pass' && verdict.result !== 'unknown');
				if (denied.length)
					return {
						status: 'fail',
						message: `"${spf[0]}" does not allow ${denied.map(({ip, verdict}) => `${ip} (${shown(verdict)})`).join(', ')}: add a:${fqdn}, e.g. publish ${line}`,
						record: 'wrong',
					};
				const unknown = verdicts.find(({verdict}) => verdict.result === 'unknown');
				if (unknown) return {status: 'inconclusive', message: `cannot tell whether "${spf[0]}" allows ${unknown.ip}: ${shown(unknown.verdict)}`, record: 'unchecked'};
				return {status: 'pass', message: `"${spf[0]}" allows ${verdicts.map(({ip, verdict}) => `${ip} (${shown(verdict)})`).join(', ')}`, record: 'published'};
			},
			async 'dns-dkim'(log) {
				const name = dkimName(o.selector, domain);
				const answer = await asked(log, 'TXT', name);
				const line = lineOf('TXT', name);
				if (answer.kind === 'error') return noAnswer(`the DKIM record ${name}`, answer.why);
				if (answer.kind === 'none') {
					if (o.dkimKey) return missing(`the DKIM record ${name}`, line);
					return {status: 'inconclusive', message: `no DKIM record at ${name}, and ${o.dkimUnknown ?? 'the key in use is not known here'}`, record: 'missing'};
				}
				const keys = answer.data.map(publishedKey);
				const good = keys.filter(key => 'key' in key) as {key: string; bits: number}[];
				if (o.dkimKey && good.some(key => key.key === o.dkimKey)) return {status: 'pass', message: `${name} holds the key in use`, record: 'published'};
				if (o.dkimKey) {
					const held = good.length ? `another key (RSA-${good[0]!.bits}, p=${good[0]!.key.slice(-12)})` : (keys[0] as {problem: string}).problem;
					return {status: 'fail', message: `${name} holds ${held}, not the key in use (…${o.dkimKey.slice(-12)}): publish ${line}`, record: 'wrong'};
				}
				if (good.length) return {status: 'inconclusive', message: `${name} holds an RSA-${good[0]!.bits} key, but ${o.dkimUnknown ?? 'the key in use is not known here'}`, record: 'unchecked'};
				return {status: 'fail', message: `${name} holds ${(keys[0] as {problem: string}).problem}: the server signs with nothing receivers can verify`, record: 'wrong'};
			},
			async 'dns-dmarc'(log) {
				const name = dmarcName(domain);
				const answer = await asked(log, 'TXT', name);
				const line = lineOf('TXT', name);
				if (answer.kind === 'error') return noAnswer(`the DMARC record ${name}`, answer.why);
				if (answer.kind === 'none') return missing(`the DMARC record ${name}`, line);
				const dmarc = answer.data.filter(text => /^v\s*=\s*DMARC1\s*(;|$)/i.test(text.trim()));
				if (dmarc.length !== 1)
					return {status: 'fail', message: `${name} holds ${dmarc.length ? `${dmarc.length} DMARC records (receivers ignore them all)` : 'no DMARC record (none starts with v=DMARC1)'}: publish ${line}`, record: 'wrong'};
				const policy = dmarc[0]!.match(/;\s*p\s*=\s*([a-z]*)/i)?.[1]?.toLowerCase();
				if (!policy || !['none', 'quarantine', 'reject'].includes(policy)) return {status: 'fail', message: `"${dmarc[0]}" has no valid policy (p=none, quarantine or reject): publish ${line}`, record: 'wrong'};
				const note = policy === 'none' ? ' (monitoring only: receivers are asked to act on nothing)' : '';
				return {status: 'pass', message: `${name}: "${dmarc[0]}", policy ${policy}${note}`, record: 'published'};
			},
		};

		const findings = await Promise.all(
			Object.entries(judges).map(async ([id, judge]) => {
				let finding: Finding;
				try {
					finding = await judge(logger(id));
				} catch (error) {
					finding = {status: 'fail', message: `internal error: ${String(error)}`, record: 'unchecked'};
				}
				return [id, finding] as const;
			}),
		);
		const byId = new Map(findings);
		const checkOf = (r: DnsRecord) =>
			r.type === 'MX' ? 'dns-mx' : r.type === 'PTR' ? 'dns-ptr' : r.type !== 'TXT' ? 'dns-address' : r.name === domain ? 'dns-spf' : r.name === dmarcName(domain) ? 'dns-dmarc' : 'dns-dkim';
		return {
			checks: findings.map(([id, finding]) => ({id, status: finding.status, message: finding.message, transcript: (transcripts.get(id) ?? []).join('\n')})),
			records: records.map(r => ({...r, status: byId.get(checkOf(r))!.record})),
		};
	} finally {
		q.done();
	}
}
