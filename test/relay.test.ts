// The relay decision on the server itself: mynetworks parsing and matching, the probe address, the audit,
// the verdict table; Postfix's own postconf (Debian 12 and 13, in overlays of the cached roots) for the reader.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {runChecks} from '../source/checks/checks.ts';
import {
	auditRelay,
	chooseAddress,
	parseEntry,
	parseMynetworks,
	planRelay,
	readRelaySettings,
	relayVerdict,
	trustingEntry,
	type Postconf,
	type Probe,
	type RelayPlan,
	type RelaySettings,
} from '../source/checks/relay.ts';
import {parseNetwork} from '../source/net/addresses.ts';
import {inRoot, RELEASES, rootDir, type Release} from './helpers/roots.ts';
import {closedPort, fakeMailbox, imapsServer, makeCert, smtpServer, type Fake} from './helpers/checks-servers.ts';

const DEBIAN = '127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128';
const settings = (more: Partial<RelaySettings> = {}): RelaySettings => ({
	mynetworks: DEBIAN,
	relayRestrictions: 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination',
	recipientRestrictions: '',
	inetProtocols: 'all',
	...more,
});
const net = (text: string) => parseNetwork(text)!;
const v4 = (text: string) => text.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n);

test('mynetworks entries in every form Postfix writes them', () => {
	assert.deepEqual(parseEntry('127.0.0.0/8').net, {family: 4, base: v4('127.0.0.0'), prefix: 8});
	// IPv4-mapped IPv6 is matched as IPv4, as Postfix sees such a client.
	assert.deepEqual(parseEntry('[::ffff:127.0.0.0]/104').net, {family: 4, base: v4('127.0.0.0'), prefix: 8});
	assert.deepEqual(parseEntry('[::ffff:0.0.0.0]/96').net, {family: 4, base: 0n, prefix: 0});
	assert.deepEqual(parseEntry('[::1]/128').net, {family: 6, base: 1n, prefix: 128});
	assert.deepEqual(parseEntry('[::1]').net, {family: 6, base: 1n, prefix: 128});
	assert.deepEqual(parseEntry('192.0.2.7').net, {family: 4, base: v4('192.0.2.7'), prefix: 32});
	const doc = {family: 6, base: 0x20010db8n << 96n, prefix: 32};
	for (const form of ['[2001:db8::]/32', '2001:db8::/32', '[2001:db8::/32]', '[2001:0db8:0:0::]/32']) assert.deepEqual(parseEntry(form).net, doc, form);
	assert.deepEqual(parseEntry('[2001:db8::1:2]').net!.base, (0x20010db8n << 96n) | (1n << 16n) | 2n);
	// Host bits set: the network is what Postfix matches.
	assert.deepEqual(parseEntry('192.168.1.77/24').net, {family: 4, base: v4('192.168.1.0'), prefix: 24});
	assert.deepEqual(parseEntry('!10.1.2.3'), {text: '!10.1.2.3', negated: true, net: {family: 4, base: v4('10.1.2.3'), prefix: 32}});
	for (const unjudged of ['/etc/postfix/network_table', 'hash:/etc/postfix/network_table', 'cidr:/etc/postfix/nets.cidr', 'inline:{ 1.2.3.4 }', '10.0.0.0/33', '[::1]/129', 'mail.example.test', '1.2.3'])
		assert.equal(parseEntry(unjudged).net, undefined, unjudged);
	assert.deepEqual(
		parseMynetworks('127.0.0.0/8, [::1]/128\tinline:{ 192.0.2.1, 192.0.2.2 } ,!hash:/x').map(entry => entry.text),
		['127.0.0.0/8', '[::1]/128', 'inline:{ 192.0.2.1, 192.0.2.2 }', '!hash:/x'],
	);
	assert.deepEqual(parseMynetworks(''), []);
});

test('trust is Postfix\'s first match: a negation excludes, a table may trust anything', () => {
	const by = (address: string, list: string) => trustingEntry(net(address), parseMynetworks(list))?.text;
	assert.equal(by('127.0.1.1', DEBIAN), '127.0.0.0/8');
	assert.equal(by('::1', DEBIAN), '[::1]/128');
	assert.equal(by('203.0.113.10', DEBIAN), undefined);
	assert.equal(by('2001:db8::10', DEBIAN), undefined);
	assert.equal(by('::ffff:127.0.0.9', DEBIAN), '127.0.0.0/8');
	assert.equal(by('203.0.113.10', '!203.0.113.10 203.0.113.0/24'), undefined);
	assert.equal(by('203.0.113.11', '!203.0.113.10 203.0.113.0/24'), '203.0.113.0/24');
	assert.equal(by('203.0.113.10', '203.0.113.0/24 !203.0.113.10'), '203.0.113.0/24', 'the first match wins');
	assert.equal(by('203.0.113.10', '127.0.0.0/8 hash:/etc/postfix/nets'), 'hash:/etc/postfix/nets');
	assert.equal(by('203.0.113.10', '!hash:/etc/postfix/nets 127.0.0.0/8'), undefined, 'a negated table can only distrust');
	assert.equal(by('2001:db8:1::5', '[2001:db8::]/32'), '[2001:db8::]/32');
	assert.equal(by('2001:db9::5', '[2001:db8::]/32'), undefined);
});

const OWN = ['127.0.0.1', '::1', '10.0.0.5', '203.0.113.10', 'fe80::1', '2001:db8::10', '198.51.100.3'];

test('the probe address: the checked host\'s own first, then public before private, IPv4 before IPv6', () => {
	assert.deepEqual(chooseAddress(OWN, [], settings()), {address: '203.0.113.10', trusted: []});
	assert.equal(chooseAddress(OWN, ['198.51.100.3'], settings()).address, '198.51.100.3');
	assert.equal(chooseAddress(OWN, ['2001:db8::10'], settings()).address, '2001:db8::10');
	// Debian's /etc/hosts: the FQDN is 127.0.1.1, loopback: other addresses are still found.
	assert.equal(chooseAddress(OWN, ['127.0.1.1'], settings()).address, '203.0.113.10');
	assert.equal(chooseAddress(['127.0.0.1', '10.0.0.5', '2001:db8::10'], [], settings()).address, '2001:db8::10');
	assert.equal(chooseAddress(['127.0.0.1', '10.0.0.5', 'fe80::1'], [], settings()).address, '10.0.0.5');
	// A trusted address is passed over, and said so.
	const lan = chooseAddress(['127.0.0.1', '203.0.113.10', '10.0.0.5'], [], settings({mynetworks: `${DEBIAN} 203.0.113.0/24`}));
	assert.deepEqual(lan, {address: '10.0.0.5', trusted: [{address: '203.0.113.10', by: '203.0.113.0/24 in mynetworks'}]});
	assert.equal(chooseAddress(OWN, [], settings({mynetworks: `!203.0.113.10 203.0.113.0/24 ${DEBIAN}`})).address, '203.0.113.10');
	// A family Postfix does not listen on is no use.
	assert.equal(chooseAddress(['127.0.0.1', '2001:db8::10'], [], settings({inetProtocols: 'ipv4'})).address, undefined);
	assert.equal(chooseAddress(OWN, [], settings({inetProtocols: 'ipv6'})).address, '2001:db8::10');
	assert.equal(chooseAddress(OWN, [], settings({inetProtocols: 'ipv4, ipv6'})).address, '203.0.113.10');
});

test('when every address is trusted, each is named with what trusts it', () => {
	const own = ['127.0.0.1', '203.0.113.10', '2001:db8::10', 'fe80::1'];
	assert.deepEqual(chooseAddress(own, [], settings({mynetworks: `${DEBIAN} 203.0.113.0/24 [2001:db8::]/64`})), {
		trusted: [
			{address: '203.0.113.10', by: '203.0.113.0/24 in mynetworks'},
			{address: '2001:db8::10', by: '[2001:db8::]/64 in mynetworks'},
		],
	});
	assert.deepEqual(chooseAddress(own, [], settings({mynetworks: `${DEBIAN} hash:/etc/postfix/nets`})).trusted[0], {
		address: '203.0.113.10',
		by: 'hash:/etc/postfix/nets in mynetworks (which this check cannot read: it may trust any address)',
	});
	const inet = chooseAddress(own, [], settings({relayRestrictions: 'permit_mynetworks permit_inet_interfaces reject_unauth_destination'}));
	assert.equal(inet.address, undefined);
	assert.equal(inet.trusted[0]!.by, 'permit_inet_interfaces in smtpd_relay_restrictions');
	assert.deepEqual(chooseAddress(['127.0.0.1', '::1'], [], settings()), {trusted: []});
});

test('audit: loopback and LAN ranges pass (LAN named); everyone, a wide public range or no guard fail', () => {
	assert.deepEqual(auditRelay(settings()), {problems: [], notes: ['smtpd_relay_restrictions holds defer_unauth_destination']});
	const problems = (more: Partial<RelaySettings>) => auditRelay(settings(more)).problems;
	for (const everyone of ['0.0.0.0/0', '[::]/0', '::/0', '[::ffff:0.0.0.0]/96'])
		assert.deepEqual(problems({mynetworks: `${DEBIAN} ${everyone}`}), [`mynetworks holds ${everyone}: every client on the internet may relay`], everyone);
	assert.deepEqual(problems({mynetworks: `${DEBIAN} 198.51.0.0/16`}), ['mynetworks trusts the public range 198.51.0.0/16, wider than a /24: every client there may relay']);
	assert.deepEqual(problems({mynetworks: '8.0.0.0/6'}), ['mynetworks trusts the public range 8.0.0.0/6, wider than a /24: every client there may relay'], 'wider than 10/8, so not private');
	assert.deepEqual(problems({mynetworks: '[2001:db8::]/32'}), ['mynetworks trusts the public range [2001:db8::]/32, wider than a /48: every client there may relay']);
	const narrow = auditRelay(settings({mynetworks: `${DEBIAN} 198.51.100.0/24 [2001:db8:1::]/48 203.0.113.10 !203.0.113.0/16`}));
	assert.deepEqual(narrow.problems, []);
	assert.deepEqual(narrow.notes.slice(0, 3), ['mynetworks trusts the public range 198.51.100.0/24', 'mynetworks trusts the public range [2001:db8:1::]/48', 'mynetworks trusts the public address 203.0.113.10']);
	const lan = auditRelay(settings({mynetworks: `${DEBIAN} 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10 169.254.0.0/16 [fd00::]/8 [fe80::]/10`}));
	assert.deepEqual(lan.problems, []);
	for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '[fd00::]/8', '[fe80::]/10'])
		assert.ok(lan.notes.includes(`mynetworks trusts the private range ${range}`), range);
	assert.deepEqual(auditRelay(settings({mynetworks: `${DEBIAN} /etc/postfix/nets`})).notes[0], 'mynetworks entry /etc/postfix/nets cannot be judged here: it may trust any address');

	assert.deepEqual(problems({relayRestrictions: 'permit_mynetworks permit_sasl_authenticated'}), [
		"neither smtpd_relay_restrictions (permit_mynetworks permit_sasl_authenticated) nor smtpd_recipient_restrictions (empty) holds reject_unauth_destination or defer_unauth_destination before any bare permit: nothing refuses relaying (Postfix's smtpd will not even run so, and port 25 answers nobody)",
	]);
	assert.match(problems({relayRestrictions: '', recipientRestrictions: ''}).join(), /^neither smtpd_relay_restrictions \(empty\) nor smtpd_recipient_restrictions \(empty\) holds/);
	// A bare permit before the refusal lets everyone through (and Postfix will not run so either).
	assert.match(problems({relayRestrictions: 'permit_mynetworks, permit, reject_unauth_destination'}).join(), /^neither smtpd_relay_restrictions \(permit_mynetworks, permit, reject_unauth_destination\) nor/);
	// Postfix's own list of refusals: a bare reject closes relaying too (and inbound mail with it, but that is no relay).
	assert.deepEqual(auditRelay(settings({relayRestrictions: 'permit_mynetworks permit_sasl_authenticated reject'})).notes, ['smtpd_relay_restrictions holds reject']);
	const older = auditRelay(settings({relayRestrictions: '', recipientRestrictions: 'permit_mynetworks, check_client_access hash:/etc/postfix/access, reject_unauth_destination'}));
	assert.deepEqual(older, {problems: [], notes: ['smtpd_recipient_restrictions holds reject_unauth_destination']});
});

// The decision table: [plan, probe outcome, audit problems] → status.
test('the verdict: conclusive where Postfix does not trust the probe, inconclusive only where it does, audit problems always fail', () => {
	const again = 'run `npx mail-setup check --check-host mail.example.test` from another machine.';
	const probe = (outcome: Probe['outcome']): Probe => ({outcome, message: `probe said ${outcome}`});
	const why = 'Postfix does not trust 203.0.113.10: outside mynetworks 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128';
	const clean = {problems: [], notes: ['smtpd_relay_restrictions holds defer_unauth_destination']};
	const open = {problems: ['mynetworks holds 0.0.0.0/0: every client on the internet may relay'], notes: []};
	const outside: RelayPlan = {connect: 'mail.example.test', conclusive: true, why: ''};
	const server: RelayPlan = {connect: '203.0.113.10', conclusive: true, why, audit: clean};
	const trusted: RelayPlan = {connect: 'mail.example.test', conclusive: false, why: 'mail.example.test is this machine, and Postfix trusts every address of it: 203.0.113.10 by 203.0.113.0/24 in mynetworks', audit: clean};
	const table: [RelayPlan, Probe['outcome'], string, RegExp][] = [
		[outside, 'refused', 'pass', /^probe said refused\.$/],
		[outside, 'accepted', 'fail', /^probe said accepted\.$/],
		[outside, 'blocked', 'inconclusive', /^probe said blocked\.$/],
		[outside, 'error', 'fail', /^probe said error\.$/],
		[server, 'refused', 'pass', /^probe said refused\. Postfix does not trust 203\.0\.113\.10: outside mynetworks 127\.0\.0\.0\/8 \[::ffff:127\.0\.0\.0\]\/104 \[::1\]\/128, so its answer is the one the world gets\. Audit: smtpd_relay_restrictions holds defer_unauth_destination\.$/],
		[server, 'accepted', 'fail', /^probe said accepted\. Postfix does not trust 203\.0\.113\.10/],
		[server, 'blocked', 'inconclusive', /^probe said blocked\./],
		[server, 'error', 'fail', /^probe said error\./],
		[{...server, audit: open}, 'refused', 'fail', /^OPEN RELAY BY CONFIGURATION: mynetworks holds 0\.0\.0\.0\/0: every client on the internet may relay\. probe said refused\. Postfix does not trust/],
		[{...server, audit: open}, 'accepted', 'fail', /^OPEN RELAY BY CONFIGURATION: .* probe said accepted\./],
		[trusted, 'accepted', 'inconclusive', /^mail\.example\.test is this machine, and Postfix trusts every address of it: 203\.0\.113\.10 by 203\.0\.113\.0\/24 in mynetworks; relaying was accepted from here, as expected for a trusted client\. Only a check from outside says whether the world may relay: run `npx mail-setup check --check-host mail\.example\.test` from another machine\./],
		[trusted, 'refused', 'inconclusive', /relaying was refused even from here/],
		[trusted, 'error', 'inconclusive', /the probe from here failed \(probe said error\)/],
		[{...trusted, audit: open}, 'accepted', 'fail', /^OPEN RELAY BY CONFIGURATION: mynetworks holds 0\.0\.0\.0\/0: every client on the internet may relay\. mail\.example\.test is this machine, .*; relaying was accepted from here, as expected for a trusted client\.$/],
	];
	for (const [plan, outcome, status, message] of table) {
		const verdict = relayVerdict(plan, probe(outcome), again);
		assert.equal(verdict.status, status, `${plan.connect} ${plan.conclusive} ${outcome} ${plan.audit?.problems.length}`);
		assert.match(verdict.message, message);
	}
});

// Postfix's own postconf in an overlay of the cached Debian roots, in a network namespace of its own (only lo:
// what it computes from interfaces never depends on this machine's); -o stands in for main.cf edits.
const postconfIn =
	(release: Release, overrides: string[] = [], binds: [string, string][] = []): Postconf =>
	args =>
		inRoot(release, ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec postconf "$@"', 'sh', ...overrides.flatMap(o => ['-o', o]), ...args], {binds});

test('the settings as Debian 12\'s and 13\'s postconf gives them, expanded', async () => {
	for (const release of RELEASES) {
		const lines: string[] = [];
		assert.deepEqual(await readRelaySettings(postconfIn(release), line => lines.push(line)), settings(), `Debian ${release}`);
		assert.equal(lines[0], '$ postconf -xh mynetworks mynetworks_style smtpd_relay_restrictions smtpd_recipient_restrictions inet_protocols');
		assert.ok(lines.includes(`mynetworks = ${DEBIAN}`), lines.join('\n'));
		const edited = await readRelaySettings(postconfIn(release, ['mynetworks=$inet_protocols 192.0.2.0/24', 'smtpd_relay_restrictions=', 'smtpd_recipient_restrictions=permit_mynetworks,reject_unauth_destination', 'inet_protocols=ipv4']), () => {});
		assert.deepEqual(edited, settings({mynetworks: 'ipv4 192.0.2.0/24', relayRestrictions: '', recipientRestrictions: 'permit_mynetworks,reject_unauth_destination', inetProtocols: 'ipv4'}), `Debian ${release}`);
	}
	// Without mynetworks in main.cf, Postfix computes it from mynetworks_style: postconf gives the result.
	// A copy of Debian 12's /etc/postfix without mynetworks, bound over the overlay's.
	const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-postfix-'));
	try {
		fs.cpSync(`${rootDir(12)}/etc/postfix`, copy, {recursive: true});
		const main = path.join(copy, 'main.cf');
		fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace(/^mynetworks .*\n/m, '') + 'mynetworks_style = subnet\n');
		const unset = postconfIn(12, [], [[copy, '/etc/postfix']]);
		assert.deepEqual(await readRelaySettings(unset, () => {}), settings({mynetworks: '127.0.0.0/8 [::1]/128', mynetworksStyle: 'subnet'}));
		const plan = await planRelay({checkHost: '127.0.0.1', postconf: unset, ownAddresses: OWN}, () => {});
		assert.equal(plan.why, 'Postfix does not trust 203.0.113.10: outside mynetworks 127.0.0.0/8 [::1]/128 (not in main.cf: computed from mynetworks_style = subnet)');
	} finally {
		fs.rmSync(copy, {recursive: true, force: true});
	}
	const missing: Postconf = async () => ({exitCode: 127, stdout: '', stderr: 'postconf: not found'});
	assert.equal(await readRelaySettings(missing, () => {}), undefined);
});

test('the plan on the server: an untrusted address of it, named with the reason; none, and why', async () => {
	const log = () => {};
	// 127.0.0.1 is loopback: this machine, by detection.
	const plan = await planRelay({checkHost: '127.0.0.1', postconf: postconfIn(12), ownAddresses: OWN}, log);
	assert.equal(plan.connect, '203.0.113.10');
	assert.equal(plan.conclusive, true);
	assert.equal(plan.why, `Postfix does not trust 203.0.113.10: outside mynetworks ${DEBIAN}`);
	assert.deepEqual(plan.audit!.problems, []);

	// 0.0.0.0/0 alone leaves IPv6 untrusted: the probe goes there, and the audit fails it anyway.
	const v4only = await planRelay({checkHost: '127.0.0.1', postconf: postconfIn(12, ['mynetworks=0.0.0.0/0']), ownAddresses: OWN}, log);
	assert.equal(v4only.connect, '2001:db8::10');
	assert.deepEqual(v4only.audit!.problems, ['mynetworks holds 0.0.0.0/0: every client on the internet may relay']);
	const everyone = await planRelay({checkHost: '127.0.0.1', postconf: postconfIn(12, ['mynetworks=0.0.0.0/0 [::]/0']), ownAddresses: OWN}, log);
	assert.equal(everyone.conclusive, false);
	assert.equal(everyone.connect, '127.0.0.1');
	assert.match(everyone.why, /^127\.0\.0\.1 is this machine, and Postfix trusts every address of it: 203\.0\.113\.10 by 0\.0\.0\.0\/0 in mynetworks; 198\.51\.100\.3 by 0\.0\.0\.0\/0 in mynetworks; 2001:db8::10 by \[::\]\/0 in mynetworks; 10\.0\.0\.5 by/);
	assert.equal(everyone.audit!.problems.length, 2);

	const loopbackOnly = await planRelay({checkHost: 'localhost', postconf: postconfIn(12), ownAddresses: ['127.0.0.1', '::1']}, log);
	assert.equal(loopbackOnly.why, `localhost is this machine, and Postfix trusts every address of it: it has no address but loopback, which mynetworks ${DEBIAN} covers`);

	const noPostfix = await planRelay({checkHost: '127.0.0.1', ownAddresses: OWN}, log);
	assert.deepEqual(noPostfix, {connect: '127.0.0.1', conclusive: false, why: '127.0.0.1 is this machine, and postconf did not say here which of its addresses Postfix trusts (mynetworks)'});
	// Elsewhere: the checked host as given, no audit (a laptop's own Postfix says nothing about the server).
	assert.deepEqual(await planRelay({checkHost: '198.51.100.99', postconf: postconfIn(12), ownAddresses: OWN}, log), {connect: '198.51.100.99', conclusive: true, why: ''});
	assert.deepEqual(await planRelay({checkHost: 'name.invalid', postconf: postconfIn(12), ownAddresses: OWN}, log), {connect: 'name.invalid', conclusive: true, why: ''});
});

const open: Fake[] = [];
after(() => Promise.all(open.map(server => server.close())));

test('runChecks on this machine with nothing but loopback: an open relay by configuration fails, a clean one is inconclusive', async () => {
	const cert = makeCert({cn: 'mail.example.test'});
	const user = 'tester@example.test';
	const password = 'pw';
	const mailbox = fakeMailbox();
	const smtp = await smtpServer({cert, localUser: user, password, relay: 'accept'});
	const submission = await smtpServer({cert, localUser: user, password, mailbox});
	const imaps = await imapsServer({cert, user, password, mailbox});
	open.push(smtp, submission, imaps);
	const ports = {smtp: smtp.port, submission: submission.port, imaps: imaps.port, imap: await closedPort(), pop3: await closedPort(), pop3s: await closedPort()};
	const relayCheck = async (overrides: string[]) => {
		const results = await runChecks({fqdn: 'mail.example.test', checkHost: '127.0.0.1', testUser: user, testPassword: password, timeoutMs: 3000, ports, postconf: postconfIn(12, overrides), ownAddresses: ['127.0.0.1', '::1']});
		return results.find(result => result.id === 'smtp-relay-refused')!;
	};
	const openRelay = await relayCheck(['mynetworks=0.0.0.0/0']);
	assert.equal(openRelay.status, 'fail');
	assert.match(openRelay.message, /^OPEN RELAY BY CONFIGURATION: mynetworks holds 0\.0\.0\.0\/0/);
	assert.match(openRelay.transcript, /^\$ postconf -xh mynetworks .*\nmynetworks = 0\.0\.0\.0\/0\n/);
	assert.match(openRelay.transcript, /-connect 127\.0\.0\.1:\d+/);
	const clean = await relayCheck([]);
	assert.equal(clean.status, 'inconclusive');
	assert.match(clean.message, /it has no address but loopback.*relaying was accepted from here, as expected for a trusted client\. Only a check from outside .*npx mail-setup check --check-host mail\.example\.test/);
	const noGuard = await relayCheck(['smtpd_relay_restrictions=permit_mynetworks']);
	assert.equal(noGuard.status, 'fail');
	assert.match(noGuard.message, /^OPEN RELAY BY CONFIGURATION: neither smtpd_relay_restrictions \(permit_mynetworks\) nor smtpd_recipient_restrictions \(empty\) holds reject_unauth_destination/);
});
