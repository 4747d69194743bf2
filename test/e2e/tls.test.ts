// TLS on booted Debian 12 (OpenSSL 3.0) and 13 (OpenSSL 3.5) servers set up by the wizard, probed from the
// laptop: the tls check's probe matrix, openssl s_client and sslscan as independent clients, mail clients still
// connecting, port 25 still opportunistic; then a setting loosened by hand fails exactly the tls check until
// the wizard puts it back.
import assert from 'node:assert/strict';
import path from 'node:path';
import {describe, test} from 'node:test';
import {PROBES} from '../../source/checks/tls.ts';
import {INTERMEDIATE_CIPHERS} from '../../source/tls.ts';
import {FQDN, type Host, type Server} from '../helpers/server.ts';
import {RELEASES} from '../helpers/roots.ts';
import {expectChecks, HEADLESS, lab, laptopCheck, report, summary, TEST_PASSWORD, TEST_USER, writeFile, writeSecrets, type Report} from './lib.ts';

const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** The tls check of a report: status, message and one transcript line per probe. */
function tlsOf(doc: Report) {
	const tls = doc.checks.find(check => check.id === 'tls');
	assert.ok(tls, `no tls check\n${summary(doc)}`);
	return tls;
}

/** One handshake from the laptop: the negotiated protocol and suite, or undefined when refused. */
async function handshake(laptop: Host, server: Server, port: number, args: string[]): Promise<string | undefined> {
	const starttls = port === 993 ? [] : ['-starttls', 'smtp', '-name', 'laptop.example.test'];
	const run = await laptop.run(['openssl', 's_client', '-brief', ...starttls, '-servername', FQDN, '-connect', `${server.address}:${port}`, ...args], {input: '', timeout: 20_000});
	const field = (name: string) => run.stderr.match(new RegExp(`^${name}: (.+)$`, 'm'))?.[1];
	return run.exitCode === 0 ? `${field('Protocol version')} ${field('Ciphersuite')}` : undefined;
}

/** sslscan's verdict on a port (STARTTLS for SMTP ports): enabled protocols, accepted suites, what it rates weak. */
async function sslscan(laptop: Host, server: Server, port: number) {
	const run = await laptop.run(['sslscan', '--no-colour', '--xml=-', ...(port === 993 ? [] : ['--starttls-smtp']), `${server.address}:${port}`], {timeout: 120_000});
	assert.equal(run.exitCode, 0, `sslscan (apt-get install sslscan): ${run.stderr}`);
	const xml = run.stdout;
	const protocols = [...xml.matchAll(/<protocol type="(\w+)" version="([\d.]+)" enabled="1"/g)].map(([, type, version]) => `${type === 'ssl' ? 'SSLv' : 'TLSv'}${version}`);
	const ciphers = [...xml.matchAll(/<cipher status="\w+" sslversion="(\S+)" bits="\d+" cipher="(\S+)"[^>]* strength="(\w+)"/g)].map(([, version, name, strength]) => ({version, name, strength}));
	const heartbleed = /<heartbleed [^>]*vulnerable="1"/.test(xml);
	const renegotiation = /<renegotiation supported="1" secure="0"/.test(xml);
	return {protocols, ciphers, heartbleed, renegotiation};
}

describe('TLS on booted servers', {concurrency: true}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: 993 and 587 at Mozilla's intermediate profile, probed from a laptop; loosened by hand, the tls check fails`, {timeout: 900_000}, async t => {
			const l = await lab(release);
			t.after(() => l.net.close());
			const {server, laptop} = l;
			await writeSecrets(server);

			// --- the wizard on the server; its own check probes with the server's OpenSSL (3.0 on 12, 3.5 on 13)
			const first = await server.run(['npx', 'mail-setup', ...HEADLESS, '--db-create'], {timeout: 300_000});
			const doc = report(first, 'the wizard');
			assert.equal(first.exitCode, 0, summary(doc) + first.stderr);
			assert.equal(tlsOf(doc).status, 'pass', tlsOf(doc).message);

			// --- from the laptop: every check passes, and the probe matrix is as wanted on both ports
			const passwordFile = writeFile(path.join(laptop.homeOf('nobody'), 'test-password'), `${TEST_PASSWORD}\n`, 'nobody');
			const check = await laptopCheck(l, passwordFile);
			expectChecks(check, 0);
			const tls = tlsOf(check.doc);
			assert.equal(tls.status, 'pass', tls.message);
			const matrix = tls.transcript!.split('\n');
			for (const port of [993, 587]) {
				for (const probe of PROBES) {
					const line = matrix.find(entry => entry.startsWith(`${port} ${probe.what}: `));
					assert.ok(line, `${port} ${probe.what}: not probed\n${tls.transcript}`);
					assert.ok(line.startsWith(`${port} ${probe.what}: ${probe.wanted}`), line);
					t.diagnostic(`Debian ${release}: ${line.replace(/: openssl .*$/, '')}`);
				}
			}

			// --- openssl s_client, independently: each DHE suite needs the DH group; static RSA is not in the profile
			for (const port of [993, 587]) {
				assert.equal(await handshake(laptop, server, port, ['-tls1_2', '-cipher', 'DHE-RSA-AES256-GCM-SHA384']), 'TLSv1.2 DHE-RSA-AES256-GCM-SHA384', `${port} DHE`);
				assert.equal(await handshake(laptop, server, port, ['-tls1_2', '-cipher', 'AES128-GCM-SHA256']), undefined, `${port} static RSA`);
			}
			// Port 25 stays opportunistic: any TLS a sending server has, but never SSL (sslscan below).
			assert.equal(await handshake(laptop, server, 25, ['-tls1', '-cipher', 'ALL:@SECLEVEL=0']), 'TLSv1 ECDHE-RSA-AES256-SHA', '25 TLS 1.0');
			assert.match((await handshake(laptop, server, 25, ['-tls1_3'])) ?? 'refused', /^TLSv1\.3 /, '25 TLS 1.3');

			// --- sslscan, an independent scanner (its own SSLv2/SSLv3 hellos)
			for (const port of [993, 587]) {
				const scan = await sslscan(laptop, server, port);
				assert.deepEqual(scan.protocols, ['TLSv1.2', 'TLSv1.3'], `${port} protocols`);
				const tls12 = scan.ciphers.filter(c => c.version === 'TLSv1.2').map(c => c.name).sort();
				assert.deepEqual(tls12, INTERMEDIATE_CIPHERS.filter(name => !name.includes('ECDSA')).sort(), `${port}: the RSA certificate's intermediate suites, no others`);
				for (const c of scan.ciphers) {
					assert.ok(c.version === 'TLSv1.2' || (c.version === 'TLSv1.3' && TLS13.includes(c.name)), `${port}: ${c.version} ${c.name}`);
					assert.ok(['strong', 'acceptable'].includes(c.strength), `${port}: sslscan rates ${c.name} ${c.strength}`);
				}
				assert.equal(scan.heartbleed, false, `${port} heartbleed`);
				assert.equal(scan.renegotiation, false, `${port} insecure renegotiation`);
			}
			const scan25 = await sslscan(laptop, server, 25);
			assert.deepEqual(scan25.protocols, ['TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'], '25 protocols: TLS of any version, no SSL');

			// --- mail clients still get in: curl over IMAPS, swaks with AUTH on 587
			const netrc = writeFile(path.join(laptop.home, 'netrc'), `machine ${FQDN} login ${TEST_USER} password ${TEST_PASSWORD}\n`);
			const imap = await laptop.run(['curl', '-sS', '--max-time', '20', '--netrc-file', netrc, '-k', `imaps://${FQDN}/INBOX`, '-X', 'EXAMINE INBOX'], {timeout: 60_000});
			assert.equal(imap.exitCode, 0, imap.stderr);
			assert.match(imap.stdout, /^\* FLAGS /m);
			const swaksAuth = writeFile(path.join(laptop.home, 'swaks'), `auth-password ${TEST_PASSWORD}\n`);
			const swaks = await laptop.run(['swaks', '--timeout', '20', '--server', FQDN, '--port', '587', '--tls', '--config', swaksAuth, '--auth', 'PLAIN', '--auth-user', TEST_USER, '--from', TEST_USER, '--to', TEST_USER, '--quit-after', 'AUTH'], {timeout: 60_000});
			assert.equal(swaks.exitCode, 0, swaks.stdout.slice(-1500));
			assert.match(swaks.stdout, /TLS started with cipher TLSv1\.[23]/);
			assert.match(swaks.stdout, /<~ +235 /);

			// --- loosened by hand: Dovecot takes every suite; Postfix's mandatory TLS back to Debian's defaults
			const loosen = await server.run([
				'sh',
				'-ec',
				`sed -i 's/^ssl_cipher_list = .*/ssl_cipher_list = ALL/' /etc/dovecot/conf.d/10-ssl.conf
				doveadm reload
				postconf -e 'smtpd_tls_mandatory_protocols = >=TLSv1' 'tls_high_cipherlist = aNULL:-aNULL:HIGH:@STRENGTH' 'smtpd_tls_mandatory_exclude_ciphers ='
				postconf -P 'submission/inet/smtpd_tls_protocols=>=TLSv1'
				systemctl reload postfix`,
			]);
			assert.equal(loosen.exitCode, 0, loosen.stderr);
			const loose = await laptopCheck(l, passwordFile);
			expectChecks(loose, 1, ['tls']);
			const problems = tlsOf(loose.doc).message.replace(/\. Fix: .*$/, '').split('; ').map(p => p.replace(/ \(.*\)$/, ''));
			assert.deepEqual(problems, ['993 accepts a CBC suite at TLS 1.2', '587 accepts TLS 1.0', '587 accepts TLS 1.1', '587 accepts an anonymous suite', '587 accepts a CBC suite at TLS 1.2'], tlsOf(loose.doc).message);
			assert.match(tlsOf(loose.doc).message, /Fix: 993: ssl_min_protocol and ssl_cipher_list .*; 587: smtpd_tls_mandatory_protocols/);

			// --- the wizard puts the profile back (and only the loosened settings), and the check passes again.
			const again = await server.run(['npx', 'mail-setup', 'dovecot-ssl', 'postfix', 'submission', 'reload', ...HEADLESS], {timeout: 300_000});
			const fixed = report(again, 'the rerun');
			assert.equal(again.exitCode, 0, summary(fixed));
			assert.deepEqual(
				fixed.stages.map(stage => `${stage.id} ${stage.changes.map(change => change.path).join(' ')}`),
				['dovecot-ssl /etc/dovecot/conf.d/10-ssl.conf', 'postfix /etc/postfix/main.cf', 'submission /etc/postfix/master.cf', 'reload '],
			);
			expectChecks(await laptopCheck(l, passwordFile), 0);
		});
	}
});
