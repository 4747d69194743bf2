// Let's Encrypt, offline: pebble (Debian's ACME test CA) and dnsmasq (the test zone) on a "ca" host of the
// test network, certbot on booted Debian 12 and 13 servers, trusting pebble for the test only
// (REQUESTS_CA_BUNDLE). A server set up with the self-signed default switches to letsencrypt; the
// certificate served on 993 and on 587 is pebble's and verifies against pebble's root (openssl s_client
// -verify_return_error -verify_hostname, from the laptop); a rerun asks nothing of the CA; `certbot renew
// --force-renewal` is served without touching mail-setup (the deploy hook); undo gives back the self-signed
// pair. The wizard over SSH asks on the certificate stage and yes carries on with pebble's pair. On Debian
// 12, every failure mode ends with its message, exit 1 and nothing written.
import assert from 'node:assert/strict';
import path from 'node:path';
import {describe, test, type TestContext} from 'node:test';
import {serveZone, type ZoneServer} from '../helpers/dns-zone.ts';
import {startPebble, type Pebble} from '../helpers/pebble.ts';
import {must} from '../helpers/proc.ts';
import {RELEASES} from '../helpers/roots.ts';
import {FQDN, type Host, type Server} from '../helpers/server.ts';
import {Terminal} from '../helpers/terminal.ts';
import {ALL_STAGES, CERT, DOMAIN, fingerprint, HEADLESS, lab, report, summary, writeFile, writeSecrets, type Lab, type Report} from './lib.ts';

const LIVE = `/etc/letsencrypt/live/${FQDN}`;
const HOOK = '/etc/letsencrypt/renewal-hooks/deploy/mail-setup';
const BUNDLE = '/root/pebble-https.pem';
/** What the certificate stages change, and certbot's own files. */
const PATHS = ['/etc/dovecot', '/etc/postfix', CERT, HOOK];

/** The test zone (dnsmasq, test/helpers/dns-zone.ts) with these A records, served anew on each change. */
interface Dns {
	address: string;
	setHosts(hosts: Record<string, string[]>): Promise<void>;
}

async function zoneOn(t: TestContext, host: Host, hosts: Record<string, string[]>): Promise<Dns> {
	let server: ZoneServer | undefined;
	t.after(() => server?.stop());
	const setHosts = async (next: Record<string, string[]>) => {
		await server?.stop();
		const records = Object.entries(next).flatMap(([name, addresses]) => addresses.map(value => ({type: 'A' as const, name, value, status: 'published' as const})));
		server = await serveZone({netns: host.ns, address: host.address, records, zones: [DOMAIN]});
	};
	await setHosts(hosts);
	return {address: host.address, setHosts};
}

interface AcmeLab extends Lab {
	ca: Host;
	dns: Dns;
	pebble: Pebble;
	/** mail-setup on the server, headless, as root, trusting pebble for certbot. */
	mailSetup(args: string[]): Promise<{code: number; doc: Report; text: string}>;
}

/** A lab with a "ca" host running dnsmasq (the zone: the FQDN is the server) and pebble; the server resolves through it. */
async function acmeLab(t: TestContext, release: 12 | 13, pebbleOptions: {validityDays?: number; blocklist?: string[]} = {}): Promise<AcmeLab> {
	const l = await lab(release);
	t.after(() => l.net.close());
	const ca = await l.net.add('ca');
	const dns = await zoneOn(t, ca, {[FQDN]: [l.server.address]});
	const pebble = await startPebble(ca, {dnsServer: dns.address, validityDays: 90, ...pebbleOptions});
	await l.server.write('/etc/resolv.conf', `nameserver ${dns.address}\n`);
	await l.server.write(BUNDLE, pebble.httpsCert);
	await writeSecrets(l.server);
	const mailSetup = async (args: string[]) => {
		const run = await l.server.run(['npx', 'mail-setup', ...HEADLESS, ...args], {
			env: {REQUESTS_CA_BUNDLE: BUNDLE},
			timeout: 400_000,
		});
		const doc = report(run, `mail-setup ${args.join(' ')}`);
		// When a run fails, what Dovecot and Postfix said meanwhile belongs to the story.
		const logs = run.exitCode === 0 ? '' : (await l.server.run(['journalctl', '-b', '--no-pager', '-n', '40', '-u', 'dovecot', '-u', 'postfix*'])).stdout;
		return {code: run.exitCode, doc, text: `${summary(doc)}\n${run.stderr.slice(-1500)}\n${logs}`};
	};
	return {...l, ca, dns, pebble, mailSetup};
}

const ACME = (l: AcmeLab) => ['--certificate', 'letsencrypt', '--acme-server', l.pebble.directory];
const stage = (doc: Report, id: string) => doc.stages.find(s => s.id === id)!;

/** The certificate a port serves, seen from the laptop: its SHA-256 fingerprint and its issuer. */
async function served(l: Lab, port: number): Promise<{fingerprint: string; issuer: string}> {
	const starttls = port === 587 ? '-starttls smtp' : '';
	const script = `openssl s_client -connect ${l.server.address}:${port} -servername ${FQDN} ${starttls} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -issuer`;
	const run = await l.laptop.run(['sh', '-c', script], {timeout: 30_000});
	assert.equal(run.exitCode, 0, `no certificate on ${port}: ${run.stderr}`);
	return {fingerprint: /Fingerprint=(\S+)/.exec(run.stdout)![1]!, issuer: /^issuer=(.*)$/m.exec(run.stdout)![1]!.trim()};
}

/** openssl s_client verifies the chain against caFile and the name against the FQDN: its exit code and words. */
async function verify(l: Lab, port: number, caFile: string): Promise<{ok: boolean; said: string}> {
	const argv = ['openssl', 's_client', '-connect', `${l.server.address}:${port}`, '-servername', FQDN, '-verify_return_error', '-verify_hostname', FQDN, '-CAfile', caFile, '-brief'];
	const run = await l.laptop.run(port === 587 ? [...argv, '-starttls', 'smtp'] : argv, {input: '', timeout: 30_000});
	return {ok: run.exitCode === 0 && /Verification: OK/.test(run.stderr), said: run.stderr.trim()};
}

/** The SHA-256 fingerprint of a certificate file on the server. */
async function fingerprintOf(server: Server, file: string): Promise<string> {
	const run = await server.run(['openssl', 'x509', '-noout', '-fingerprint', '-sha256', '-in', file]);
	return /Fingerprint=(\S+)/.exec(run.stdout)![1]!;
}

async function waitFor<T>(what: string, probe: () => Promise<T>, good: (value: T) => boolean, ms = 20_000): Promise<T> {
	let value = await probe();
	for (const end = Date.now() + ms; !good(value) && Date.now() < end; await new Promise(resolve => setTimeout(resolve, 300))) value = await probe();
	assert.ok(good(value), `${what}: ${JSON.stringify(value)}`);
	return value;
}

describe("Let's Encrypt on booted servers, pebble as the CA", {concurrency: 2}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: self-signed default, then letsencrypt: served on 993 and 587, rerun asks nothing, renewal served, undo`, {timeout: 900_000}, async t => {
			const l = await acmeLab(t, release);
			const {server, laptop, pebble} = l;
			const pebbleRoot = writeFile(path.join(laptop.home, 'pebble-root.pem'), await pebble.root(), 'root', 0o644);

			// --- the default, unchanged: a self-signed pair, every stage and check green
			const first = await l.mailSetup(['--db-create']);
			assert.equal(first.code, 0, first.text);
			assert.deepEqual(first.doc.stages.map(s => `${s.id} ${s.status}`), ALL_STAGES.map(id => `${id} pass`), first.text);
			assert.match(first.doc.checks.find(check => check.id === 'certificate-name')!.message, /self-signed, expires/);
			assert.equal(pebble.orders(), 0, 'the self-signed default asked the CA');
			// The FQDN resolves to this server: the stage says what would do better (the wizard asks it as a question).
			assert.match(stage(first.doc, 'certificate').message, /mail\.example\.test resolves to this machine: --certificate letsencrypt gets a certificate mail clients trust/);
			const selfSigned = await fingerprintOf(server, CERT);
			assert.equal((await served(l, 993)).fingerprint, selfSigned);
			const before = await fingerprint(server, PATHS);

			// --- switch: certbot asks pebble; Dovecot and Postfix serve the live/ pair
			const started = Date.now();
			const le = await l.mailSetup(['certificate', 'dovecot-ssl', 'postfix', 'reload', 'check', ...ACME(l), '--register-unsafely-without-email']);
			t.diagnostic(`Debian ${release}: switch to letsencrypt ${Date.now() - started} ms`);
			assert.equal(le.code, 0, le.text);
			const cert = stage(le.doc, 'certificate');
			assert.ok(cert.commands.some(command => command.startsWith(`certbot certonly --non-interactive --agree-tos --cert-name ${FQDN} -d ${FQDN} --server ${pebble.directory} --standalone --register-unsafely-without-email`)), cert.commands.join('\n'));
			assert.match(cert.message, /no account e-mail \(--register-unsafely-without-email\)/);
			assert.deepEqual(cert.changes.map(change => change.path), [HOOK]);
			assert.equal(pebble.orders(), 1);
			assert.match((await server.read('/etc/dovecot/conf.d/10-ssl.conf'))!, new RegExp(`^ssl_(server_)?cert(_file)? = <?${LIVE}/fullchain\\.pem$`, 'm'));
			assert.match((await server.run(['postconf', '-h', 'smtpd_tls_cert_file', 'smtpd_tls_key_file'])).stdout, new RegExp(`^${LIVE}/fullchain\\.pem\n${LIVE}/privkey\\.pem\n$`));
			assert.match(le.doc.checks.find(check => check.id === 'certificate-name')!.message, /issued by Pebble Intermediate CA \w+, expires/);
			const issued = await fingerprintOf(server, `${LIVE}/cert.pem`);
			for (const port of [993, 587]) {
				const now = await served(l, port);
				assert.equal(now.fingerprint, issued, `${port} serves the issued certificate`);
				assert.match(now.issuer, /Pebble Intermediate CA/);
				const check = await verify(l, port, pebbleRoot);
				assert.ok(check.ok, `${port} does not verify against pebble's root: ${check.said}`);
			}
			// Independent of the name: the same chain with another name to check fails, so the check means something.
			const other = await l.laptop.run(['openssl', 's_client', '-connect', `${server.address}:993`, '-servername', FQDN, '-verify_return_error', '-verify_hostname', `other.${DOMAIN}`, '-CAfile', pebbleRoot, '-brief'], {input: ''});
			assert.notEqual(other.exitCode, 0, 'a wrong name verified');

			// --- a rerun: the lineage is found and used, the CA is not asked, nothing changes
			const configured = await fingerprint(server, [...PATHS, '/etc/letsencrypt/live', '/etc/letsencrypt/archive']);
			const rerun = await l.mailSetup(['certificate', 'dovecot-ssl', 'postfix', 'reload']);
			assert.equal(rerun.code, 0, rerun.text);
			for (const s of rerun.doc.stages) assert.deepEqual(s.changes, [], `${s.id} changed something on a rerun`);
			assert.deepEqual(stage(rerun.doc, 'certificate').commands, []);
			assert.match(stage(rerun.doc, 'certificate').message, /holds a certificate for mail\.example\.test, issued by Pebble Intermediate CA \w+, valid until \d{4}-\d{2}-\d{2}: used as is, the CA is not asked/);
			assert.equal(pebble.orders(), 1, 'a rerun asked the CA');
			assert.equal(await fingerprint(server, [...PATHS, '/etc/letsencrypt/live', '/etc/letsencrypt/archive']), configured);

			// --- a forced renewal, as certbot.timer would do it: the hook reloads, the new certificate is served
			// Without a terminal certbot renew first sleeps up to 8 minutes (spreading the load on the CA): not here.
			const renew = await server.run(['certbot', 'renew', '--force-renewal', '--non-interactive', '--no-random-sleep-on-renew'], {env: {REQUESTS_CA_BUNDLE: BUNDLE}, timeout: 120_000});
			assert.equal(renew.exitCode, 0, renew.stdout + renew.stderr);
			assert.equal(pebble.orders(), 2);
			const renewed = await fingerprintOf(server, `${LIVE}/cert.pem`);
			assert.notEqual(renewed, issued);
			for (const port of [993, 587]) {
				await waitFor(`${port} serves the renewed certificate`, () => served(l, port), now => now.fingerprint === renewed);
				const check = await verify(l, port, pebbleRoot);
				assert.ok(check.ok, `${port} after renewal: ${check.said}`);
			}
			assert.match(await server.journal('dovecot'), /Reloading .*Dovecot/i, 'the deploy hook did not reload Dovecot');

			// --- undo: the self-signed pair again, the hook gone; once reloaded, served again
			const undo = await server.run(['npx', 'mail-setup', 'undo', '--json'], {timeout: 120_000});
			assert.equal(undo.exitCode, 0, undo.stderr);
			assert.equal(await fingerprint(server, PATHS), before, 'undo did not give back the files of the self-signed setup');
			assert.equal(await server.read(HOOK), undefined);
			const reload = await l.mailSetup(['reload']);
			assert.equal(reload.code, 0, reload.text);
			for (const port of [993, 587]) assert.equal((await served(l, port)).fingerprint, selfSigned, `${port} after undo`);
		});
	}

	test("Debian 13, the wizard over SSH: the certificate stage asks; yes, and the following stages use pebble's pair", {timeout: 600_000}, async t => {
		const l = await acmeLab(t, 13);
		const pebbleRoot = writeFile(path.join(l.laptop.home, 'pebble-root.pem'), await l.pebble.root(), 'root', 0o644);
		const term = await Terminal.open(l.laptop, {cols: 120, rows: 40});
		t.after(() => term.close());
		await term.type(`ssh -tt root@${FQDN}`);
		await term.keys('Enter');
		await term.waitFor(/^root@mail:~#$/m);
		// Stages that need no password, so the wizard goes straight to work; the CA for its question is pebble.
		await term.type(`REQUESTS_CA_BUNDLE=${BUNDLE} npx --yes mail-setup certificate dovecot-ssl reload --acme-server ${l.pebble.directory}; echo "exit=$?"`);
		await term.keys('Enter');
		await term.waitFor(/apply all stages/, 120_000);
		await term.keys('a');
		const asked = await term.waitFor(/Enter\s+no/, 60_000);
		const question = asked.replace(/\s+/g, ' ');
		assert.match(question, /mail\.example\.test resolves to this machine: --certificate letsencrypt gets a certificate mail clients trust/);
		assert.ok(question.includes(`? Ask ${l.pebble.directory} for a certificate mail clients trust instead (certbot, HTTP-01 on port 80, account e-mail postmaster@example.test)?`), question);
		await term.keys('y');
		const end = await term.waitFor(/exit=\d+/, 180_000);
		assert.match(end, /exit=0/, await term.history());
		assert.equal(l.pebble.orders(), 1);
		assert.match((await l.server.read('/etc/dovecot/conf.d/10-ssl.conf'))!, new RegExp(`^ssl_server_cert_file = ${LIVE}/fullchain\\.pem$`, 'm'));
		assert.equal((await served(l, 993)).fingerprint, await fingerprintOf(l.server, `${LIVE}/cert.pem`));
		const check = await verify(l, 993, pebbleRoot);
		assert.ok(check.ok, check.said);
	});

	test('Debian 12: each failure mode has its message, exit 1 and nothing written; webroot behind a web server', {timeout: 900_000}, async t => {
		const l = await acmeLab(t, 12, {blocklist: [`blocked.${DOMAIN}`]});
		const {server, laptop, ca, dns, pebble} = l;
		// Config, and any lineage (certbot's own account and empty dirs are its housekeeping, not a half-written setup).
		const watched = [...PATHS, '/etc/letsencrypt/live', '/etc/letsencrypt/archive', ...[FQDN, `blocked.${DOMAIN}`].map(name => `/etc/letsencrypt/renewal/${name}.conf`)];
		const pristine = await fingerprint(server, watched);
		const certificate = (more: string[] = []) => l.mailSetup(['certificate', ...ACME(l), '--email', `hostmaster@${DOMAIN}`, ...more]);
		/** The certificate stage fails with this message, and leaves every watched file as it was. */
		const refused = async (what: string, want: RegExp, more: string[] = []) => {
			const run = await certificate(more);
			assert.equal(run.code, 1, `${what}: ${run.text}`);
			const s = stage(run.doc, 'certificate');
			assert.equal(s.status, 'fail', `${what}: ${run.text}`);
			assert.match(s.message, want, what);
			assert.equal(await fingerprint(server, watched), pristine, `${what}: something was written`);
			t.diagnostic(`${what}: ${s.message.split('\n')[0]}`);
			return s.message;
		};

		// certbot missing
		assert.equal((await server.run(['mv', '/usr/bin/certbot', '/usr/bin/certbot.away'])).exitCode, 0);
		await refused('certbot missing', /^certbot is not installed here: apt-get install certbot, then run this stage again$/m);
		assert.equal((await server.run(['mv', '/usr/bin/certbot.away', '/usr/bin/certbot'])).exitCode, 0);

		// no DNS answer for the FQDN
		await dns.setHosts({});
		await refused('no DNS answer', /^no DNS answer for mail\.example\.test: the CA finds this server through its A \(or AAAA\) record\. Publish "mail\.example\.test\. IN A <this server's public address>" \(this machine has 203\.0\.113\.\d+/m);

		// DNS pointing at another server (the laptop, with a web server of its own): the CA refuses
		await dns.setHosts({[FQDN]: [laptop.address]});
		laptop.spawn(['python3', '-m', 'http.server', '80', '--bind', laptop.address, '--directory', laptop.home]);
		const elsewhere = await refused('DNS pointing elsewhere', /the CA could not verify that mail\.example\.test is this server; it said:\n  mail\.example\.test \(unauthorized\): .*404\nThe CA reached a server that did not answer the challenge: mail\.example\.test's A record points at another server/);
		assert.match(elsewhere, new RegExp(`⚠ DNS: mail\\.example\\.test is ${laptop.address.replaceAll('.', '\\.')}, not an address of this machine`));

		// port 80 closed on the way (a firewall): the CA cannot connect to the address the FQDN has
		const hidden = '203.0.113.200';
		await must(['ip', '-n', server.ns, 'addr', 'add', `${hidden}/24`, 'dev', 'eth0']);
		await must(['ip', '-n', ca.ns, 'route', 'add', 'prohibit', `${hidden}/32`]);
		await dns.setHosts({[FQDN]: [hidden]});
		await refused('port 80 closed', /\(connection\): .*\nThe CA could not connect to http:\/\/mail\.example\.test\/ \(port 80\): open port 80 in the firewall/);
		await dns.setHosts({[FQDN]: [server.address]});

		// the CA's policy refuses the name (pebble's blocklist; certbot 2.1 hides it, its log has it)
		await dns.setHosts({[FQDN]: [server.address], [`blocked.${DOMAIN}`]: [server.address]});
		await refused('the CA refuses the name', /the CA refused to issue for blocked\.example\.test: .*forbidden by policy.*\(rejectedIdentifier\)/, ['--fqdn', `blocked.${DOMAIN}`]);

		// port 80 taken by something that is not a web server
		// It greets first and keeps the connection a while, as an SSH or SMTP server does.
		await server.run(['systemd-run', '--unit=not-web', 'socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo SSH-2.0-not-a-web-server; sleep 5']);
		await waitFor('socat listens', () => server.run(['ss', '-Hltn', 'sport = :80']), run => run.stdout.includes(':80'));
		await refused('port 80 taken', /^port 80 is taken by socat pid \d+ that is not a web server \(it answered "SSH-2\.0-not-a-web-server"\)/m);
		await server.run(['systemctl', 'stop', 'not-web']);

		// a web server on port 80: refused without --webroot, issued with it
		await server.run(['mkdir', '-p', '/var/www/html']);
		await server.run(['systemd-run', '--unit=web', 'python3', '-m', 'http.server', '80', '--directory', '/var/www/html']);
		await waitFor('the web server listens', () => server.run(['ss', '-Hltn', 'sport = :80']), run => run.stdout.includes(':80'));
		await refused('a web server without --webroot', /^port 80 is taken by a web server \(SimpleHTTP\/[\d.]+ Python\/[\d.]+, python3 pid \d+\): give --webroot DIR/m);
		const orders = pebble.orders();
		const webroot = await certificate(['--webroot', '/var/www/html']);
		assert.equal(webroot.code, 0, webroot.text);
		assert.match(stage(webroot.doc, 'certificate').message, /port 80: a web server .* answers; certbot puts the challenge into \/var\/www\/html\/\.well-known\/acme-challenge\/ \(webroot\)/);
		assert.match(stage(webroot.doc, 'certificate').message, /account e-mail: hostmaster@example\.test/);
		assert.equal(pebble.orders(), orders + 1);
		assert.match((await server.read(`/etc/letsencrypt/renewal/${FQDN}.conf`))!, /authenticator = webroot/);
	});
});
