// The relay verdict against real Postfix (issue 14), on a wizard-configured Debian 12 server. From the
// server itself the check is conclusive whenever an address of the server is outside mynetworks; it is
// inconclusive only when Postfix trusts every one; its audit fails an open relay by configuration even
// where no probe can prove it. The laptop (another namespace on the test network) is the outside view.
import assert from 'node:assert/strict';
import path from 'node:path';
import {test} from 'node:test';
import {FQDN, type Server} from '../helpers/server.ts';
import {lab, laptopCheck, report, SECRET_FLAGS, SECRETS, summary, TEST_PASSWORD, writeFile, writeSecrets, type Report} from './lib.ts';

const DEBIAN = '127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128';
const DEBIAN_RELAY = 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination';
// An IPv6 address of the server, from the documentation prefix: a test address too.
const IPV6 = '2001:db8:113::10';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('relay check on a wizard-configured Debian 12 server: conclusive from itself, audited, the laptop agrees', {timeout: 900_000}, async t => {
	const l = await lab(12);
	t.after(() => l.net.close());
	const {server} = l;
	await writeSecrets(server);
	// No --check-host: the FQDN, which /etc/hosts maps to 127.0.1.1 (issue 14).
	const wizard = await server.run(['npx', 'mail-setup', '--yes', '--json', '--db-create', '--fqdn', FQDN, ...SECRET_FLAGS], {timeout: 300_000});
	const secrets = ['--test-password-file', `${SECRETS}/test-password`];
	assert.equal(wizard.exitCode, 0, summary(report(wizard, 'the wizard')));
	const passwordFile = writeFile(path.join(l.laptop.homeOf('nobody'), 'test-password'), `${TEST_PASSWORD}\n`, 'nobody');

	/** `mail-setup check` on the server itself: no --check-host, so the FQDN (127.0.1.1 in Debian's /etc/hosts). */
	const serverCheck = async () => {
		const run = await server.run(['npx', 'mail-setup', 'check', '--yes', '--json', '--fqdn', FQDN, ...secrets], {timeout: 120_000});
		return {exitCode: run.exitCode, relay: relayOf(report(run, 'check on the server'))};
	};
	const outsideCheck = async () => {
		const {run, doc} = await laptopCheck(l, passwordFile);
		return {exitCode: run.exitCode, relay: relayOf(doc)};
	};

	let started = Date.now();
	// 1. As the wizard leaves it (Debian's mynetworks): pass from the server itself, every check passes.
	const clean = await serverCheck();
	assert.equal(clean.relay.status, 'pass', clean.relay.message);
	assert.equal(clean.exitCode, 0);
	assert.match(
		clean.relay.message,
		new RegExp(`^relaying to \\S+ is refused: 454 4\\.7\\.1 .*Relay access denied\\)\\. Postfix does not trust ${escape(server.address)}: outside mynetworks ${escape(DEBIAN)}, so its answer is the one the world gets\\. Audit: smtpd_relay_restrictions holds defer_unauth_destination\\.$`),
	);
	assert.match(clean.relay.transcript, new RegExp(`-servername ${escape(FQDN)} -connect ${escape(server.address)}:25\\n`), 'SNI keeps the name, the connection goes to the address');
	t.diagnostic(`check on the server: ${Date.now() - started} ms`);

	// 2. mynetworks = 0.0.0.0/0: an open relay, from the server itself and from outside.
	await postfix(server, ['mynetworks = 0.0.0.0/0']);
	const everyone = await serverCheck();
	assert.equal(everyone.relay.status, 'fail');
	assert.equal(everyone.exitCode, 1);
	assert.match(everyone.relay.message, /^OPEN RELAY BY CONFIGURATION: mynetworks holds 0\.0\.0\.0\/0: every client on the internet may relay\./);
	const everyoneOutside = await outsideCheck();
	assert.equal(everyoneOutside.relay.status, 'fail');
	assert.equal(everyoneOutside.exitCode, 1);
	assert.match(everyoneOutside.relay.message, /^OPEN RELAY: the server accepted mail for \S+ from an unauthenticated client \(250 /);

	// 3. mynetworks trusts the server's own address: never pass from the server, pass from outside.
	await postfix(server, [`mynetworks = ${DEBIAN} ${server.address}/32`]);
	const own = await serverCheck();
	assert.equal(own.relay.status, 'inconclusive', own.relay.message);
	assert.equal(own.exitCode, 0, 'inconclusive does not fail the run');
	assert.match(own.relay.message, new RegExp(`^${escape(FQDN)} is this machine, and Postfix trusts every address of it: ${escape(server.address)} by ${escape(server.address)}/32 in mynetworks; relaying was accepted from here, as expected for a trusted client\\. Only a check from outside says whether the world may relay: run \`npx mail-setup check --check-host ${escape(FQDN)} `));
	assert.match(own.relay.message, new RegExp(`Audit: mynetworks trusts the public address ${escape(server.address)}/32`));
	const ownOutside = await outsideCheck();
	assert.equal(ownOutside.relay.status, 'pass', ownOutside.relay.message);

	// 3b. The same with an IPv6 address on the server that mynetworks does not hold: the probe goes there.
	assert.equal((await server.run(['ip', 'address', 'add', `${IPV6}/64`, 'dev', 'eth0', 'nodad'])).exitCode, 0);
	const v6 = await serverCheck();
	assert.equal(v6.relay.status, 'pass', v6.relay.message);
	assert.match(v6.relay.message, new RegExp(`Postfix does not trust ${escape(IPV6)}: outside mynetworks`));
	assert.match(v6.relay.transcript, new RegExp(`-connect \\[${escape(IPV6)}\\]:25\\n`));
	assert.equal((await server.run(['ip', 'address', 'del', `${IPV6}/64`, 'dev', 'eth0'])).exitCode, 0);

	// 4. The audit: a public /16 in mynetworks fails though the probe (outside it) is refused; the laptop,
	//    outside it too, cannot see it.
	await postfix(server, [`mynetworks = ${DEBIAN} 198.51.0.0/16`]);
	const wide = await serverCheck();
	assert.equal(wide.relay.status, 'fail');
	assert.match(wide.relay.message, /^OPEN RELAY BY CONFIGURATION: mynetworks trusts the public range 198\.51\.0\.0\/16, wider than a \/24: every client there may relay\. relaying to \S+ is refused: 454 /);
	assert.equal((await outsideCheck()).relay.status, 'pass');

	// 5. The audit: no reject_unauth_destination / defer_unauth_destination before a bare permit. Postfix's smtpd
	//    will not run so (the probe gets no answer); the audit says why, and fails it.
	await postfix(server, ['smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated']);
	const unguarded = await serverCheck();
	assert.equal(unguarded.relay.status, 'fail');
	assert.match(unguarded.relay.message, /^OPEN RELAY BY CONFIGURATION: neither smtpd_relay_restrictions \(permit_mynetworks permit_sasl_authenticated\) nor smtpd_recipient_restrictions \(empty\) holds reject_unauth_destination or defer_unauth_destination before any bare permit: nothing refuses relaying \(Postfix's smtpd will not even run so, and port 25 answers nobody\)\. EHLO: /);

	// 6. No mynetworks in main.cf: Postfix computes it from mynetworks_style (subnet: the server's /24).
	await postfix(server, ['mynetworks_style = subnet'], ['mynetworks']);
	const subnet = await serverCheck();
	assert.equal(subnet.relay.status, 'inconclusive', subnet.relay.message);
	assert.match(subnet.relay.message, new RegExp(`${escape(server.address)} by ${escape(server.address.replace(/\.\d+$/, '.0'))}/24 in mynetworks \\(not in main\\.cf: computed from mynetworks_style = subnet\\)`));

	// Back as the wizard left it.
	await postfix(server, []);
	assert.equal((await serverCheck()).relay.status, 'pass');
	t.diagnostic(`all cases: ${Date.now() - started} ms`);
});

function relayOf(doc: Report) {
	const relay = doc.checks.find(check => check.id === 'smtp-relay-refused');
	assert.ok(relay, summary(doc));
	return {status: relay.status, message: relay.message, transcript: relay.transcript ?? ''};
}

/** main.cf as Debian has it plus `edits`, without `unset`; Postfix restarted, so no idle smtpd keeps old settings. */
async function postfix(server: Server, edits: string[], unset: string[] = []): Promise<void> {
	const must = async (argv: string[]) => {
		const run = await server.run(argv);
		assert.equal(run.exitCode, 0, `${argv.join(' ')}: ${run.stderr}`);
	};
	await must(['postconf', '-X', 'mynetworks_style']);
	await must(['postconf', '-e', `mynetworks = ${DEBIAN}`, `smtpd_relay_restrictions = ${DEBIAN_RELAY}`, ...edits]);
	if (unset.length) await must(['postconf', '-X', ...unset]);
	await must(['systemctl', 'restart', 'postfix']);
}
