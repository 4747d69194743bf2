// Let's Encrypt for the certificate stage: certbot's HTTP-01 on port 80, planned like any other change.
// What certbot needs is checked while planning (certbot, a DNS answer, port 80), so a refusal changes nothing;
// the deploy hook is a file like any other (Host writes, backups, undo); certbot's failures are told plainly.
import {LETS_ENCRYPT, pairOf} from '../answers.js';
import {dnsAddresses, httpProbe, type HttpState} from '../checks/probe.js';
import {addressKey, reachableAddresses} from '../net/addresses.js';
import type {Host, RunResult} from '../host/host.js';
import type {Answers, Command, FileChange, Offer, Plan} from '../types.js';
import type {Validation} from './stage.js';

export const HOOK = '/etc/letsencrypt/renewal-hooks/deploy/mail-setup';
export const CERTBOT_LOG = '/var/log/letsencrypt/letsencrypt.log';
export const INSTALL_CERTBOT = 'apt-get install certbot';
const STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

export const lineageDir = (fqdn: string) => `/etc/letsencrypt/live/${fqdn}`;

/** certbot runs every script in renewal-hooks/deploy after a renewal: this one reloads what serves the pair. */
export function hookFile(fqdn: string): FileChange {
	const content = `#!/bin/sh
# Written by mail-setup. certbot runs this after renewing a certificate. Dovecot and Postfix read
# their pair (the live/ symlinks) only when they start or reload, so a renewal needs a reload.
[ "$RENEWED_LINEAGE" = ${lineageDir(fqdn)} ] || exit 0
if [ -d /run/systemd/system ]; then
	systemctl reload dovecot postfix
else
	doveadm reload
	postfix reload
fi
`;
	return {path: HOOK, content, mode: 0o755, owner: 'root', group: 'root'};
}

/** `sh -n`: the hook must at least parse. */
export async function validateHook(host: Host): Promise<Validation> {
	const run = await host.probe(['sh', '-n', host.real(HOOK)]);
	return {command: `sh -n ${HOOK}`, ok: run.exitCode === 0, problems: run.stderr.split('\n').map(line => line.trim()).filter(Boolean)};
}

/** How the CA's HTTP-01 request reaches certbot: certbot listens itself, or a web server serves its files. */
type Challenge = {kind: 'standalone'} | {kind: 'webroot'; dir: string};

export function certbotCommand(a: Answers, how: Challenge, lineageExists: boolean): Command {
	const account = a.email ? ['--email', a.email] : a.noEmail ? ['--register-unsafely-without-email'] : [];
	return {
		argv: [
			'certbot', 'certonly', '--non-interactive', '--agree-tos',
			'--cert-name', a.fqdn, '-d', a.fqdn, '--server', a.acmeServer,
			...(how.kind === 'webroot' ? ['--webroot', '--webroot-path', how.dir] : ['--standalone']),
			...account,
			// An existing lineage is only asked for again when it is unfit or --renew says so.
			...(lineageExists ? ['--force-renewal'] : []),
		],
		why: `ask ${a.acmeServer} for a certificate for ${a.fqdn}`,
		// Validation by the CA takes seconds, sometimes a minute; certbot has its own deadlines inside this one.
		timeoutMs: 300_000,
	};
}

/** What the preview says about the account. */
function accountNote(a: Answers): string {
	if (a.email) return `account e-mail: ${a.email} (the CA's notices about the certificate and the account go there)`;
	if (a.noEmail) return 'no account e-mail (--register-unsafely-without-email): the CA cannot warn you about this certificate or your account';
	return 'account: the one certbot already has for this CA (no --email given)';
}

/** The CA in the operator's words: Let's Encrypt by name, any other by its URL. */
const caName = (a: Answers) => (a.acmeServer === LETS_ENCRYPT ? "Let's Encrypt" : a.acmeServer);

export const certbotInstalled = async (host: Host) => (await host.probe(['certbot', '--version'])).exitCode !== 127;

/** The FQDN's addresses in DNS, and which of them are this machine's. */
async function whereIs(fqdn: string): Promise<{addresses: string[]; here: string[]; error?: string}> {
	const {addresses, error} = await dnsAddresses(fqdn);
	const mine = new Set(reachableAddresses().map(addressKey));
	return {addresses, here: addresses.filter(address => mine.has(addressKey(address))), error};
}

/** On a new self-signed pair, where the CA could reach this machine by the FQDN: a note, and the wizard's question. */
export async function offerLetsEncrypt(host: Host, a: Answers): Promise<{offer?: Offer; note?: string}> {
	// A dry run or a tree changes nothing: no question, and planning stays fast (no DNS wait).
	if (host.root !== '/' || host.dryRun || (await whereIs(a.fqdn)).here.length === 0) return {};
	const better = `${a.fqdn} resolves to this machine: --certificate letsencrypt gets a certificate mail clients trust`;
	if (!(await certbotInstalled(host))) return {note: `${better}, with certbot (${INSTALL_CERTBOT})`};
	const email = a.noEmail ? '' : a.email || a.postmaster;
	const account = email ? `account e-mail ${email}` : 'no account e-mail';
	const question = `Ask ${caName(a)} for a certificate mail clients trust instead (certbot, HTTP-01 on port 80, ${account})?`;
	return {note: better, offer: {question, yes: {certificate: 'letsencrypt', ...pairOf('letsencrypt', a.fqdn), email}, default: false}};
}

/** The plan when certbot must ask the CA: checks what it needs first, so a refusal happens before anything is written. */
export async function planIssue(host: Host, a: Answers, lineageExists: boolean, hook: FileChange, why: string[]): Promise<Plan> {
	const ca = a.acmeServer === LETS_ENCRYPT ? `${a.acmeServer} (Let's Encrypt)` : a.acmeServer;
	const notes = [...why, `asks ${ca} for a certificate for ${a.fqdn}`, accountNote(a), "agrees to the CA's terms of service (certbot --agree-tos)"];
	let how: Challenge = a.webroot ? {kind: 'webroot', dir: a.webroot} : {kind: 'standalone'};
	if (host.root !== '/') {
		// A tree is not this machine: certbot, DNS and port 80 belong to the server the tree is for.
		if (!host.dryRun) throw new Error("Let's Encrypt works on the machine itself: certbot cannot run under --root");
		notes.push('under --root: certbot, DNS and port 80 are not checked');
	} else if (!(await certbotInstalled(host))) {
		// As with a missing Postfix or Dovecot: a dry run still shows the plan, applying stops here.
		const missing = `certbot is not installed here: ${INSTALL_CERTBOT}`;
		if (!host.dryRun) throw new Error(`${missing}, then run this stage again`);
		notes.push(`${missing} (an applying run stops here; DNS and port 80 are checked where it is)`);
	} else {
		const dns = await whereIs(a.fqdn);
		notes.push(dnsNote(a.fqdn, dns));
		const port = await port80(host, a, dns.here);
		how = port.how;
		notes.push(port.note);
	}
	notes.push(`renewals: certbot renews it by itself (certbot.timer); ${HOOK} reloads Dovecot and Postfix after each renewal`);
	return {files: [hook], commands: [certbotCommand(a, how, lineageExists)], notes};
}

/** No DNS answer is a refusal (the CA finds the server only through it); an answer elsewhere is a warning (NAT). */
function dnsNote(fqdn: string, dns: {addresses: string[]; here: string[]; error?: string}): string {
	if (dns.error) return `could not ask DNS for ${fqdn} (${dns.error}): the CA will`;
	if (dns.addresses.length === 0) {
		const mine = reachableAddresses();
		const hint = mine.length ? ` (this machine has ${mine.join(', ')})` : '';
		throw new Error(`no DNS answer for ${fqdn}: the CA finds this server through its A (or AAAA) record. Publish "${fqdn}. IN A <this server's public address>"${hint}, wait until it resolves, then run again.`);
	}
	if (dns.here.length) return `DNS: ${fqdn} is ${dns.addresses.join(', ')}, this machine`;
	return `⚠ DNS: ${fqdn} is ${dns.addresses.join(', ')}, not an address of this machine: fine behind NAT that forwards port 80 here; else point the A record here first, or the CA will fail`;
}

/** Port 80 decides the challenge: free → standalone; a web server → its webroot; anything else → refuse. */
async function port80(host: Host, a: Answers, here: string[]): Promise<{how: Challenge; note: string}> {
	let found: HttpState = {kind: 'free'};
	// Loopback, and the address the CA will connect to when it is this machine's.
	for (const target of ['127.0.0.1', ...here]) {
		found = await httpProbe(target, 80, a.fqdn, 3000);
		if (found.kind !== 'free') break;
	}
	if (found.kind === 'free') {
		if (a.webroot) throw new Error(`--webroot ${a.webroot} was given, but no web server listens on port 80 here: leave --webroot out (certbot then answers on port 80 itself) or start the web server`);
		return {how: {kind: 'standalone'}, note: `port 80: nothing listens there now, so certbot answers the CA itself for the few seconds of the challenge (standalone); the CA must reach http://${a.fqdn}/ (open port 80 in the firewall)`};
	}
	const who = await listenerName(host);
	if (found.kind === 'other') {
		throw new Error(`port 80 is taken by ${who || 'a program'} that is not a web server (${found.answer}): the CA checks over HTTP on port 80, so stop it or move it to another port, then run again`);
	}
	const server = `a web server (${found.server}${who ? `, ${who}` : ''})`;
	if (!a.webroot) throw new Error(`port 80 is taken by ${server}: give --webroot DIR, the directory it serves for http://${a.fqdn}/ (often /var/www/html), and certbot puts the challenge there`);
	if (!(await host.info(a.webroot))?.isDirectory) throw new Error(`--webroot ${a.webroot} is not a directory on this machine`);
	return {how: {kind: 'webroot', dir: a.webroot}, note: `port 80: ${server} answers; certbot puts the challenge into ${a.webroot}/.well-known/acme-challenge/ (webroot), which it must serve for http://${a.fqdn}/`};
}

/** The program on port 80 by name, from ss (iproute2), for the message only. */
async function listenerName(host: Host): Promise<string> {
	const run = await host.probe(['ss', '-Hltnp', 'sport = :80']);
	const names = [...run.stdout.matchAll(/users:\(\("([^"]+)",pid=(\d+)/g)].map(m => `${m[1]} pid ${m[2]}`);
	return [...new Set(names)].join(', ');
}

/** certbot's failure in plain words: what the CA said, and what to do about it. */
export function explainCertbot(result: RunResult, log: string | undefined, a: Answers): string {
	const output = `${result.stdout}\n${result.stderr}`;
	const fix = (text: string) => `${text}\nNothing was issued; certbot's full log: ${CERTBOT_LOG}`;
	if (/You should register before running non-interactively/.test(output)) {
		return fix(`certbot has no account with ${a.acmeServer} yet: give --email ADDRESS (or --register-unsafely-without-email) so it can make one`);
	}
	if (/Could not bind TCP port 80/.test(output)) {
		return fix('port 80 was taken when certbot tried to listen there (it was free while planning): stop what took it, or give --webroot DIR if it is a web server');
	}
	const problems = [...output.matchAll(/^\s*Domain:\s*(\S+)\s*\n\s*Type:\s*(\S+)\s*\n\s*Detail:\s*(.+)$/gm)];
	if (problems.length) {
		const said = problems.map(([, domain, type, detail]) => `  ${domain} (${type}): ${detail!.trim()}`).join('\n');
		return fix(`the CA could not verify that ${a.fqdn} is this server; it said:\n${said}\n${challengeHint(problems[0]![2]!, problems[0]![3]!, a)}`);
	}
	// An error from the CA itself; certbot 2.1 (Debian 12) hides it behind a Python error, its log keeps it.
	const shown = output.match(/An unexpected error occurred:\s*\n(.+)/)?.[1]?.trim();
	const logged = [...(log ?? '').matchAll(/acme\.messages\.Error: urn:ietf:params:acme:error:(\w+) :: .*? :: (.+)$/gm)].filter(m => m[1] !== 'badNonce').at(-1);
	const said = logged && (!shown || /^\w+Error: /.test(shown)) ? `${logged[2]} (${logged[1]})` : (shown ?? '');
	if (/rateLimited|too many/i.test(said)) {
		return fix(`the CA refused: its rate limit is reached: ${said}\nWait until the time it names; every failed try counts, so try a test CA first (--acme-server ${STAGING})`);
	}
	if (/rejectedIdentifier|forbidden by policy|caa/i.test(said)) return fix(`the CA refused to issue for ${a.fqdn}: ${said}`);
	if (/CERTIFICATE_VERIFY_FAILED|SSLError/.test(said)) return fix(`cannot trust the HTTPS certificate of ${a.acmeServer}: ${said}`);
	if (/Requesting |ConnectionError|Max retries|Name or service not known|Network is unreachable|Connection refused/i.test(said)) {
		return fix(`cannot reach the CA at ${a.acmeServer}: ${said}`);
	}
	const last = output
		.split('\n')
		.map(line => line.trim())
		.filter(line => line && !/^Saving debug log|^Ask for help/.test(line))
		.slice(-4)
		.join('\n');
	return fix(`certbot failed (exit ${result.exitCode}): ${said || last}`);
}

function challengeHint(type: string, detail: string, a: Answers): string {
	if (type === 'dns' || /could not resolve|NXDOMAIN|no valid A|SERVFAIL/i.test(detail)) {
		return `The CA cannot resolve ${a.fqdn}: publish its A record, pointing at this server, and wait until it resolves everywhere.`;
	}
	if (type === 'connection') {
		return `The CA could not connect to http://${a.fqdn}/ (port 80): open port 80 in the firewall (certbot needs it for a few seconds at each issue and renewal) and check that ${a.fqdn}'s A record points at this server.`;
	}
	if (type === 'unauthorized') {
		const where = a.webroot ? `, or ${a.webroot} is not the directory the web server serves for http://${a.fqdn}/` : '';
		return `The CA reached a server that did not answer the challenge: ${a.fqdn}'s A record points at another server${where}.`;
	}
	if (type === 'caa') return `A CAA record of the domain forbids this CA to issue: add one that allows it.`;
	return `See the CA's words above.`;
}
