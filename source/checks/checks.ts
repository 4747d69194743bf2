// Step 10: the tutorial's s_client sessions, run live and judged, each with its transcript.
import {MASK} from '../secrets.js';
import type {CheckResult, CheckStatus} from '../types.js';
import {mailboxDelivery} from './delivery.js';
import {issuerName, probePort, servedCertificate} from './probe.js';
import {planRelay, relayVerdict, type Postconf, type Probe} from './relay.js';
import {plural} from '../words.js';
import {tlsCheck} from './tls.js';
import {scrub, StepError, withSession, type Reply, type Session, type SessionOptions} from './sclient.js';

export interface CheckOptions {
	/** The name the certificate must carry and the name we say in EHLO. */
	fqdn: string;
	/** Where to connect (a name or an address). */
	checkHost: string;
	testUser: string;
	testPassword: string;
	/** A recipient no mail server of ours is responsible for. */
	outsideAddress?: string;
	/** Deadline for each single wait (a reply, a handshake). */
	timeoutMs?: number;
	/** Other ports, for tests against unprivileged fakes. */
	ports?: Partial<Ports>;
	/** When given, the served certificate's chain must verify against it too. */
	caFile?: string;
	/** Is checkHost this machine (which Postfix trusts)? Detected when unset; tests on loopback set false. */
	thisMachine?: boolean;
	/** Runs this machine's postconf (the Host's probe): on the server it tells the relay check whom Postfix trusts. */
	postconf?: Postconf;
	/** Test hook: this machine's addresses (default: its interfaces). */
	ownAddresses?: string[];
	/** Test hook: every s_client pid as it starts. */
	onSpawn?: (pid: number | undefined) => void;
	/** How long mailbox-delivery waits for its message to arrive (default 15 s); tests shorten it. */
	deliveryWaitMs?: number;
}

interface Ports {
	smtp: number;
	submission: number;
	imaps: number;
	imap: number;
	pop3: number;
	pop3s: number;
}

const DEFAULT_PORTS: Ports = {smtp: 25, submission: 587, imaps: 993, imap: 143, pop3: 110, pop3s: 995};
// example.net is reserved (RFC 2606): no real server is responsible for it, so accepting it is relaying.
const OUTSIDE = 'mail-setup-relay-test@example.net';
// Wrong passwords get 535 only after Dovecot's ~2 s auth delay; postscreen and DNS lookups are slow too.
const TIMEOUT_MS = 10_000;

/** After wrong passwords Dovecot delays further logins from that address by up to 15 s: logins get twice the deadline. */
export const loginWait = (o: {timeoutMs: number}) => o.timeoutMs * 2;

interface Verdict {
	status: CheckStatus;
	message: string;
}

interface Ctx {
	o: CheckOptions & {ports: Ports; timeoutMs: number; outsideAddress: string};
	secrets: string[];
	log: (line: string) => void;
	session: (port: number, protocol: 'smtp' | 'imap', starttls: boolean) => SessionOptions;
}

type Check = (ctx: Ctx) => Promise<Verdict>;

/** Runs every check concurrently; `onEvent` gets each transcript line as it happens, already masked. */
export async function runChecks(opts: CheckOptions, onEvent?: (id: string, line: string) => void): Promise<CheckResult[]> {
	const o = {
		...opts,
		ports: {...DEFAULT_PORTS, ...opts.ports},
		timeoutMs: opts.timeoutMs ?? TIMEOUT_MS,
		outsideAddress: opts.outsideAddress ?? OUTSIDE,
	};
	const secrets = [o.testPassword, authToken(o.testUser, o.testPassword), imapQuote(o.testPassword)];
	const checks: [string, Check][] = [
		['smtp-relay-refused', relayRefused],
		['smtp-local-accepted', localAccepted],
		['imaps-login', imapsLogin],
		['submission-auth', submissionAuth],
		['mailbox-delivery', mailboxDelivery],
		['plaintext-closed', plaintextClosed],
		['certificate-name', certificateName],
		['tls', tlsProtocols],
	];
	return Promise.all(
		checks.map(async ([id, check]) => {
			const transcript: string[] = [];
			const log = (line: string) => {
				const shown = scrub(line, secrets);
				transcript.push(shown);
				onEvent?.(id, shown);
			};
			const session = (port: number, protocol: 'smtp' | 'imap', starttls: boolean): SessionOptions => ({
				host: o.checkHost,
				port,
				servername: o.fqdn,
				starttls,
				protocol,
				timeoutMs: o.timeoutMs,
				secrets,
				onLine: log,
				onSpawn: o.onSpawn,
			});
			let verdict: Verdict;
			try {
				verdict = await check({o, secrets, log, session});
			} catch (error) {
				// A StepError already says step, sent, got and cause; anything else is our own bug, still reported.
				verdict = {status: 'fail', message: error instanceof StepError ? error.message : `internal error: ${String(error)}`};
			}
			return {id, status: verdict.status, message: scrub(verdict.message, secrets), transcript: transcript.join('\n')};
		}),
	);
}

export function authToken(user: string, password: string): string {
	return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

/** An IMAP quoted string: backslash and double quote escaped. */
export function imapQuote(text: string): string {
	return `"${text.replace(/[\\"]/g, c => `\\${c}`)}"`;
}

const blocked = (reply: Reply) => /blocked using/i.test(reply.lines.join('\n'));
const accepted = (reply: Reply) => reply.code.startsWith('2');

function blockedVerdict(reply: Reply): Verdict {
	return {
		status: 'inconclusive',
		message: `the server refused this checking host as blacklisted (${reply.last}): that says nothing about the server; check from a host that is not on a blacklist.`,
	};
}

/** EHLO then MAIL FROM on port 25: the common start of both port-25 checks; undefined = go on. */
async function openEnvelope(s: Session, ctx: Ctx): Promise<Verdict | undefined> {
	s.send(`EHLO ${ctx.o.fqdn}`);
	const ehlo = await s.smtp('EHLO');
	if (blocked(ehlo)) return blockedVerdict(ehlo);
	if (!accepted(ehlo)) throw s.unexpected('EHLO', ehlo, 'the server refuses this client or this EHLO name (smtpd_helo_restrictions).');
	s.send(`MAIL FROM:<${ctx.o.testUser}>`);
	const mail = await s.smtp('MAIL FROM');
	if (blocked(mail)) return blockedVerdict(mail);
	if (!accepted(mail)) throw s.unexpected('MAIL FROM', mail, 'smtpd_sender_restrictions refuse the test mailbox as sender.');
	return undefined;
}

/** The relay probe connects where planRelay says (on the server: an address Postfix does not trust); relay.ts judges. */
async function relayRefused(ctx: Ctx): Promise<Verdict> {
	const {o} = ctx;
	const plan = await planRelay(o, ctx.log);
	let probe: Probe;
	try {
		probe = await withSession({...ctx.session(o.ports.smtp, 'smtp', true), host: plan.connect}, async s => {
			const early = await openEnvelope(s, ctx);
			if (early) return {outcome: 'blocked' as const, message: early.message};
			s.send(`RCPT TO:<${o.outsideAddress}>`);
			const rcpt = await s.smtp('RCPT TO (outside address)');
			s.send('RSET');
			await s.smtp('RSET');
			if (blocked(rcpt)) return {outcome: 'blocked' as const, message: blockedVerdict(rcpt).message};
			if (accepted(rcpt))
				return {
					outcome: 'accepted' as const,
					message: `OPEN RELAY: the server accepted mail for ${o.outsideAddress} from an unauthenticated client (${rcpt.last}). Anyone can send spam through it. Fix mynetworks (only 127.0.0.0/8 [::1]/128) and keep reject_unauth_destination in smtpd_relay_restrictions.`,
				};
			const why = /relay access denied/i.test(rcpt.last) ? 'Relay access denied' : 'refused, though not with the usual "Relay access denied"';
			return {outcome: 'refused' as const, message: `relaying to ${o.outsideAddress} is refused: ${rcpt.last} (${why})`};
		});
	} catch (error) {
		if (!(error instanceof StepError)) throw error;
		probe = {outcome: 'error', message: error.message};
	}
	const again = `run \`npx mail-setup check --check-host ${o.fqdn} --fqdn ${o.fqdn} --test-user ${o.testUser} --test-password-file FILE\` from another machine.`;
	return relayVerdict(plan, probe, again);
}

async function localAccepted(ctx: Ctx): Promise<Verdict> {
	const {o} = ctx;
	return withSession(ctx.session(o.ports.smtp, 'smtp', true), async s => {
		const early = await openEnvelope(s, ctx);
		if (early) return early;
		s.send(`RCPT TO:<${o.testUser}>`);
		const rcpt = await s.smtp('RCPT TO (test mailbox)');
		s.send('RSET');
		await s.smtp('RSET');
		if (blocked(rcpt)) return blockedVerdict(rcpt);
		if (accepted(rcpt)) return {status: 'pass' as const, message: `mail for ${o.testUser} is accepted: ${rcpt.last}`};
		if (/greylist/i.test(rcpt.last))
			return {status: 'pass' as const, message: `mail for ${o.testUser} is greylisted (${rcpt.last}): postgrey is running; real senders retry and get through.`};
		throw s.unexpected('RCPT TO (test mailbox)', rcpt, localHint(rcpt.last));
	});
}

function localHint(reply: string): string {
	if (/user unknown|doesn't exist|5\.1\.1/i.test(reply)) return 'the test mailbox is not in virtual_users, or virtual_mailbox_maps does not find it.';
	if (/lookup failure|4\.3\.0/i.test(reply)) return 'Postfix cannot query MariaDB: the mysql-virtual-*.cf files need hosts = 127.0.0.1 and a grant for the user @127.0.0.1.';
	if (/relay access denied/i.test(reply)) return 'the mail domain is not in virtual_mailbox_domains (or is also in mydestination).';
	return 'see the mail log for the reason.';
}

async function imapsLogin(ctx: Ctx): Promise<Verdict> {
	const {o} = ctx;
	return withSession(ctx.session(o.ports.imaps, 'imap', false), async s => {
		const greeting = await s.imap('*', 'connect and read the greeting');
		if (greeting.code !== 'OK') throw s.unexpected('greeting', greeting, 'the IMAP service refuses connections.');
		// [tag, command, as shown, step name, usual cause of a NO/BAD]
		const steps: [string, string, string, string, string][] = [
			['1', `login ${o.testUser} ${imapQuote(o.testPassword)}`, `login ${o.testUser} "${MASK}"`, 'login', 'wrong password or unknown user (prove it with `doveadm auth test`), or Dovecot cannot reach MariaDB (dovecot-sql.conf.ext, grants @localhost).'],
			['2', 'LIST "" "*"', 'LIST "" "*"', 'LIST', 'the mail location (mail_location, home) is not accessible to the mail user.'],
			['3', 'SELECT INBOX', 'SELECT INBOX', 'SELECT INBOX', 'the INBOX cannot be created or opened: mail_location, /var/mail permissions, first_valid_uid.'],
			['4', 'UID fetch 1:1 (UID RFC822.SIZE FLAGS BODY.PEEK[])', 'UID fetch 1:1 (UID RFC822.SIZE FLAGS BODY.PEEK[])', 'UID fetch', 'the mailbox files are unreadable.'],
			['5', 'LOGOUT', 'LOGOUT', 'LOGOUT', 'the service ended badly: see the Dovecot log.'],
		];
		for (const [tag, line, shown, step, hint] of steps) {
			s.send(`${tag} ${line}`, `${tag} ${shown}`);
			const reply = await s.imap(tag, step, step === 'login' ? loginWait(o) : undefined);
			if (reply.code !== 'OK') throw s.unexpected(step, reply, hint);
		}
		return {status: 'pass' as const, message: `${o.testUser} logs in over IMAPS; LIST, SELECT INBOX, UID fetch and LOGOUT all OK`};
	});
}

async function submissionAuth(ctx: Ctx): Promise<Verdict> {
	const {o} = ctx;
	return withSession(ctx.session(o.ports.submission, 'smtp', true), async s => {
		s.send(`EHLO ${o.fqdn}`);
		const ehlo = await s.smtp('EHLO');
		if (!accepted(ehlo)) throw s.unexpected('EHLO', ehlo, 'the submission service refuses this client.');
		const auth = ehlo.lines.find(line => /^\d{3}[ -]AUTH[ =]/i.test(line));
		if (!auth || !/\bPLAIN\b/i.test(auth))
			throw s.unexpected('EHLO', ehlo, 'no AUTH PLAIN offered: smtpd_sasl_auth_enable=yes, smtpd_sasl_type=dovecot and smtpd_sasl_path=private/auth on the submission entry, and Dovecot\'s auth unix_listener /var/spool/postfix/private/auth.');

		// Without logging in, relaying must be refused (at MAIL or at RCPT).
		s.send(`MAIL FROM:<${o.testUser}>`);
		const mail = await s.smtp('MAIL FROM (not logged in)');
		if (accepted(mail)) {
			s.send(`RCPT TO:<${o.outsideAddress}>`);
			const rcpt = await s.smtp('RCPT TO outside (not logged in)');
			if (accepted(rcpt))
				return {
					status: 'fail' as const,
					message: `OPEN RELAY on port ${o.ports.submission}: mail for ${o.outsideAddress} was accepted without logging in (${rcpt.last}). The submission entry needs smtpd_client_restrictions=permit_sasl_authenticated,reject.`,
				};
		}
		s.send('RSET');
		await s.smtp('RSET');

		const token = authToken(o.testUser, o.testPassword);
		s.send(`AUTH PLAIN ${token}`, `AUTH PLAIN ${MASK}`);
		const login = await s.smtp('AUTH PLAIN', loginWait(o));
		if (login.code !== '235') throw s.unexpected('AUTH PLAIN', login, 'wrong password for the test mailbox (535), or Postfix cannot reach Dovecot\'s auth socket (smtpd_sasl_path=private/auth).');

		s.send(`MAIL FROM:<${o.testUser}>`);
		const mail2 = await s.smtp('MAIL FROM (logged in)');
		if (!accepted(mail2)) throw s.unexpected('MAIL FROM (logged in)', mail2, 'smtpd_sender_restrictions refuse the logged-in user.');
		s.send(`RCPT TO:<${o.outsideAddress}>`);
		const rcpt = await s.smtp('RCPT TO outside (logged in)');
		if (!accepted(rcpt)) throw s.unexpected('RCPT TO outside (logged in)', rcpt, 'smtpd_recipient_restrictions on the submission entry must start with permit_sasl_authenticated.');
		// Never DATA: nothing is sent.
		s.send('RSET');
		await s.smtp('RSET');
		return {status: 'pass' as const, message: `port ${o.ports.submission}: STARTTLS, AUTH PLAIN offered, relaying refused before login, ${o.testUser} logs in (235) and may then send out`};
	});
}

async function plaintextClosed(ctx: Ctx): Promise<Verdict> {
	const {o, log} = ctx;
	const ports = [o.ports.imap, o.ports.pop3, o.ports.pop3s];
	// A closed port answers at once; a filtered one costs this wait, so keep it short.
	const wait = Math.min(o.timeoutMs, 5000);
	const states = await Promise.all(ports.map(port => probePort(o.checkHost, port, wait)));
	const open: string[] = [];
	let unknown = '';
	states.forEach((state, i) => {
		const port = ports[i]!;
		if (state.open) {
			const banner = state.banner.trim().split(/\r?\n/)[0] ?? '';
			log(`${port}: accepts connections${banner ? `: ${banner}` : ''}`);
			open.push(`${port}${banner ? ` (${banner})` : ''}`);
		} else {
			log(`${port}: closed (${state.why})`);
			if (/ENOTFOUND|EAI_AGAIN/.test(state.why)) unknown = state.why;
		}
	});
	if (open.length)
		return {
			status: 'fail',
			message: `open port${open.length > 1 ? 's' : ''} ${open.join(', ')}: only IMAPS (993) should accept. Set port = 0 for imap, pop3 and pop3s in 10-master.conf, then restart Dovecot.`,
		};
	if (unknown) return {status: 'inconclusive', message: `cannot resolve ${o.checkHost} (${unknown})`};
	return {status: 'pass', message: `ports ${ports.join(', ')} accept no connections`};
}

/** Less time left than this is a failure: renewals (certbot's at 30 days) have stopped working. */
const RENEW_DAYS = 14;

/** Mozilla's intermediate profile on the two ports where users log in; no secret is involved. */
function tlsProtocols({o, log}: Ctx): Promise<Verdict> {
	const target = (port: number, starttls: boolean, fix: string) => ({host: o.checkHost, port, servername: o.fqdn, starttls, fix});
	return tlsCheck(
		[
			target(o.ports.imaps, false, `${o.ports.imaps}: ssl_min_protocol and ssl_cipher_list in /etc/dovecot/conf.d/10-ssl.conf (mail-setup dovecot-ssl reload)`),
			target(o.ports.submission, true, `${o.ports.submission}: smtpd_tls_mandatory_protocols, smtpd_tls_mandatory_ciphers and tls_high_cipherlist in main.cf, smtpd_tls_protocols on the submission entry of master.cf (mail-setup postfix submission reload)`),
		],
		o.timeoutMs,
		log,
	);
}

async function certificateName(ctx: Ctx): Promise<Verdict> {
	const {o, log} = ctx;
	const now = Date.now();
	const day = (date: Date) => date.toISOString().slice(0, 10);
	// Both ports are judged even when one fails: a report naming both saves a round trip.
	const judge = async (port: number, starttls: boolean): Promise<{problems: string[]; good?: string}> => {
		let served;
		try {
			served = await servedCertificate(o.checkHost, port, o.fqdn, starttls, o.timeoutMs, o.caFile, line => log(`${port}: ${line}`));
		} catch (error) {
			if (error instanceof StepError) return {problems: [error.message]};
			throw error;
		}
		const {cert} = served;
		const from = new Date(cert.validFrom);
		const until = new Date(cert.validTo);
		const issuer = issuerName(cert);
		const by = issuer === 'self-signed' ? issuer : `issued by ${issuer}`;
		const left = Math.floor((until.getTime() - now) / 86_400_000);
		const oneLine = (name: string) => name.replace(/\n/g, ', ');
		log(`${port}: subject ${oneLine(cert.subject)}; ${cert.subjectAltName ?? 'no subjectAltName'}; issuer ${oneLine(cert.issuer)}; valid ${day(from)} to ${day(until)}`);
		// SAN dNSName when present, else CN; a wildcard covers exactly one whole label.
		const match = cert.checkHost(o.fqdn, {partialWildcards: false});
		// A self-signed pair is this tool's to renew; any other is renewed where it came from (certbot, for ours).
		const renew = issuer === 'self-signed' ? 'mail-setup certificate --renew, then mail-setup reload' : `certbot renew --cert-name ${o.fqdn} on the server (its deploy hook reloads Dovecot and Postfix)`;
		const problems: string[] = [];
		if (!match) problems.push(`port ${port} serves a certificate for ${cert.subjectAltName ?? oneLine(cert.subject)}, not ${o.fqdn}: make one for ${o.fqdn} (mail-setup certificate --renew)`);
		if (until.getTime() < now) problems.push(`port ${port}: the certificate (${by}) expired on ${day(until)}: ${renew}`);
		else if (left < RENEW_DAYS) problems.push(`port ${port}: the certificate (${by}) expires on ${day(until)}, in ${plural(left, 'day')}: ${renew}`);
		if (from.getTime() > now) problems.push(`port ${port}: the certificate is not valid before ${day(from)} (is the clock right?)`);
		if (served.untrusted) problems.push(`port ${port}: the chain does not verify against ${o.caFile} (${served.untrusted})`);
		return {problems, good: `${port} names ${match ?? o.fqdn}, ${by}, expires ${day(until)} (${left} days left)`};
	};
	const results = await Promise.all([judge(o.ports.imaps, false), judge(o.ports.submission, true)]);
	const problems = results.flatMap(result => result.problems);
	if (problems.length) return {status: 'fail', message: problems.join('; ')};
	return {status: 'pass', message: `the certificate names ${o.fqdn} and is valid: ${results.map(result => result.good).join('; ')}`};
}
