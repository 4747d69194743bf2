// Small fake mail servers on 127.0.0.1 for the check tests: SMTP with STARTTLS, IMAPS, silent and plain ones.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';
import {freePort} from './ports.ts';

let keys: forge.pki.rsa.KeyPair | undefined;

/** A self-signed certificate; `san: []` leaves the subjectAltName out (CN only); `issuer` names another issuer (not verifiable). */
export function makeCert(opts: {cn: string; san?: string[]; notBefore?: Date; notAfter?: Date; issuer?: string}): {cert: string; key: string} {
	keys ??= forge.pki.rsa.generateKeyPair({bits: 2048}); // native crypto: well under a second
	const cert = forge.pki.createCertificate();
	cert.publicKey = keys.publicKey;
	cert.serialNumber = '01';
	cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3_600_000);
	cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 30 * 86_400_000);
	const subject = [{name: 'commonName', value: opts.cn}];
	cert.setSubject(subject);
	cert.setIssuer(opts.issuer ? [{name: 'commonName', value: opts.issuer}] : subject);
	const san = opts.san ?? [opts.cn];
	if (san.length) cert.setExtensions([{name: 'subjectAltName', altNames: san.map(value => ({type: 2, value}))}]);
	cert.sign(keys.privateKey, forge.md.sha256.create());
	return {cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey)};
}

export interface Fake {
	port: number;
	/** Every command line received, in order (both before and after TLS). */
	commands: string[];
	/** Commands that arrived while a reply was still being written: the driver did not wait. */
	violations: string[];
	close(): Promise<void>;
}

/** Calls onLine for each CRLF line arriving on socket until `stop` is called. */
function readLines(socket: net.Socket, onLine: (line: string) => void): () => void {
	let buffer = '';
	const onData = (chunk: Buffer) => {
		buffer += chunk.toString('utf8');
		let end;
		while ((end = buffer.indexOf('\n')) >= 0) {
			const line = buffer.slice(0, end).replace(/\r$/, '');
			buffer = buffer.slice(end + 1);
			onLine(line);
		}
	};
	socket.on('data', onData);
	return () => socket.off('data', onData);
}

async function listen(server: net.Server, sockets: Set<net.Socket>, commands: string[], violations: string[]): Promise<Fake> {
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		commands,
		violations,
		close: () =>
			new Promise<void>(resolve => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}

/** A port nothing listens on. */
export const closedPort = freePort;

/** Accepts connections and never says a word. */
export async function silentServer(): Promise<Fake> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => {});
	});
	return listen(server, sockets, [], []);
}

/** Plain TCP that greets like a service (for the plaintext-closed check). */
export async function bannerServer(banner: string): Promise<Fake> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => {});
		socket.write(`${banner}\r\n`);
	});
	return listen(server, sockets, [], []);
}

export interface SmtpOptions {
	cert: {cert: string; key: string};
	localUser: string;
	password: string;
	/** RCPT to a foreign address before AUTH. */
	relay?: 'refuse' | 'defer' | 'accept' | 'blocked';
	/** RCPT to localUser. */
	local?: 'accept' | 'greylist' | 'unknown';
	offerAuth?: boolean;
	/** Delay before any AUTH reply (Dovecot delays a wrong password's 535 by ~2 s). */
	authDelayMs?: number;
	/** Pause between the lines of a multi-line reply. */
	gapMs?: number;
	/** The command (prefix) on which the server writes half a reply and hangs up. */
	closeOn?: string;
	/** Extra EHLO lines, to make the reply long. */
	extraEhlo?: number;
	/** Echo each command back in the reply text (to prove replies are masked too). */
	echo?: boolean;
	/** Where a message accepted after DATA is "delivered" (absent: accepted and dropped). */
	mailbox?: FakeMailbox;
	/** Delivery happens this long after the message was accepted. */
	deliveryDelayMs?: number;
	/** The reply to the end of DATA (default 250 … queued as …). */
	dataReply?: string;
}

/** A Postfix-like SMTP server with STARTTLS, AUTH PLAIN and configurable relay answers. */
export async function smtpServer(opts: SmtpOptions): Promise<Fake> {
	const sockets = new Set<net.Socket>();
	const commands: string[] = [];
	const violations: string[] = [];
	const context = tls.createSecureContext(opts.cert);
	const server = net.createServer(plain => {
		sockets.add(plain);
		plain.on('error', () => {});
		let socket: net.Socket = plain;
		let writing = false;
		let authed = false;
		let secure = false;
		let message: string[] | undefined; // lines of a message being received after DATA
		const reply = async (lines: string[]) => {
			writing = true;
			for (const [i, line] of lines.entries()) {
				if (socket.destroyed) return;
				socket.write(`${line}\r\n`);
				if (opts.gapMs && i < lines.length - 1) await new Promise(resolve => setTimeout(resolve, opts.gapMs));
			}
			writing = false;
		};
		const ehloLines = () => {
			const lines = ['250-fake.example.test', '250-PIPELINING', '250-SIZE 10240000'];
			for (let i = 0; i < (opts.extraEhlo ?? 0); i++) lines.push(`250-X-FILLER-${i}`);
			if (!secure) lines.push('250-STARTTLS');
			if (secure && opts.offerAuth !== false) lines.push('250-AUTH PLAIN LOGIN');
			lines.push('250 8BITMIME');
			return lines;
		};
		const handle = async (line: string) => {
			commands.push(line);
			if (message) {
				if (line !== '.') return void message.push(line.replace(/^\./, ''));
				const lines = message;
				message = undefined;
				if (opts.dataReply) return reply([opts.dataReply]);
				const box = opts.mailbox;
				if (box) setTimeout(() => deliver(box, lines), opts.deliveryDelayMs ?? 0);
				return reply(['250 2.0.0 Ok: queued as 4FAKE1D']);
			}
			if (writing) violations.push(line);
			const word = line.toUpperCase();
			if (opts.closeOn && word.startsWith(opts.closeOn.toUpperCase())) {
				socket.write('250-half of a reply\r\n');
				setTimeout(() => socket.destroy(), 20);
				return;
			}
			const echo = opts.echo ? ` (you said: ${line})` : '';
			if (word.startsWith('EHLO')) return reply(ehloLines());
			if (word === 'STARTTLS') {
				stop();
				await reply(['220 2.0.0 Ready to start TLS']);
				const wrapped = new tls.TLSSocket(plain, {isServer: true, secureContext: context});
				wrapped.on('error', () => {});
				sockets.add(wrapped);
				socket = wrapped;
				secure = true;
				stop = readLines(wrapped, handle);
				return;
			}
			if (word.startsWith('AUTH PLAIN ')) {
				const decoded = Buffer.from(line.slice(11), 'base64').toString('utf8');
				await new Promise(resolve => setTimeout(resolve, opts.authDelayMs ?? 0));
				if (decoded === `\0${opts.localUser}\0${opts.password}`) {
					authed = true;
					return reply([`235 2.7.0 Authentication successful${echo}`]);
				}
				return reply([`535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6${echo}`]);
			}
			if (word.startsWith('MAIL FROM:')) return reply([`250 2.1.0 Ok${echo}`]);
			if (word.startsWith('RCPT TO:')) {
				const to = line.slice(8).replace(/[<>]/g, '');
				if (to === opts.localUser) {
					if (opts.local === 'greylist') return reply([`450 4.2.0 <${to}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/`]);
					if (opts.local === 'unknown') return reply([`550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`]);
					return reply(['250 2.1.5 Ok']);
				}
				if (authed || opts.relay === 'accept') return reply(['250 2.1.5 Ok']);
				if (opts.relay === 'blocked') return reply(['554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org']);
				if (opts.relay === 'defer') return reply([`454 4.7.1 <${to}>: Relay access denied`]);
				return reply([`554 5.7.1 <${to}>: Relay access denied`]);
			}
			if (word === 'RSET') return reply(['250 2.0.0 Ok']);
			if (word === 'QUIT') {
				await reply(['221 2.0.0 Bye']);
				socket.end();
				return;
			}
			if (word === 'DATA') {
				message = [];
				return reply(['354 End data with <CR><LF>.<CR><LF>']);
			}
			return reply(['502 5.5.2 Error: command not recognized']);
		};
		let stop = readLines(plain, handle);
		void reply(['220-fake.example.test ESMTP', '220 fake.example.test ESMTP ready']);
	});
	return listen(server, sockets, commands, violations);
}

export interface ImapOptions {
	cert: {cert: string; key: string};
	user: string;
	password: string;
	/** Delay before answering LOGIN (keeps s_client alive long enough to read its argv). */
	loginDelayMs?: number;
	/** Hang up in the middle of the reply to this command word. */
	closeOn?: string;
	/** What UID SEARCH, UID STORE and (UID) EXPUNGE see (absent: an INBOX that never gets mail). */
	mailbox?: FakeMailbox;
	/** Advertise UIDPLUS (UID EXPUNGE) after login; default true. */
	uidplus?: boolean;
}

/** A Dovecot-like IMAPS server: LOGIN, LIST, SELECT, UID FETCH (with a literal), LOGOUT. */
export async function imapsServer(opts: ImapOptions): Promise<Fake> {
	const sockets = new Set<net.Socket>();
	const commands: string[] = [];
	const server = tls.createServer(opts.cert, socket => {
		sockets.add(socket);
		socket.on('error', () => {});
		const say = (...lines: string[]) => socket.write(lines.map(line => `${line}\r\n`).join(''));
		readLines(socket, async line => {
			commands.push(line);
			const [tag, word = '', ...rest] = line.split(' ');
			const verb = word.toUpperCase();
			if (opts.closeOn && verb === opts.closeOn.toUpperCase()) {
				socket.write('* partial untagged');
				setTimeout(() => socket.destroy(), 20);
				return;
			}
			if (verb === 'LOGIN') {
				await new Promise(resolve => setTimeout(resolve, opts.loginDelayMs ?? 0));
				const quoted = rest.slice(1).join(' ');
				const password = quoted.slice(1, -1).replace(/\\(.)/g, '$1');
				if (rest[0] === opts.user && password === opts.password) return say(`${tag} OK [CAPABILITY IMAP4rev1${opts.uidplus === false ? '' : ' UIDPLUS'}] Logged in`);
				return say(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`);
			}
			if (verb === 'LIST') return say('* LIST (\\HasNoChildren) "." INBOX', `${tag} OK List completed.`);
			if (verb === 'SELECT') return say('* FLAGS (\\Answered \\Seen)', '* 1 EXISTS', '* OK [UIDVALIDITY 1] UIDs valid', `${tag} OK [READ-WRITE] Select completed.`);
			if (verb === 'NOOP') return say(`${tag} OK NOOP completed.`);
			if (verb === 'EXPUNGE' || (verb === 'UID' && /^(SEARCH|STORE|EXPUNGE)$/i.test(rest[0] ?? ''))) return say(...mailboxCommand(opts.mailbox ?? fakeMailbox(), tag!, verb, rest));
			if (verb === 'UID') {
				// The message body holds a line that looks like the tagged reply: the driver must skip literals.
				const body = `Subject: hi\r\n\r\n${tag} OK not really\r\n`;
				return socket.write(`* 1 FETCH (UID 1 RFC822.SIZE ${body.length} FLAGS (\\Seen) BODY[] {${Buffer.byteLength(body)}}\r\n${body})\r\n${tag} OK Fetch completed.\r\n`);
			}
			if (verb === 'LOGOUT') {
				say('* BYE Logging out', `${tag} OK Logout completed.`);
				socket.end();
				return;
			}
			return say(`${tag} BAD Error in IMAP command`);
		});
		socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready.\r\n');
	});
	return listen(server, sockets, commands, []);
}

/** This process's living children whose command line starts with `openssl`, with that command line. */
export function opensslChildren(): {pid: number; argv: string[]}[] {
	const found: {pid: number; argv: string[]}[] = [];
	for (const name of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (ppid !== process.pid) continue;
			const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
			if (argv[0]?.endsWith('openssl')) found.push({pid: Number(name), argv});
		} catch {
			// The process ended between the listing and the read.
		}
	}
	return found;
}

/** A fake INBOX shared by a fake SMTP server (which delivers to it) and a fake IMAPS server (which reads it). */
export interface FakeMailbox {
	messages: {uid: number; subject: string; lines: string[]; flags: string[]}[];
	nextUid: number;
	/** Every message ever delivered, deleted or not. */
	delivered: number;
}

export function fakeMailbox(): FakeMailbox {
	return {messages: [], nextUid: 1, delivered: 0};
}

function deliver(box: FakeMailbox, lines: string[]) {
	const header = lines.slice(0, Math.max(0, lines.indexOf('')));
	const subject = header.find(line => /^subject:/i.test(line))?.slice(8).trim() ?? '';
	box.messages.push({uid: box.nextUid++, subject, lines, flags: []});
	box.delivered++;
}

/** UID SEARCH SUBJECT "x", UID STORE set +FLAGS (\Deleted), UID EXPUNGE set, EXPUNGE: the reply lines. */
function mailboxCommand(box: FakeMailbox, tag: string, verb: string, rest: string[]): string[] {
	const sub = verb === 'UID' ? rest[0]!.toUpperCase() : verb;
	const args = verb === 'UID' ? rest.slice(1) : rest;
	const inSet = (set: string) => (uid: number) => set.split(',').some(part => Number(part) === uid);
	const expunge = (keep: (uid: number) => boolean) => {
		const lines: string[] = [];
		for (let i = box.messages.length - 1; i >= 0; i--) {
			const m = box.messages[i]!;
			if (m.flags.includes('\\Deleted') && keep(m.uid)) {
				box.messages.splice(i, 1);
				lines.push(`* ${i + 1} EXPUNGE`);
			}
		}
		return lines;
	};
	if (sub === 'SEARCH') {
		const wanted = /^SUBJECT "(.*)"$/i.exec(args.join(' '))?.[1];
		if (wanted === undefined) return [`${tag} BAD Unsupported search`];
		const found = box.messages.filter(m => m.subject.toLowerCase().includes(wanted.toLowerCase())).map(m => m.uid);
		return [`* SEARCH${found.map(uid => ` ${uid}`).join('')}`, `${tag} OK Search completed.`];
	}
	if (sub === 'STORE') {
		if (args.slice(1).join(' ') !== '+FLAGS (\\Deleted)') return [`${tag} BAD Unsupported store`];
		const lines: string[] = [];
		box.messages.forEach((m, i) => {
			if (!inSet(args[0]!)(m.uid)) return;
			if (!m.flags.includes('\\Deleted')) m.flags.push('\\Deleted');
			lines.push(`* ${i + 1} FETCH (UID ${m.uid} FLAGS (${m.flags.join(' ')}))`);
		});
		return [...lines, `${tag} OK Store completed.`];
	}
	if (sub === 'EXPUNGE' && verb === 'UID') return [...expunge(inSet(args[0] ?? '')), `${tag} OK Expunge completed.`];
	return [...expunge(() => true), `${tag} OK Expunge completed.`];
}
