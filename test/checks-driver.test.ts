import assert from 'node:assert/strict';
import fs from 'node:fs';
import {after, before, test} from 'node:test';
import {scrub, Session, StepError, withSession, connectArg, type SessionOptions} from '../source/checks/sclient.ts';
import {bannerServer, closedPort, imapsServer, makeCert, silentServer, smtpServer, type Fake} from './helpers/checks-servers.ts';

const FQDN = 'mail.example.com';
const USER = 'u@example.com';
const PASSWORD = 'p4ss Word"x';
const cert = makeCert({cn: FQDN});
const servers: Fake[] = [];
let smtp: Fake;

before(async () => {
	smtp = await smtpServer({cert, localUser: USER, password: PASSWORD, gapMs: 15, extraEhlo: 8, echo: true});
	servers.push(smtp);
});
after(async () => {
	await Promise.all(servers.map(server => server.close()));
});

const options = (port: number, more: Partial<SessionOptions> = {}): SessionOptions => ({
	host: '127.0.0.1',
	port,
	servername: FQDN,
	starttls: true,
	protocol: 'smtp',
	timeoutMs: 3000,
	secrets: [PASSWORD],
	...more,
});

/** Has the process left the process table (or become a zombie)? */
const gone = (pid: number) => {
	try {
		return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return true;
	}
};

test('a multi-line reply is read to its final line before the next command is sent', async () => {
	const before = smtp.commands.length;
	const reply = await withSession(options(smtp.port), async s => {
		s.send(`EHLO ${FQDN}`);
		const ehlo = await s.smtp('EHLO');
		s.send('MAIL FROM:<u@example.com>');
		await s.smtp('MAIL FROM');
		// A line starting with R must reach the server, not make s_client renegotiate.
		s.send('RCPT TO:<someone@example.net>');
		const rcpt = await s.smtp('RCPT');
		assert.equal(rcpt.code, '554');
		return ehlo;
	});
	assert.equal(reply.code, '250');
	assert.equal(reply.lines.length, 13, reply.lines.join('\n'));
	assert.equal(reply.last, '250 8BITMIME');
	assert.ok(reply.lines.includes('250-AUTH PLAIN LOGIN'));
	assert.deepEqual(smtp.violations, [], 'nothing was sent while a reply was still coming');
	assert.deepEqual(smtp.commands.slice(before).filter(line => !/^(EHLO|STARTTLS)/.test(line)), ['MAIL FROM:<u@example.com>', 'RCPT TO:<someone@example.net>', 'QUIT']);
});

test('a silent server costs one deadline, then the child is killed', async () => {
	const silent = await silentServer();
	servers.push(silent);
	for (const [starttls, protocol] of [
		[true, 'smtp'],
		[false, 'imap'],
	] as const) {
		let pid: number | undefined;
		const started = Date.now();
		const error = await withSession(options(silent.port, {starttls, protocol, timeoutMs: 1000, onSpawn: p => (pid = p)}), async s => {
			if (protocol === 'smtp') s.send(`EHLO ${FQDN}`);
			return protocol === 'smtp' ? s.smtp('EHLO') : s.imap('*', 'greeting');
		}).catch((e: unknown) => e);
		const took = Date.now() - started;
		assert.ok(error instanceof StepError, String(error));
		assert.equal(error.kind, 'timeout');
		assert.match(error.message, /no answer before the deadline/);
		assert.match(error.message, /before TLS was up/);
		// Two deadlines (the wait, then waiting on QUIT) would be 2000 ms or more.
		assert.ok(took >= 1000 && took < 1600, `took ${took} ms`);
		assert.ok(pid && gone(pid), 'the s_client child is gone');
	}
});

test('a server that hangs up mid-reply is reported with what it did send', async () => {
	const closer = await smtpServer({cert, localUser: USER, password: PASSWORD, closeOn: 'MAIL'});
	servers.push(closer);
	const started = Date.now();
	const error = await withSession(options(closer.port), async s => {
		s.send(`EHLO ${FQDN}`);
		await s.smtp('EHLO');
		s.send('MAIL FROM:<u@example.com>');
		return s.smtp('MAIL FROM');
	}).catch((e: unknown) => e);
	assert.ok(error instanceof StepError, String(error));
	assert.equal(error.kind, 'closed');
	assert.equal(error.step, 'MAIL FROM');
	assert.equal(error.sent, 'MAIL FROM:<u@example.com>');
	assert.match(error.got, /250-half of a reply/);
	assert.ok(Date.now() - started < 2000, 'no deadline was waited out');
});

test('connection refused, and a port that does not speak TLS, each say so', async () => {
	const port = await closedPort();
	const refused = await withSession(options(port, {starttls: false, protocol: 'imap'}), s => s.imap('*', 'greeting')).catch((e: unknown) => e);
	assert.ok(refused instanceof StepError);
	assert.equal(refused.kind, 'refused');
	assert.match(refused.message, /connection refused.*nothing listens on 127\.0\.0\.1:\d+/);

	const plain = await bannerServer('* OK plain IMAP, no TLS');
	servers.push(plain);
	const notTls = await withSession(options(plain.port, {starttls: false, protocol: 'imap'}), s => s.imap('*', 'greeting')).catch((e: unknown) => e);
	assert.ok(notTls instanceof StepError);
	assert.equal(notTls.kind, 'tls');
	assert.match(notTls.message, /TLS handshake failed.*(wrong version number|packet length|record)/);
});

test('secrets: masked in the transcript, in echoed replies and in errors; never in argv', async () => {
	const lines: string[] = [];
	let cmdline = '';
	const token = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
	const error = await withSession(
		options(smtp.port, {
			secrets: [PASSWORD, token],
			onLine: line => lines.push(line),
			onSpawn: pid => {
				cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
			},
		}),
		async s => {
			s.send(`EHLO ${FQDN}`);
			await s.smtp('EHLO');
			s.send(`AUTH PLAIN ${token}`, 'AUTH PLAIN ***');
			const ok = await s.smtp('AUTH PLAIN');
			assert.equal(ok.code, '235', 'the real token went to the server');
			assert.match(ok.last, /you said: AUTH PLAIN \*\*\*/, 'an echo of the secret is masked in the reply');
			throw s.unexpected('AUTH PLAIN', ok, `pretend failure for ${PASSWORD}`);
		},
	).catch((e: unknown) => e);
	assert.ok(error instanceof StepError);
	assert.ok(cmdline.includes('s_client') && cmdline.includes(FQDN), cmdline);
	for (const text of [cmdline, lines.join('\n'), error.message]) {
		assert.ok(!text.includes(PASSWORD), text);
		assert.ok(!text.includes(token), text);
	}
	assert.ok(lines.includes('C: AUTH PLAIN ***'));
	assert.ok(smtp.commands.includes(`AUTH PLAIN ${token}`), 'the server did get the real token over stdin');
});

test('IMAP: waits for the tagged status and skips literals that look like one', async () => {
	const imap = await imapsServer({cert, user: USER, password: PASSWORD});
	servers.push(imap);
	const session = new Session(options(imap.port, {starttls: false, protocol: 'imap'}));
	try {
		assert.equal((await session.imap('*', 'greeting')).code, 'OK');
		session.send('4 UID fetch 1:1 (UID RFC822.SIZE FLAGS BODY.PEEK[])');
		const fetch = await session.imap('4', 'UID fetch');
		assert.equal(fetch.last, '4 OK Fetch completed.');
		assert.ok(session.transcript.some(line => /^S: \[\d+ bytes\]$/.test(line)), session.transcript.join('\n'));
		assert.ok(!session.transcript.some(line => line.includes('not really')), 'the message body is not shown');
		session.send('1 login u@example.com "wrong"');
		assert.equal((await session.imap('1', 'login')).code, 'NO');
	} finally {
		await session.end('Z LOGOUT', s => s.imap('Z', 'LOGOUT'));
	}
	assert.ok(session.transcript.includes('S: Z OK Logout completed.'));
});

test('scrub masks every occurrence, longer secrets first; connectArg brackets IPv6', () => {
	assert.equal(scrub('a password1 and password1-long and password1', ['password1', 'password1-long']), 'a *** and *** and ***');
	assert.equal(scrub('nothing', ['']), 'nothing');
	assert.equal(connectArg('::1', 993), '[::1]:993');
	assert.equal(connectArg('mail.example.com', 25), 'mail.example.com:25');
});

test('a line break in a command is refused rather than smuggling a second command', () => {
	const session = new Session(options(1, {starttls: false, protocol: 'imap', timeoutMs: 100}));
	assert.throws(() => session.send('1 login u "a\r\n2 DELETE INBOX"'), /line break/);
	return session.end('Z LOGOUT', s => s.imap('Z', 'LOGOUT'));
});

test('no openssl on PATH: the failure says to install it', async () => {
	const path = process.env.PATH;
	process.env.PATH = '/nonexistent';
	try {
		const error = await withSession(options(1, {starttls: false, protocol: 'imap'}), s => s.imap('*', 'greeting')).catch((e: unknown) => e);
		assert.ok(error instanceof StepError, String(error));
		assert.equal(error.kind, 'missing');
		assert.match(error.message, /openssl is not installed.*apt-get install openssl/);
	} finally {
		process.env.PATH = path;
	}
});
