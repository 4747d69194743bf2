// DKIM and DNS on freshly booted Debian 12 and 13 servers, offline: a DNS server of the test network
// (dnsmasq) serves the test zone and its reverse zone. The wizard signs with OpenDKIM; a message sent
// through 587 arrives signed and Debian's dkimverify (python3-dkim) accepts it once the records the
// summary lists are published; then every DNS check passes, and each breakage fails its own check only.
import assert from 'node:assert/strict';
import path from 'node:path';
import {describe, test} from 'node:test';
import {dkimName, zoneLine} from '../../source/dns/records.ts';
import {dkimPublicKey} from '../../source/stages/dkim.ts';
import type {DnsRecord} from '../../source/types.ts';
import {serveZone, type ZoneServer} from '../helpers/dns-zone.ts';
import {RELEASES} from '../helpers/roots.ts';
import {FQDN, type Host} from '../helpers/server.ts';
import {DOMAIN, HEADLESS, lab, mailClient, report, summary, TEST_PASSWORD, TEST_USER, writeFile, writeSecrets, type Lab, type Report} from './lib.ts';

const DNS_IDS = ['dns-mx', 'dns-address', 'dns-ptr', 'dns-spf', 'dns-dkim', 'dns-dmarc'];
const ZONES = [DOMAIN, '113.0.203.in-addr.arpa'];

type Doc = Report & {records: DnsRecord[]};

const statuses = (doc: Report, ids = DNS_IDS) => Object.fromEntries(ids.map(id => [id, doc.checks.find(check => check.id === id)?.status ?? 'not run']));
const every = (status: string, except: Record<string, string> = {}) => Object.fromEntries(DNS_IDS.map(id => [id, except[id] ?? status]));
const messageOf = (doc: Report, id: string) => doc.checks.find(check => check.id === id)?.message ?? '';

/** The DNS host's dnsmasq, serving these records (the previous one stopped first). */
class Zone {
	private server?: ZoneServer;
	constructor(private readonly host: Host) {}
	async publish(records: DnsRecord[]): Promise<void> {
		await this.server?.stop();
		this.server = await serveZone({netns: this.host.ns, address: this.host.address, records, zones: ZONES});
	}
	async stop(): Promise<void> {
		await this.server?.stop();
	}
}

/** `mail-setup check --json` on the server as root: the DNS checks there can compare the key in use. */
async function serverCheck(l: Lab): Promise<{code: number; doc: Doc}> {
	const run = await l.server.run(['npx', 'mail-setup', 'check', ...HEADLESS], {timeout: 180_000});
	return {code: run.exitCode, doc: report(run, 'mail-setup check on the server') as Doc};
}

describe('DKIM signing and DNS checks on booted servers', {concurrency: true}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: signed on 587, dkimverify accepts it; the published zone passes; each breakage fails its own check`, {timeout: 900_000}, async t => {
			const l = await lab(release);
			t.after(() => l.net.close());
			const {server, laptop, net} = l;
			const dns = await net.add('dns', {address: '203.0.113.53'});
			const zone = new Zone(dns);
			t.after(() => zone.stop());
			// Nothing published yet: the zones exist, their names do not.
			await zone.publish([]);
			await server.write('/etc/resolv.conf', `nameserver ${dns.address}\n`);
			writeFile(path.join(laptop.dir, 'etc/resolv.conf'), `nameserver ${dns.address}\n`, 'root', 0o644);
			await writeSecrets(server);

			// --- the wizard, every stage, before the operator touched DNS: green, the records listed as to do
			let started = Date.now();
			const first = await server.run(['npx', 'mail-setup', ...HEADLESS, '--db-create'], {timeout: 300_000});
			t.diagnostic(`Debian ${release}: wizard ${Date.now() - started} ms`);
			const doc = report(first, 'the wizard') as Doc;
			assert.equal(first.exitCode, 0, summary(doc) + first.stderr);
			const dkimStage = doc.stages.find(stage => stage.id === 'dkim');
			assert.equal(dkimStage?.status, 'pass', summary(doc));
			const reload = doc.stages.find(stage => stage.id === 'reload')!;
			assert.ok(reload.commands.includes('systemctl restart opendkim'), `reload: ${reload.commands}`);
			assert.ok(reload.commands.indexOf('systemctl restart opendkim') < reload.commands.findIndex(c => / postfix$/.test(c)), `OpenDKIM before Postfix: ${reload.commands}`);
			assert.deepEqual(statuses(doc), every('inconclusive'), summary(doc));
			assert.ok(messageOf(doc, 'dns-mx').includes(`publish ${DOMAIN}. IN MX 10 ${FQDN}.`), messageOf(doc, 'dns-mx'));
			assert.deepEqual(new Set(doc.records.map(r => r.status)), new Set(['missing']));

			// The key in use is the one the DKIM record carries, and it is the program's: 2048 bits, 0600 opendkim.
			const key = (await server.read('/etc/dkimkeys/mail.private'))!;
			const dkimRecord = doc.records.find(r => r.name === dkimName('mail', DOMAIN))!;
			assert.equal(dkimRecord.value, `v=DKIM1; k=rsa; p=${dkimPublicKey(key)}`);
			const keyMeta = await server.run(['stat', '-c', '%a %U:%G', '/etc/dkimkeys/mail.private', '/var/spool/postfix/opendkim/opendkim.sock']);
			assert.equal(keyMeta.stdout, '600 opendkim:opendkim\n770 opendkim:postfix\n', keyMeta.stderr);
			assert.equal((await server.run(['systemctl', 'is-active', 'opendkim'])).stdout, 'active\n');
			assert.equal(first.stdout.includes(key.split('\n')[1]!), false, 'the private key never appears in the output');

			// --- the operator publishes exactly what the summary listed
			await zone.publish(doc.records);

			// --- a message submitted on 587 from the laptop arrives signed; dkimverify (through the test DNS) accepts it
			const mail = await mailClient(l);
			const swaksAuth = writeFile(path.join(laptop.home, 'swaks'), `auth-password ${TEST_PASSWORD}\n`);
			const token = `dkim-${release}-${Date.now()}`;
			const submit = await laptop.run(
				['swaks', '--timeout', '20', '--server', FQDN, '--config', swaksAuth, '--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', TEST_USER, '--from', TEST_USER, '--to', TEST_USER, '--header', `Subject: ${token}`, '--body', `signed by OpenDKIM: ${token}`],
				{timeout: 60_000},
			);
			assert.equal(submit.exitCode, 0, submit.stdout.slice(-1500));
			const message = await mail.arrived(mail.netrc('test', TEST_USER, TEST_PASSWORD), token);
			assert.match(message, new RegExp(`^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=${DOMAIN.replace('.', '\\.')};\\s+s=mail;`, 'm'), message.slice(0, 2000));
			// Debian's verifier, under Debian's python (the first python3 on PATH may lack its modules).
			const verify = await laptop.run(['/usr/bin/python3', '/usr/bin/dkimverify'], {input: message});
			assert.match(verify.stdout + verify.stderr, /signature ok/, verify.stdout + verify.stderr);
			assert.equal(verify.exitCode, 0);
			// The verifier can say no: the same message with its body changed fails.
			const forged = await laptop.run(['/usr/bin/python3', '/usr/bin/dkimverify'], {input: message.replace(`signed by OpenDKIM: ${token}`, 'changed on the way')});
			assert.notEqual(forged.exitCode, 0, forged.stdout);

			// --- with the zone published every DNS check passes, on the server (system resolver) ...
			started = Date.now();
			const published = await serverCheck(l);
			t.diagnostic(`Debian ${release}: check on the server ${Date.now() - started} ms`);
			assert.deepEqual(statuses(published.doc), every('pass'), summary(published.doc));
			assert.equal(published.code, 0, summary(published.doc));
			assert.deepEqual(new Set(published.doc.records.map(r => r.status)), new Set(['published']));

			// ... and from the laptop (--dns-server), where the key in use cannot be compared
			const nobody = laptop.homeOf('nobody');
			const passwordFile = writeFile(path.join(nobody, 'test-password'), `${TEST_PASSWORD}\n`, 'nobody');
			const fromLaptop = await laptop.run(
				[...l.cli, 'check', '--yes', '--json', '--fqdn', FQDN, '--test-user', TEST_USER, '--test-password-file', passwordFile, '--dns-server', dns.address],
				{user: 'nobody', timeout: 120_000},
			);
			const laptopDoc = report(fromLaptop, 'mail-setup check from the laptop');
			assert.deepEqual(statuses(laptopDoc), every('pass', {'dns-dkim': 'inconclusive'}), summary(laptopDoc));
			assert.equal(fromLaptop.exitCode, 0, summary(laptopDoc));

			// --- each breakage fails exactly its own check, with the record to publish
			const wanted = (match: (r: DnsRecord) => boolean) => zoneLine(doc.records.find(match)!);
			const other = await server.run(['openssl', 'genrsa', '2048'], {timeout: 60_000});
			const breakages: [string, string, DnsRecord[], string][] = [
				['no MX', 'dns-mx', doc.records.filter(r => r.type !== 'MX'), wanted(r => r.type === 'MX')],
				['a PTR for another name', 'dns-ptr', doc.records.map(r => (r.type === 'PTR' ? {...r, value: `vps-1.provider.${DOMAIN}`} : r)), wanted(r => r.type === 'PTR')],
				['an SPF record that does not allow the server', 'dns-spf', doc.records.map(r => (r.value.startsWith('v=spf1') ? {...r, value: 'v=spf1 ip4:198.51.100.7 -all'} : r)), wanted(r => r.value.startsWith('v=spf1'))],
				['a DKIM record with another key', 'dns-dkim', doc.records.map(r => (r.value.startsWith('v=DKIM1') ? {...r, value: `v=DKIM1; k=rsa; p=${dkimPublicKey(other.stdout)}`} : r)), wanted(r => r.value.startsWith('v=DKIM1'))],
				['no DMARC record', 'dns-dmarc', doc.records.filter(r => !r.value.startsWith('v=DMARC1')), wanted(r => r.value.startsWith('v=DMARC1'))],
			];
			for (const [what, id, records, line] of breakages) {
				await zone.publish(records);
				const broken = await serverCheck(l);
				assert.deepEqual(statuses(broken.doc), every('pass', {[id]: 'fail'}), `${what}\n${summary(broken.doc)}`);
				assert.equal(broken.code, 1, what);
				assert.ok(messageOf(broken.doc, id).includes(line), `${what}: ${messageOf(broken.doc, id)}`);
			}

			// --- a rerun keeps the key and restarts nothing
			await zone.publish(doc.records);
			const pid = await server.mainPid('opendkim');
			const again = await server.run(['npx', 'mail-setup', ...HEADLESS], {timeout: 300_000});
			const againDoc = report(again, 'the rerun') as Doc;
			assert.equal(again.exitCode, 0, summary(againDoc));
			assert.deepEqual(againDoc.stages.find(stage => stage.id === 'dkim')?.changes, []);
			assert.equal(await server.read('/etc/dkimkeys/mail.private'), key);
			assert.equal(await server.mainPid('opendkim'), pid, 'OpenDKIM was not restarted');
		});
	}
});
