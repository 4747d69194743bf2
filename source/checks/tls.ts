// Check `tls`: 993 and 587 probed the way an auditor does, one `openssl s_client` handshake per probe. What
// Mozilla's intermediate profile forbids must be refused; TLS 1.2 with its suites and TLS 1.3 must work.
import {setMaxListeners} from 'node:events';
import {setImmediate as yieldToIo} from 'node:timers/promises';
import {execa} from 'execa';
import {CIPHER_LIST} from '../tls.js';
import type {CheckStatus} from '../types.js';
import {connectArg} from './sclient.js';

export interface Probe {
	/** How the operator reads it: "587 accepts TLS 1.0". */
	what: string;
	args: string[];
	wanted: 'refused' | 'accepted';
}

// @SECLEVEL=0: at its default level OpenSSL 3 will not itself offer TLS 1.0/1.1, SHA-1 signatures or anonymous
// suites, and a refusal must be the server's, not our client's. OpenSSL 3 has no AEAD alias: non-AEAD is spelled out.
export const PROBES: Probe[] = [
	{what: 'TLS 1.0', args: ['-tls1', '-cipher', 'ALL:@SECLEVEL=0'], wanted: 'refused'},
	{what: 'TLS 1.1', args: ['-tls1_1', '-cipher', 'ALL:@SECLEVEL=0'], wanted: 'refused'},
	{what: 'an anonymous suite', args: ['-tls1_2', '-cipher', 'aNULL:@SECLEVEL=0'], wanted: 'refused'},
	{what: 'a NULL-encryption suite', args: ['-tls1_2', '-cipher', 'eNULL:@SECLEVEL=0'], wanted: 'refused'},
	{what: 'a CBC suite at TLS 1.2', args: ['-tls1_2', '-cipher', 'ALL:!AESGCM:!AESCCM:!CHACHA20:!ARIA:@SECLEVEL=0'], wanted: 'refused'},
	{what: 'TLS 1.2 with an AEAD suite', args: ['-tls1_2', '-cipher', CIPHER_LIST], wanted: 'accepted'},
	{what: 'TLS 1.3', args: ['-tls1_3'], wanted: 'accepted'},
];

type Outcome =
	| {kind: 'accepted'; protocol: string; cipher: string}
	| {kind: 'refused' | 'unreachable' | 'client' | 'timeout'; why: string};

export interface Target {
	host: string;
	port: number;
	servername: string;
	starttls: boolean;
	/** What to change when this port fails, for the operator. */
	fix: string;
}

const probeArgv = (t: Target, probe: Probe) => [
	's_client',
	'-brief',
	...(t.starttls ? ['-starttls', 'smtp', '-name', t.servername] : []),
	'-servername',
	t.servername,
	'-connect',
	connectArg(t.host, t.port),
	...probe.args,
];

/** One handshake, ended by `deadline`; stdin is empty, so s_client leaves as soon as it is done. */
async function runProbe(t: Target, probe: Probe, deadline: AbortSignal): Promise<Outcome> {
	const run = await execa('openssl', probeArgv(t, probe), {input: '', reject: false, cancelSignal: deadline, all: true});
	const out = run.all ?? '';
	if (run.isCanceled) return {kind: 'timeout', why: 'no answer before the deadline'};
	if ((run as {code?: string}).code === 'ENOENT') return {kind: 'client', why: 'openssl is not installed here'};
	const field = (name: string) => out.match(new RegExp(`^${name}: (.+)$`, 'm'))?.[1]?.trim();
	const protocol = field('Protocol version');
	const cipher = field('Ciphersuite');
	if (run.exitCode === 0 && protocol && cipher) return {kind: 'accepted', protocol, cipher};
	// OpenSSL 3 error lines: `HEX:error:CODE:library:function:reason:file:line:…`; the reason is what to show.
	const error = out.split('\n').find(line => /:error:/.test(line));
	const why = error?.match(/:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/)?.[1] ?? `s_client exited ${run.exitCode}`;
	// Our own client could not offer what the probe asks for: the server was never asked.
	if (/no ciphers available|no protocols available|no cipher match|legacy sigalg disallowed/i.test(out)) return {kind: 'client', why};
	if (/Connection refused/i.test(out)) return {kind: 'unreachable', why: 'connection refused'};
	if (/Didn't find STARTTLS/i.test(out)) return {kind: 'unreachable', why: 'no STARTTLS offered'};
	if (/connect:errno|BIO_connect|BIO_lookup|No route to host|Network is unreachable/i.test(out)) return {kind: 'unreachable', why};
	return {kind: 'refused', why};
}

/** Every probe on every target at once, within one deadline; `log` gets one line per probe. */
export async function tlsCheck(targets: Target[], timeoutMs: number, log: (line: string) => void): Promise<{status: CheckStatus; message: string}> {
	// One deadline for all: starting fourteen processes takes a while on a busy machine.
	const deadline = AbortSignal.timeout(timeoutMs);
	setMaxListeners(targets.length * PROBES.length, deadline);
	// Each spawn blocks the event loop: between them, the other checks' sessions get to read their replies.
	const started: Promise<Outcome>[][] = [];
	for (const target of targets) {
		const row: Promise<Outcome>[] = [];
		for (const probe of PROBES) {
			row.push(runProbe(target, probe, deadline));
			await yieldToIo();
		}
		started.push(row);
	}
	const judged = await Promise.all(targets.map(async (target, i) => judge(target, await Promise.all(started[i]!), log)));
	const problems = judged.flatMap(result => result.problems);
	const unsure = judged.flatMap(result => result.unsure);
	if (problems.length) return {status: 'fail', message: `${problems.join('; ')}. Fix: ${judged.flatMap(result => result.fix ?? []).join('; ')}`};
	if (unsure.length)
		return {status: 'inconclusive', message: `could not probe: ${unsure.join('; ')}. A probe that could not be made proves nothing either way; run the check where openssl can make it.`};
	const ports = targets.map(target => target.port).join(' and ');
	return {status: 'pass', message: `${ports} refuse TLS 1.0, TLS 1.1, anonymous, NULL and CBC suites, and accept TLS 1.2 with AEAD suites and TLS 1.3`};
}

/** One port's outcomes against what each probe wants. A refusal proves something only beside that port's
 * accepted good handshakes: a port that refuses everything fails on those. */
function judge(target: Target, outcomes: Outcome[], log: (line: string) => void): {problems: string[]; unsure: string[]; fix?: string} {
	const problems: string[] = [];
	const unsure: string[] = [];
	const {port} = target;
	PROBES.forEach((probe, i) => {
		const outcome = outcomes[i]!;
		const command = `openssl ${probeArgv(target, probe).join(' ')}`;
		if (outcome.kind === 'accepted') {
			log(`${port} ${probe.what}: accepted (${outcome.protocol} ${outcome.cipher}), wanted ${probe.wanted}: ${command}`);
			if (probe.wanted === 'refused') problems.push(`${port} accepts ${probe.what} (${outcome.protocol} ${outcome.cipher})`);
			return;
		}
		log(`${port} ${probe.what}: ${outcome.kind} (${outcome.why}), wanted ${probe.wanted}: ${command}`);
		if (outcome.kind === 'client' || (probe.wanted === 'refused' && outcome.kind !== 'refused')) unsure.push(`${port} ${probe.what}: ${outcome.why}`);
		else if (probe.wanted === 'accepted') problems.push(`${port} does not accept ${probe.what} (${outcome.why})`);
	});
	// A port that cannot be reached is one problem, not seven.
	const down = outcomes.map(outcome => (outcome.kind === 'unreachable' || outcome.kind === 'timeout' ? outcome.why : undefined));
	if (down.every(Boolean)) return {problems: [`${port}: ${down[0]}`], unsure: [], fix: target.fix};
	return {problems, unsure, fix: problems.length ? target.fix : undefined};
}
