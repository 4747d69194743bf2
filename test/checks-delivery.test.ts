import assert from 'node:assert/strict';
import {after, test} from 'node:test';
import {authToken, runChecks, type CheckOptions} from '../source/checks/checks.ts';
import {CIPHER_LIST} from '../source/tls.ts';
import type {CheckResult} from '../source/types.ts';
import {closedPort, fakeMailbox, imapsServer, makeCert, opensslChildren, smtpServer, type Fake, type ImapOptions, type SmtpOptions} from './helpers/checks-servers.ts';

const FQDN = 'mail.example.com';
const USER = 'tester@example.com';
const PASSWORD = 'D3liver "me" \\ wörd';
const TOKEN = authToken(USER, PASSWORD);
// Mozilla's intermediate profile, as the wizard's servers have it (the tls check runs too).
const cert = {...makeCert({cn: FQDN}), minVersion: 'TLSv1.2', ciphers: CIPHER_LIST} as const;
const open: Fake[] = [];
after(() => Promise.all(open.map(server => server.close())));

interface Setup {
	submission?: Partial<SmtpOptions>;
	imaps?: Partial<ImapOptions>;
}

/** Fake 25, 587 and 993; 587 delivers into `mailbox`, which 993 shows, unless the setup says otherwise. */
async function server(setup: Setup = {}) {
	const mailbox = fakeMailbox();
	const smtp = await smtpServer({cert, localUser: USER, password: PASSWORD});
	const submission = await smtpServer({cert, localUser: USER, password: PASSWORD, mailbox, ...setup.submission});
	const imaps = await imapsServer({cert, user: USER, password: PASSWORD, mailbox, ...setup.imaps});
	open.push(smtp, submission, imaps);
	const ports = {smtp: smtp.port, submission: submission.port, imaps: imaps.port, imap: await closedPort(), pop3: await closedPort(), pop3s: await closedPort()};
	return {ports, mailbox, submission, imaps};
}

async function delivery(ports: CheckOptions['ports'], more: Partial<CheckOptions> = {}) {
	const events: [string, string][] = [];
	const started = Date.now();
	const results = await runChecks(
		{fqdn: FQDN, checkHost: '127.0.0.1', testUser: USER, testPassword: more.testPassword ?? PASSWORD, timeoutMs: 3000, thisMachine: false, ports, ...more},
		(id, line) => events.push([id, line]),
	);
	const took = Date.now() - started;
	const everything = JSON.stringify(results) + JSON.stringify(events);
	for (const secret of [PASSWORD, TOKEN, 'wörd']) assert.ok(!everything.includes(secret), 'a secret leaked');
	const result = results.find(r => r.id === 'mailbox-delivery') as CheckResult;
	assert.ok(result, 'mailbox-delivery ran');
	const streamed = events.filter(([id]) => id === 'mailbox-delivery').map(([, line]) => line);
	assert.equal(streamed.join('\n'), result.transcript, 'the streamed lines are the transcript');
	return {results, result, took};
}

const searches = (fake: Fake) => fake.commands.filter(line => /^\S+ UID SEARCH /i.test(line));

test('a delivering server passes: submitted on 587, found over IMAPS by its subject, then deleted', async () => {
	const {ports, mailbox, submission, imaps} = await server();
	const {results, result, took} = await delivery(ports);
	assert.equal(result.status, 'pass', result.message);
	assert.deepEqual(
		results.map(r => r.id),
		['smtp-relay-refused', 'smtp-local-accepted', 'imaps-login', 'submission-auth', 'mailbox-delivery', 'plaintext-closed', 'certificate-name', 'tls'],
	);
	assert.ok(results.every(r => r.status === 'pass'), JSON.stringify(results.filter(r => r.status !== 'pass')));
	assert.match(result.message, /reached the INBOX of tester@example\.com after \d+ ms \(UID 1\), and was deleted again/);

	const t = result.transcript;
	const token = /Subject: mail-setup delivery check ([0-9a-f]{16})/.exec(t)?.[1];
	assert.ok(token, t);
	assert.match(t, /C: AUTH PLAIN \*\*\*\nS: 235/);
	assert.match(t, /C: MAIL FROM:<tester@example\.com>\nS: 250/);
	assert.match(t, /C: RCPT TO:<tester@example\.com>\nS: 250/);
	assert.match(t, /C: DATA\nS: 354/);
	assert.match(t, /C: Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000/);
	assert.match(t, new RegExp(`C: Message-ID: <${token}\\.delivery-check@mail\\.example\\.com>`));
	assert.match(t, /C: \.\nS: 250 2\.0\.0 Ok: queued as 4FAKE1D/);
	assert.match(t, /C: d1 login tester@example\.com "\*\*\*"/);
	assert.match(t, new RegExp(`C: d3 UID SEARCH SUBJECT "${token}"\\nS: \\* SEARCH 1\\n`));
	assert.match(t, /C: d4 UID STORE 1 \+FLAGS \(\\Deleted\)/);
	assert.match(t, /C: d5 UID EXPUNGE 1\nS: \* 1 EXPUNGE/);
	assert.match(t, /C: d6 LOGOUT/);
	// The message was delivered once and is gone again; the submission fake got the whole message.
	assert.equal(mailbox.delivered, 1);
	assert.deepEqual(mailbox.messages, []);
	assert.ok(submission.commands.includes(`Subject: mail-setup delivery check ${token}`));
	assert.equal(searches(imaps).length, 1, 'found at the first search');
	console.log(`# runChecks with mailbox-delivery on loopback fakes (immediate delivery): ${took} ms`);
	assert.ok(took < 3000, `took ${took} ms`);
});

test('a slow delivery is waited for: NOOP and a new search every ~500 ms, in one session', async () => {
	const {ports, mailbox, imaps} = await server({submission: {deliveryDelayMs: 1200}});
	const {result, took} = await delivery(ports, {deliveryWaitMs: 5000});
	assert.equal(result.status, 'pass', result.message);
	const n = searches(imaps).length;
	assert.ok(n >= 3 && n <= 5, `${n} searches`);
	assert.ok(imaps.commands.filter(line => /^\S+ NOOP$/.test(line)).length === n - 1, 'a NOOP before each new search');
	assert.equal(imaps.commands.filter(line => /^\S+ login /i.test(line)).length, 2, 'one login for imaps-login, one for delivery');
	assert.match(result.transcript, /found after \d+ ms, \d+ searches/);
	assert.deepEqual(mailbox.messages, []);
	console.log(`# runChecks with a delivery 1.2 s late: ${took} ms`);
	assert.ok(took < 3000, `took ${took} ms`);
});

test('accepted but never delivered: fails within the deadline, saying so and naming the usual causes', async () => {
	const {ports, imaps} = await server({submission: {mailbox: undefined}});
	const started = Date.now();
	const {result} = await delivery(ports, {deliveryWaitMs: 1500});
	const took = Date.now() - started;
	assert.equal(result.status, 'fail');
	assert.match(result.message, /^the message was accepted on port \d+ \(250 2\.0\.0 Ok: queued as 4FAKE1D\) but never reached the INBOX of tester@example\.com within 1\.5 s/);
	assert.match(result.message, /searched for Subject "mail-setup delivery check [0-9a-f]{16}"/);
	assert.match(result.message, /queue ID 4FAKE1D/);
	assert.match(result.message, /"lmtp" lines in the mail log/);
	assert.match(result.message, /first_valid_uid/);
	assert.match(result.message, /auth_username_format/);
	assert.match(result.message, /virtual_mailbox_domains/);
	assert.ok(searches(imaps).length >= 3, `${searches(imaps).length} searches`);
	assert.match(result.transcript, /not found after \d+ ms/);
	assert.match(result.transcript, /C: d\d+ LOGOUT/);
	assert.doesNotMatch(result.transcript, /UID STORE|EXPUNGE/);
	console.log(`# runChecks, never delivered, 1.5 s deadline: ${took} ms`);
	// Under 2 × the wait: the tls check's fourteen s_client processes run alongside on a 2-core machine.
	assert.ok(took >= 1400 && took < 3000, `took ${took} ms`);
	assert.deepEqual(opensslChildren(), [], 'no s_client left behind');
});

test('without UIDPLUS it expunges with EXPUNGE', async () => {
	const {ports, mailbox} = await server({imaps: {uidplus: false}});
	const {result} = await delivery(ports);
	assert.equal(result.status, 'pass', result.message);
	assert.match(result.transcript, /C: d5 EXPUNGE\nS: \* 1 EXPUNGE/);
	assert.deepEqual(mailbox.messages, []);
});

test('a failing step is named: wrong password, refused recipient, refused message; no IMAP session then', async () => {
	const wrong = await server({submission: {authDelayMs: 200}});
	const bad = await delivery(wrong.ports, {testPassword: 'not the password'});
	assert.equal(bad.result.status, 'fail');
	assert.match(bad.result.message, /^AUTH PLAIN: unexpected reply\. Sent: AUTH PLAIN \*\*\*\. Got: 535 5\.7\.8/);
	assert.doesNotMatch(bad.result.transcript, /DATA|SEARCH/);
	assert.ok(!JSON.stringify(bad.results).includes('not the password'));
	assert.equal(wrong.mailbox.delivered, 0);

	const unknown = await server({submission: {local: 'unknown'}});
	const rcpt = await delivery(unknown.ports);
	assert.equal(rcpt.result.status, 'fail');
	assert.match(rcpt.result.message, /^RCPT TO \(test mailbox\): unexpected reply\. Sent: RCPT TO:<tester@example\.com>\. Got: 550 5\.1\.1/);
	assert.match(rcpt.result.message, /virtual_mailbox_domains/);

	const milter = await server({submission: {dataReply: '554 5.7.1 Rejected by content filter'}});
	const data = await delivery(milter.ports);
	assert.equal(data.result.status, 'fail');
	assert.match(data.result.message, /^end of DATA: unexpected reply\. Sent: \.\. Got: 554 5\.7\.1 Rejected by content filter/);
	assert.doesNotMatch(data.result.transcript, /SEARCH/);
});

