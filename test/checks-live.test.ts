import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {authToken, imapQuote, runChecks, type CheckOptions} from '../source/checks/checks.ts';
import {isThisMachine} from '../source/net/addresses.ts';
import {CIPHER_LIST} from '../source/tls.ts';
import type {CheckResult} from '../source/types.ts';
import {bannerServer, closedPort, fakeMailbox, imapsServer, makeCert, opensslChildren, silentServer, smtpServer, type Fake, type ImapOptions, type SmtpOptions} from './helpers/checks-servers.ts';

const FQDN = 'mail.example.com';
const DAY = 86_400_000;
const USER = 'tester@example.com';
const PASSWORD = 'S3cret "pass" \\ wörd';
const TOKEN = authToken(USER, PASSWORD);
const good = makeCert({cn: FQDN});
const open: Fake[] = [];
after(() => Promise.all(open.map(server => server.close())));

// Node's default server list still has CBC suites: the fakes speak Mozilla's intermediate profile, as the wizard's servers do.
const INTERMEDIATE = {minVersion: 'TLSv1.2', ciphers: CIPHER_LIST} as const;

interface Setup {
	smtp?: Partial<SmtpOptions>;
	submission?: Partial<SmtpOptions>;
	imaps?: Partial<ImapOptions>;
	/** Replace the (closed) IMAP port 143 stand-in with this server. */
	imap?: Fake;
}

/** A complete fake mail server on loopback; by default everything is right. */
async function server(setup: Setup = {}): Promise<Required<CheckOptions>['ports']> {
	// What is submitted on 587 is delivered to the INBOX that IMAPS shows (mailbox-delivery).
	const mailbox = fakeMailbox();
	const smtp = await smtpServer({cert: good, localUser: USER, password: PASSWORD, ...setup.smtp});
	const submission = await smtpServer({localUser: USER, password: PASSWORD, mailbox, ...setup.submission, cert: {...(setup.submission?.cert ?? good), ...INTERMEDIATE}});
	const imaps = await imapsServer({user: USER, password: PASSWORD, mailbox, ...setup.imaps, cert: {...(setup.imaps?.cert ?? good), ...INTERMEDIATE}});
	open.push(smtp, submission, imaps);
	return {smtp: smtp.port, submission: submission.port, imaps: imaps.port, imap: setup.imap?.port ?? (await closedPort()), pop3: await closedPort(), pop3s: await closedPort()};
}

async function check(ports: CheckOptions['ports'], more: Partial<CheckOptions> = {}) {
	const events: [string, string][] = [];
	const started = Date.now();
	const results = await runChecks(
		{fqdn: FQDN, checkHost: '127.0.0.1', testUser: USER, testPassword: PASSWORD, timeoutMs: 3000, thisMachine: false, ports, ...more},
		(id, line) => events.push([id, line]),
	);
	const took = Date.now() - started;
	const byId = Object.fromEntries(results.map(result => [result.id, result])) as Record<string, CheckResult>;
	// Whatever happened: no secret in results or streamed lines.
	const everything = JSON.stringify(results) + JSON.stringify(events);
	for (const secret of [PASSWORD, TOKEN]) assert.ok(!everything.includes(secret), 'a secret leaked');
	return {results, byId, events, took};
}

const statuses = (results: CheckResult[]) => Object.fromEntries(results.map(result => [result.id, result.status]));
const ALL_PASS = {
	'smtp-relay-refused': 'pass',
	'smtp-local-accepted': 'pass',
	'imaps-login': 'pass',
	'submission-auth': 'pass',
	'mailbox-delivery': 'pass',
	'plaintext-closed': 'pass',
	'certificate-name': 'pass',
	tls: 'pass',
};

test('a correct server passes every check, with transcripts streamed as they happen', async () => {
	const {results, byId, events, took} = await check(await server());
	assert.deepEqual(statuses(results), ALL_PASS, JSON.stringify(results, null, 1));
	assert.deepEqual(
		results.map(result => result.id),
		Object.keys(ALL_PASS),
	);
	for (const result of results) {
		const streamed = events.filter(([id]) => id === result.id).map(([, line]) => line);
		assert.equal(streamed.join('\n'), result.transcript, `${result.id}: the streamed lines are the transcript`);
	}
	assert.match(byId['smtp-relay-refused']!.transcript, /C: RCPT TO:<mail-setup-relay-test@example\.net>\nS: 554 5\.7\.1 .*Relay access denied/);
	assert.match(byId['imaps-login']!.transcript, /C: 1 login tester@example\.com "\*\*\*"/);
	assert.match(byId['submission-auth']!.transcript, /C: AUTH PLAIN \*\*\*\nS: 235/);
	assert.doesNotMatch(byId['submission-auth']!.transcript, /DATA/, 'no mail is ever sent');
	assert.match(byId['certificate-name']!.message, /self-signed, expires \d{4}-\d{2}-\d{2} \(\d+ days left\)/);
	console.log(`# whole runChecks on loopback fakes: ${took} ms`);
	assert.ok(took < 3000, `took ${took} ms`);
});

test('an open relay fails the relay check, and only that one, saying "open relay"', async () => {
	const {results, byId} = await check(await server({smtp: {relay: 'accept'}}));
	assert.deepEqual(statuses(results), {...ALL_PASS, 'smtp-relay-refused': 'fail'});
	assert.match(byId['smtp-relay-refused']!.message, /open relay/i);
	assert.match(byId['smtp-relay-refused']!.message, /mynetworks/);
});

test('relay refused with Debian\'s 454 passes; a blacklisted checking host is inconclusive', async () => {
	const deferred = await check(await server({smtp: {relay: 'defer'}}));
	assert.equal(deferred.byId['smtp-relay-refused']!.status, 'pass');
	assert.match(deferred.byId['smtp-relay-refused']!.message, /454 4\.7\.1/);

	const blocked = await check(await server({smtp: {relay: 'blocked'}}));
	assert.equal(blocked.byId['smtp-relay-refused']!.status, 'inconclusive');
	assert.match(blocked.byId['smtp-relay-refused']!.message, /blocked using zen\.spamhaus\.org/);
	assert.match(blocked.byId['smtp-relay-refused']!.message, /blacklist/);
});

test('from this machine the relay check is inconclusive, still runs, and says how to get an answer', async () => {
	for (const relay of ['refuse', 'accept'] as const) {
		const ports = await server({smtp: {relay}});
		// thisMachine left to detection: 127.0.0.1 is loopback.
		const {byId} = await check(ports, {thisMachine: undefined});
		const result = byId['smtp-relay-refused']!;
		assert.equal(result.status, 'inconclusive', relay);
		assert.match(result.message, /npx mail-setup check --check-host mail\.example\.com/);
		assert.match(result.transcript, /C: RCPT TO:<mail-setup-relay-test@example\.net>/, 'the session was still run and shown');
	}
});

test('greylisting is a pass with a note; an unknown test mailbox fails with its cause', async () => {
	const grey = await check(await server({smtp: {local: 'greylist'}}));
	assert.equal(grey.byId['smtp-local-accepted']!.status, 'pass');
	assert.match(grey.byId['smtp-local-accepted']!.message, /greylist/i);

	const unknown = await check(await server({smtp: {local: 'unknown'}}));
	const result = unknown.byId['smtp-local-accepted']!;
	assert.equal(result.status, 'fail');
	assert.match(result.message, /^RCPT TO \(test mailbox\): unexpected reply\. Sent: RCPT TO:<tester@example\.com>\. Got: 550 5\.1\.1 .*User unknown/);
	assert.match(result.message, /virtual_users/);
});

test('a wrong password fails IMAPS and submission (535 after a 2 s delay, within the default deadline)', async () => {
	const ports = await server({submission: {authDelayMs: 2000}});
	const {results, byId, took} = await check(ports, {testPassword: 'not the password', timeoutMs: undefined});
	assert.deepEqual(statuses(results), {...ALL_PASS, 'imaps-login': 'fail', 'submission-auth': 'fail', 'mailbox-delivery': 'fail'});
	assert.match(byId['imaps-login']!.message, /^login: unexpected reply\. Sent: 1 login tester@example\.com "\*\*\*"\. Got: 1 NO \[AUTHENTICATIONFAILED\]/);
	assert.match(byId['submission-auth']!.message, /^AUTH PLAIN: unexpected reply\. Sent: AUTH PLAIN \*\*\*\. Got: 535 5\.7\.8/);
	assert.ok(!JSON.stringify(results).includes('not the password'));
	assert.ok(took >= 2000, `took ${took} ms`);
});

test('submission without AUTH PLAIN fails; one that relays without login is an open relay', async () => {
	const noAuth = await check(await server({submission: {offerAuth: false}}));
	assert.equal(noAuth.byId['submission-auth']!.status, 'fail');
	assert.match(noAuth.byId['submission-auth']!.message, /^EHLO: .*no AUTH PLAIN offered: smtpd_sasl_auth_enable/);

	const relays = await check(await server({submission: {relay: 'accept'}}));
	assert.equal(relays.byId['submission-auth']!.status, 'fail');
	assert.match(relays.byId['submission-auth']!.message, /OPEN RELAY on port \d+: .*without logging in/);
});

test('plain IMAP answering on 143 fails plaintext-closed, naming the port', async () => {
	const dovecot = await bannerServer('* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.');
	open.push(dovecot);
	const {results, byId} = await check(await server({imap: dovecot}));
	assert.deepEqual(statuses(results), {...ALL_PASS, 'plaintext-closed': 'fail'});
	assert.match(byId['plaintext-closed']!.message, new RegExp(`open port ${dovecot.port} \\(\\* OK .*Dovecot ready\\.\\)`));
	assert.match(byId['plaintext-closed']!.message, /10-master\.conf/);
});

test('certificate names: SAN, wildcard, CN only; wrong, partial-wildcard, CN-behind-SAN and expired fail', async () => {
	const cases: [string, ReturnType<typeof makeCert>, 'pass' | 'fail', RegExp][] = [
		['wildcard', makeCert({cn: 'x', san: ['*.example.com']}), 'pass', /names mail\.example\.com/],
		['CN only', makeCert({cn: FQDN, san: []}), 'pass', /expires/],
		['other name', makeCert({cn: 'other.example.org'}), 'fail', /serves a certificate for DNS:other\.example\.org, not mail\.example\.com/],
		['partial wildcard', makeCert({cn: 'x', san: ['m*.example.com']}), 'fail', /not mail\.example\.com/],
		['wildcard two labels', makeCert({cn: 'x', san: ['*.com']}), 'fail', /not mail\.example\.com/],
		['CN ignored when SAN exists', makeCert({cn: FQDN, san: ['other.example.com']}), 'fail', /not mail\.example\.com/],
		['expired', makeCert({cn: FQDN, notBefore: new Date('2020-01-01'), notAfter: new Date('2021-03-04T12:00:00Z')}), 'fail', /self-signed\) expired on 2021-03-04: mail-setup certificate --renew/],
		['15 days left', makeCert({cn: FQDN, notAfter: new Date(Date.now() + 15.5 * DAY)}), 'pass', /self-signed, expires \d{4}-\d{2}-\d{2} \(15 days left\)/],
		['13 days left', makeCert({cn: FQDN, notAfter: new Date(Date.now() + 13.5 * DAY)}), 'fail', /\(self-signed\) expires on \d{4}-\d{2}-\d{2}, in 13 days: mail-setup certificate --renew, then mail-setup reload/],
		['issued by a CA, 13 days left', makeCert({cn: FQDN, issuer: 'Test Intermediate R1', notAfter: new Date(Date.now() + 13.5 * DAY)}), 'fail', /\(issued by Test Intermediate R1\) expires on .*, in 13 days: certbot renew --cert-name mail\.example\.com on the server/],
		['issued by a CA, valid', makeCert({cn: FQDN, issuer: 'Test Intermediate R1'}), 'pass', /issued by Test Intermediate R1, expires/],
	];
	for (const [name, cert, want, message] of cases) {
		const ports = await server({imaps: {cert}, submission: {cert}});
		const {results, byId} = await check(ports);
		const result = byId['certificate-name']!;
		assert.equal(result.status, want, `${name}: ${result.message}`);
		assert.match(result.message, message, name);
		if (want === 'fail') {
			// Both ports are named, and nothing else fails (s_client does not verify the name).
			assert.match(result.message, new RegExp(`port ${ports!.imaps}.*port ${ports!.submission}`), name);
			assert.deepEqual(statuses(results), {...ALL_PASS, 'certificate-name': 'fail'}, name);
		}
	}
});

test('a wrong certificate on one port only names that port', async () => {
	const ports = await server({submission: {cert: makeCert({cn: 'smtp.other.test'})}});
	const {byId} = await check(ports);
	const result = byId['certificate-name']!;
	assert.equal(result.status, 'fail');
	assert.match(result.message, new RegExp(`^port ${ports!.submission} serves a certificate for DNS:smtp\\.other\\.test`));
	assert.doesNotMatch(result.message, new RegExp(`port ${ports!.imaps}`));
});

test('a host that accepts and never answers costs one deadline per check, not a hang', async () => {
	const silent = await silentServer();
	open.push(silent);
	const p = silent.port;
	const {results, took} = await check({smtp: p, submission: p, imaps: p, imap: await closedPort(), pop3: await closedPort(), pop3s: await closedPort()}, {timeoutMs: 1000});
	for (const result of results.filter(result => result.id !== 'plaintext-closed')) {
		assert.equal(result.status, 'fail', result.id);
		assert.match(result.message, /no answer before the deadline|timeout/, result.id);
	}
	// Less than two deadlines, with the tls check's fourteen s_client processes starting alongside.
	assert.ok(took < 1900, `took ${took} ms: one deadline, not two`);
	assert.deepEqual(opensslChildren(), [], 'no s_client left behind');
});

test('nothing listening: every session check says connection refused; closed plaintext ports pass', async () => {
	const port = await closedPort();
	const {results, byId} = await check({smtp: port, submission: port, imaps: port, imap: port, pop3: port, pop3s: port});
	for (const result of results.filter(result => result.id !== 'plaintext-closed')) {
		assert.equal(result.status, 'fail', result.id);
		assert.match(result.message, /connection refused/, result.id);
	}
	assert.equal(byId['plaintext-closed']!.status, 'pass');
});

test('no s_client ever has the password or the AUTH token on its command line', async () => {
	// Slow logins keep the children alive long enough to be seen.
	const ports = await server({imaps: {loginDelayMs: 300}, submission: {authDelayMs: 300}});
	const seen = new Map<number, string[]>();
	let polling = true;
	const poll = (async () => {
		while (polling) {
			for (const child of opensslChildren()) seen.set(child.pid, child.argv);
			await new Promise(resolve => setTimeout(resolve, 5));
		}
	})();
	const spawned: number[] = [];
	const {results} = await check(ports, {onSpawn: pid => pid && spawned.push(pid)});
	polling = false;
	await poll;
	assert.deepEqual(statuses(results), ALL_PASS);
	assert.equal(spawned.length, 6, 'six s_client sessions: relay, local, imaps, submission, delivery (587 and 993)');
	assert.ok(seen.size >= 2, `saw ${seen.size} children`);
	for (const argv of seen.values()) {
		assert.equal(argv[1], 's_client');
		const line = argv.join(' ');
		assert.ok(!line.includes(PASSWORD) && !line.includes(TOKEN) && !line.includes('S3cret'), line);
	}
});

test('with a CA file the chain must verify against it too', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checks-ca-'));
	fs.writeFileSync(path.join(dir, 'good.pem'), good.cert);
	fs.writeFileSync(path.join(dir, 'other.pem'), makeCert({cn: 'Some Other CA'}).cert);
	const ports = await server();
	const trusted = await check(ports, {caFile: path.join(dir, 'good.pem')});
	assert.equal(trusted.byId['certificate-name']!.status, 'pass', trusted.byId['certificate-name']!.message);
	const untrusted = await check(ports, {caFile: path.join(dir, 'other.pem')});
	assert.equal(untrusted.byId['certificate-name']!.status, 'fail');
	assert.match(untrusted.byId['certificate-name']!.message, /chain does not verify against .*other\.pem/);
});

test('this machine: loopback and interface addresses are, a documentation address is not', async () => {
	assert.equal(await isThisMachine('127.0.0.1'), true);
	assert.equal(await isThisMachine('localhost'), true);
	assert.equal(await isThisMachine('::1'), true);
	assert.equal(await isThisMachine('198.51.100.7'), false);
	assert.equal(await isThisMachine('name.invalid'), false);
	const own = Object.values(os.networkInterfaces()).flat().find(info => info && !info.internal && info.family === 'IPv4');
	if (own) assert.equal(await isThisMachine(own.address), true, own.address);
	assert.equal(imapQuote('a"b\\c'), '"a\\"b\\\\c"');
});

test('a login slower than the deadline (Dovecot\'s delay after wrong passwords) is still waited for', async () => {
	// Deadline 1 s; logins answer after 1.5 s, as Dovecot's auth penalty makes them.
	const ports = await server({imaps: {loginDelayMs: 1500}, submission: {authDelayMs: 1500}});
	const {byId} = await check(ports, {timeoutMs: 1000});
	for (const id of ['imaps-login', 'submission-auth', 'mailbox-delivery']) assert.equal(byId[id]!.status, 'pass', `${id}: ${byId[id]!.message}`);
});
