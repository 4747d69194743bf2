// The tls check against loopback servers whose TLS is set up strictly or loosely (node:tls, the fakes of the
// other check tests): every probe must be able to see an acceptance, or a pass would prove nothing.
import assert from 'node:assert/strict';
import {after, test} from 'node:test';
import {PROBES, tlsCheck, type Target} from '../source/checks/tls.ts';
import {CIPHER_LIST} from '../source/tls.ts';
import {closedPort, imapsServer, makeCert, opensslChildren, silentServer, smtpServer, type Fake} from './helpers/checks-servers.ts';

const FQDN = 'mail.example.com';
const pair = makeCert({cn: FQDN});
const open: Fake[] = [];
after(() => Promise.all(open.map(server => server.close())));

/** TLS options of node:tls; dhparam 'auto' so that DHE and anonymous DH suites can be chosen. */
type Tls = {minVersion?: 'TLSv1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string};
const STRICT: Tls = {minVersion: 'TLSv1.2', ciphers: CIPHER_LIST};

/** An IMAPS server (993's stand-in) and an SMTP server with STARTTLS (587's), both with these TLS options. */
async function ports(tls: Tls): Promise<Target[]> {
	const cert = {...pair, dhparam: 'auto', ...tls};
	const imaps = await imapsServer({cert, user: 'u', password: 'p'});
	const submission = await smtpServer({cert, localUser: 'u', password: 'p'});
	open.push(imaps, submission);
	return [
		{host: '127.0.0.1', port: imaps.port, servername: FQDN, starttls: false, fix: 'fix the IMAPS side'},
		{host: '127.0.0.1', port: submission.port, servername: FQDN, starttls: true, fix: 'fix the submission side'},
	];
}

async function probe(targets: Target[], timeoutMs = 5000) {
	const lines: string[] = [];
	const verdict = await tlsCheck(targets, timeoutMs, line => lines.push(line));
	return {...verdict, lines};
}

/** The problems named in a fail message, without the advice. */
const named = (message: string) => message.replace(/\. Fix: .*$/, '').split('; ');

test('Mozilla intermediate on both ports passes; every probe is in the transcript with its outcome and command', async () => {
	const targets = await ports(STRICT);
	const {status, message, lines} = await probe(targets);
	assert.equal(status, 'pass', message);
	assert.equal(lines.length, 2 * PROBES.length);
	for (const target of targets) {
		for (const {what, wanted} of PROBES) {
			const line = lines.find(l => l.startsWith(`${target.port} ${what}: `));
			assert.ok(line, `${target.port} ${what}`);
			assert.match(line, new RegExp(`^${target.port} ${what}: ${wanted === 'accepted' ? 'accepted \\(TLSv1\\.[23] ' : 'refused'}`), line);
			assert.match(line, /: openssl s_client -brief /);
		}
	}
	assert.match(lines.find(l => l.includes('TLS 1.3: accepted'))!, /TLSv1\.3 TLS_AES_/);
	assert.ok(lines.some(l => /-starttls smtp -name mail\.example\.com/.test(l)), 'the 587 probes use STARTTLS');
	assert.deepEqual(opensslChildren(), [], 'no s_client left behind');
});

test('a server that allows everything fails, naming every weakness on both ports: each probe can see an acceptance', async () => {
	const targets = await ports({minVersion: 'TLSv1', ciphers: 'ALL:eNULL:@SECLEVEL=0'});
	const {status, message} = await probe(targets);
	assert.equal(status, 'fail');
	const weak = PROBES.filter(p => p.wanted === 'refused').map(p => p.what);
	assert.equal(weak.length, 5);
	const problems = named(message);
	assert.equal(problems.length, 2 * weak.length, message);
	for (const target of targets) {
		for (const what of weak) assert.ok(problems.some(p => p.startsWith(`${target.port} accepts ${what} (`)), `${target.port} ${what}: ${message}`);
	}
	assert.match(message, /\(TLSv1 ECDHE-RSA-AES256-SHA\)/, 'the negotiated protocol and suite are named');
	assert.match(message, /accepts an anonymous suite \(TLSv1\.2 A(EC)?DH-/);
	assert.match(message, /Fix: fix the IMAPS side; fix the submission side$/);
});

test('one weakness at a time: exactly that probe fails, on exactly that port', async () => {
	const cases: [string, Tls, RegExp][] = [
		// One suite each: the aNULL and eNULL families overlap (AECDH-NULL-SHA) and hold CBC suites.
		['an anonymous suite', {minVersion: 'TLSv1.2', ciphers: `${CIPHER_LIST}:ADH-AES256-GCM-SHA384:@SECLEVEL=0`}, /^\d+ accepts an anonymous suite \(TLSv1\.2 ADH-AES256-GCM-SHA384\)/],
		['NULL encryption', {minVersion: 'TLSv1.2', ciphers: `${CIPHER_LIST}:ECDHE-RSA-NULL-SHA:@SECLEVEL=0`}, /^\d+ accepts a NULL-encryption suite \(TLSv1\.2 ECDHE-RSA-NULL-SHA\)/],
		['a CBC suite', {minVersion: 'TLSv1.2', ciphers: `${CIPHER_LIST}:ECDHE-RSA-AES128-SHA256`}, /^\d+ accepts a CBC suite at TLS 1\.2 \(TLSv1\.2 ECDHE-RSA-AES128-SHA256\)/],
		['no TLS 1.3', {minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: CIPHER_LIST}, /^\d+ does not accept TLS 1\.3 \(/],
		['only TLS 1.3', {minVersion: 'TLSv1.3'}, /^\d+ does not accept TLS 1\.2 with an AEAD suite \(/],
	];
	for (const [name, loose, wanted] of cases) {
		const [imaps] = await ports(STRICT);
		const [, looseSubmission] = await ports(loose);
		const {status, message} = await probe([imaps!, looseSubmission!]);
		assert.equal(status, 'fail', name);
		assert.deepEqual(named(message).length, 1, `${name}: ${message}`);
		assert.match(message, wanted, name);
		assert.ok(message.startsWith(`${looseSubmission!.port} `), name);
		assert.match(message, /Fix: fix the submission side$/, name);
	}
});

test('a port where nothing listens, or nothing answers, is one problem, not seven; the deadline holds', async () => {
	const silent = await silentServer();
	open.push(silent);
	const refused = await closedPort();
	const started = Date.now();
	const {status, message} = await probe(
		[
			{host: '127.0.0.1', port: refused, servername: FQDN, starttls: false, fix: 'a'},
			{host: '127.0.0.1', port: silent.port, servername: FQDN, starttls: true, fix: 'b'},
		],
		1000,
	);
	const took = Date.now() - started;
	assert.equal(status, 'fail');
	assert.deepEqual(named(message), [`${refused}: connection refused`, `${silent.port}: no answer before the deadline`]);
	assert.ok(took < 1900, `took ${took} ms: one deadline for all fourteen probes, not two`);
	assert.deepEqual(opensslChildren(), [], 'no s_client left behind');
});
