// Node-side probes: the certificate a port serves (993 direct, 587 after STARTTLS), whether a port accepts TCP,
// and what Let's Encrypt needs (the FQDN's addresses in DNS, what answers on port 80).
// s_client with -quiet prints no certificate, so the certificate check asks node:tls instead.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {StepError} from './sclient.js';

export interface Served {
	cert: import('node:crypto').X509Certificate;
	/** Set when a CA file was given and the chain does not verify against it. */
	untrusted?: string;
}

/** Waits for `pick` to find something in the bytes read so far; one deadline for the whole wait. */
function readUntil<T>(socket: net.Socket, pick: (text: string) => T | undefined, timeoutMs: number, step: string, sent: string, hint: string): Promise<T> {
	return new Promise((resolve, reject) => {
		let text = '';
		const done = (error?: Error, value?: T) => {
			clearTimeout(timer);
			socket.off('data', onData).off('error', onError).off('close', onClose);
			if (error) reject(error);
			else resolve(value as T);
		};
		const onData = (chunk: Buffer) => {
			text += chunk.toString('utf8');
			const found = pick(text);
			if (found !== undefined) done(undefined, found);
		};
		const onError = (error: NodeJS.ErrnoException) =>
			done(new StepError(error.code === 'ECONNREFUSED' ? 'refused' : 'closed', step, sent, `${error.code ?? error.message} ${text}`.trim(), hint));
		const onClose = () => done(new StepError('closed', step, sent, text.trim(), hint));
		const timer = setTimeout(() => done(new StepError('timeout', step, sent, text.trim(), hint)), timeoutMs);
		socket.on('data', onData).on('error', onError).on('close', onClose);
	});
}

/** The final line of an SMTP reply, once it is complete. */
const smtpFinal = (text: string) => text.split(/\r?\n/).find(line => /^\d{3} /.test(line));

/** The leaf certificate on host:port; with `starttls`, after SMTP's EHLO/STARTTLS on the plain connection. */
export async function servedCertificate(host: string, port: number, servername: string, starttls: boolean, timeoutMs: number, caFile: string | undefined, log: (line: string) => void): Promise<Served> {
	const where = `${host}:${port}`;
	let plain: net.Socket | undefined;
	try {
		if (starttls) {
			plain = net.connect({host, port});
			const hint = `the submission service on ${where} is not running or does not offer STARTTLS (master.cf submission entry, smtpd_tls_cert_file).`;
			const greeting = await readUntil(plain, smtpFinal, timeoutMs, `${port}: connect and read the greeting`, '', hint);
			log(`S: ${greeting}`);
			log(`C: EHLO ${servername}`);
			plain.write(`EHLO ${servername}\r\n`);
			const ehlo = await readUntil(plain, smtpFinal, timeoutMs, `${port}: EHLO`, `EHLO ${servername}`, hint);
			log(`S: ${ehlo}`);
			log('C: STARTTLS');
			plain.write('STARTTLS\r\n');
			const ready = await readUntil(plain, smtpFinal, timeoutMs, `${port}: STARTTLS`, 'STARTTLS', hint);
			log(`S: ${ready}`);
			if (!ready.startsWith('220')) throw new StepError('unexpected', `${port}: STARTTLS`, 'STARTTLS', ready, hint);
		}
		const ca = caFile ? fs.readFileSync(caFile) : undefined;
		log(`TLS handshake with ${where}, server name ${servername}`);
		const secure = tls.connect({...(plain ? {socket: plain} : {host, port}), servername, ca, rejectUnauthorized: false});
		try {
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => reject(new StepError('timeout', `${port}: TLS handshake`, '', '', 'a firewall dropping packets, or a service that accepts and never answers.')), timeoutMs);
				secure.once('secureConnect', () => {
					clearTimeout(timer);
					resolve();
				});
				secure.once('error', (error: NodeJS.ErrnoException) => {
					clearTimeout(timer);
					const refused = error.code === 'ECONNREFUSED';
					reject(
						new StepError(
							refused ? 'refused' : 'tls',
							`${port}: TLS handshake`,
							'',
							error.code ?? error.message,
							refused ? `nothing listens on ${where}.` : 'the port does not speak TLS or the service has no usable certificate (ssl_cert, smtpd_tls_cert_file).',
						),
					);
				});
			});
			const cert = secure.getPeerX509Certificate();
			if (!cert) throw new StepError('tls', `${port}: TLS handshake`, '', 'no certificate', 'the service sent no certificate.');
			return {cert, untrusted: ca && !secure.authorized ? String(secure.authorizationError) : undefined};
		} finally {
			secure.destroy();
		}
	} finally {
		plain?.destroy();
	}
}

export type PortState = {open: false; why: string} | {open: true; banner: string};

/** Does host:port accept a TCP connection? Refused, unreachable or silent-dropped all mean closed. */
export function probePort(host: string, port: number, timeoutMs: number): Promise<PortState> {
	return new Promise(resolve => {
		const socket = net.connect({host, port});
		let banner = '';
		let timer = setTimeout(() => finish({open: false, why: `no answer within ${timeoutMs} ms (filtered)`}), timeoutMs);
		const finish = (state: PortState) => {
			clearTimeout(timer);
			socket.destroy();
			resolve(state);
		};
		socket.on('error', (error: NodeJS.ErrnoException) => finish({open: false, why: error.code === 'ECONNREFUSED' ? 'connection refused' : (error.code ?? error.message)}));
		socket.on('connect', () => {
			// Open: wait briefly for a banner, which names the service that should not be there.
			clearTimeout(timer);
			timer = setTimeout(() => finish({open: true, banner}), 1000);
		});
		socket.on('data', chunk => {
			banner += chunk.toString('utf8');
			if (banner.includes('\n')) finish({open: true, banner});
		});
		socket.on('close', () => finish({open: true, banner}));
	});
}

/** A name's A and AAAA records as DNS has them (not /etc/hosts: Debian maps the FQDN there to 127.0.1.1). */
export async function dnsAddresses(name: string, timeoutMs = 3000): Promise<{addresses: string[]; error?: string}> {
	const resolver = new dns.Resolver({timeout: timeoutMs, tries: 1});
	const answers = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
	const addresses = answers.flatMap(answer => (answer.status === 'fulfilled' ? answer.value : []));
	// NXDOMAIN or no record of that type is an answer ("none"); a resolver that does not answer is not.
	const failures = answers.flatMap(answer => (answer.status === 'rejected' ? [(answer.reason as NodeJS.ErrnoException).code ?? String(answer.reason)] : []));
	const error = addresses.length === 0 ? failures.find(code => code !== 'ENOTFOUND' && code !== 'ENODATA') : undefined;
	return error ? {addresses, error} : {addresses};
}

export type HttpState = {kind: 'free'} | {kind: 'web'; server: string} | {kind: 'other'; answer: string};

/** What listens on host:port: nothing, a web server (it answers HTTP) or something else (its first words). */
export function httpProbe(host: string, port: number, hostHeader: string, timeoutMs: number): Promise<HttpState> {
	return new Promise(resolve => {
		const socket = net.connect({host, port});
		let text = '';
		const finish = () => {
			clearTimeout(timer);
			socket.destroy();
			const first = text.split(/\r?\n/)[0]!.trim();
			if (/^HTTP\/\d/.test(first)) resolve({kind: 'web', server: text.match(/^server:\s*(.+?)\s*$/im)?.[1] ?? first});
			else resolve({kind: 'other', answer: first ? `it answered "${first.slice(0, 80)}"` : 'it does not answer HTTP'});
		};
		const timer = setTimeout(finish, timeoutMs);
		socket.on('connect', () => socket.write(`HEAD / HTTP/1.0\r\nHost: ${hostHeader}\r\nUser-Agent: mail-setup\r\n\r\n`));
		socket.on('data', chunk => {
			text += chunk.toString('latin1');
			// HTTP: wait for the end of the headers (Server names it); anything else: its first line.
			if (/\n\r?\n/.test(text) || (!text.startsWith('HTTP/') && text.includes('\n'))) finish();
		});
		socket.on('close', finish);
		socket.on('error', (error: NodeJS.ErrnoException) => {
			// A reset after its first words (it closed without reading our request): judge by the words.
			if (text) return finish();
			clearTimeout(timer);
			socket.destroy();
			// Refused: nothing listens. Anything else (unreachable, reset) is not a web server either.
			resolve(error.code === 'ECONNREFUSED' ? {kind: 'free'} : {kind: 'other', answer: error.code ?? error.message});
		});
	});
}

/** Who issued a certificate, in a few words: "self-signed", else the issuer's CN (or O). */
export function issuerName(cert: import('node:crypto').X509Certificate): string {
	if (cert.issuer === cert.subject) return 'self-signed';
	const field = (name: string) => cert.issuer.match(new RegExp(`^${name}=(.+)$`, 'm'))?.[1];
	return field('CN') ?? field('O') ?? cert.issuer.replace(/\n/g, ', ');
}
