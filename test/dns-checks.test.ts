// The six DNS checks against a real DNS server (dnsmasq) in a network namespace of their own: the zone as
// mail-setup prints it passes; each breakage fails exactly its own check, naming the record to publish; a
// zone not published yet is inconclusive; a resolver that does not answer is inconclusive within 3 s.
import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';
import type {DnsReport} from '../source/checks/dns.ts';
import {recordsFor, zoneLine} from '../source/dns/records.ts';
import {dkimPublicKey, makeDkimKey} from '../source/stages/dkim.ts';
import type {DnsRecord} from '../source/types.ts';
import {serveZone} from './helpers/dns-zone.ts';

const NS = `dkim-dns-${process.pid}`;
const DNS = '203.0.113.53';
const SILENT = '203.0.113.54';
const SERVER = '203.0.113.2';
const ZONES = ['example.test', '113.0.203.in-addr.arpa'];
const IDS = ['dns-mx', 'dns-address', 'dns-ptr', 'dns-spf', 'dns-dkim', 'dns-dmarc'];
const facts = {domain: 'example.test', fqdn: 'mail.example.test', postmaster: 'postmaster@example.test', selector: 'mail'};

let key: string;
let zone: DnsRecord[];

before(async () => {
	execFileSync('ip', ['netns', 'add', NS]);
	execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
	for (const address of [DNS, SILENT]) execFileSync('ip', ['-n', NS, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
	key = dkimPublicKey(await makeDkimKey())!;
	zone = recordsFor({...facts, addresses: [SERVER], dkimKey: key});
});

after(() => {
	execFileSync('ip', ['netns', 'del', NS]);
	fs.rmSync(`/etc/netns/${NS}`, {recursive: true, force: true});
});

/** The checks run inside the namespace, as the server's (or a laptop's) own process would. */
function checks(options: Record<string, unknown> = {}): Promise<DnsReport & {ms: number}> {
	const args = JSON.stringify({...facts, checkHost: SERVER, dnsServer: DNS, dkimKey: key, ...options});
	return new Promise((resolve, reject) => {
		const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', path.resolve('test/helpers/dns-checks-run.ts'), args], {stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		let err = '';
		child.stdout.on('data', chunk => (out += chunk));
		child.stderr.on('data', chunk => (err += chunk));
		child.on('exit', code => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`))));
	});
}

async function withZone<T>(records: DnsRecord[], body: () => Promise<T>): Promise<T> {
	const server = await serveZone({netns: NS, address: DNS, records, zones: ZONES});
	try {
		return await body();
	} finally {
		await server.stop();
	}
}

const statusOf = (report: DnsReport) => Object.fromEntries(report.checks.map(check => [check.id, check.status]));
const messageOf = (report: DnsReport, id: string) => report.checks.find(check => check.id === id)!.message;
const line = (type: string, name: string) => zoneLine(zone.find(r => r.type === type && r.name === name)!);

test('the zone as mail-setup prints it: every DNS check passes, every record is published', async t => {
	const report = await withZone(zone, () => checks());
	t.diagnostic(`six DNS checks: ${report.ms} ms`);
	assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(id => [id, 'pass'])), JSON.stringify(report.checks, null, 1));
	assert.deepEqual(new Set(report.records.map(r => r.status)), new Set(['published']));
	assert.match(messageOf(report, 'dns-spf'), /allows 203\.0\.113\.2 \(pass: mx\)/);
	assert.match(report.checks.find(check => check.id === 'dns-mx')!.transcript, /MX example\.test: mail\.example\.test/);
});

test('through the system resolver (/etc/netns/<ns>/resolv.conf) as well', async () => {
	fs.mkdirSync(`/etc/netns/${NS}`, {recursive: true});
	fs.writeFileSync(`/etc/netns/${NS}/resolv.conf`, `nameserver ${DNS}\n`);
	const report = await withZone(zone, () => checks({dnsServer: ''}));
	assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(id => [id, 'pass'])), JSON.stringify(report.checks, null, 1));
});

test('nothing published yet: every check inconclusive with the record to publish, none fails', async () => {
	const report = await withZone([], () => checks());
	assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(id => [id, 'inconclusive'])));
	assert.ok(messageOf(report, 'dns-mx').endsWith(`not published yet: publish ${line('MX', 'example.test')}`), messageOf(report, 'dns-mx'));
	assert.ok(messageOf(report, 'dns-address').includes(line('A', 'mail.example.test')));
	assert.ok(messageOf(report, 'dns-ptr').includes(`ask your hosting provider for ${line('PTR', '2.113.0.203.in-addr.arpa')}`));
	assert.ok(messageOf(report, 'dns-spf').includes(line('TXT', 'example.test')));
	assert.ok(messageOf(report, 'dns-dkim').includes(line('TXT', 'mail._domainkey.example.test')));
	assert.ok(messageOf(report, 'dns-dmarc').includes(line('TXT', '_dmarc.example.test')));
	assert.deepEqual(new Set(report.records.map(r => r.status)), new Set(['missing']));
});

const other = async () => dkimPublicKey(await makeDkimKey())!;
const breakages: [string, string, (records: DnsRecord[]) => Promise<DnsRecord[]>, string][] = [
	['no MX', 'dns-mx', async records => records.filter(r => r.type !== 'MX'), 'MX'],
	['a PTR for another name', 'dns-ptr', async records => records.map(r => (r.type === 'PTR' ? {...r, value: 'vps-203-0-113-2.provider.test'} : r)), 'PTR'],
	['an SPF record that does not allow the server', 'dns-spf', async records => records.map(r => (r.value.startsWith('v=spf1') ? {...r, value: 'v=spf1 ip4:198.51.100.7 ~all'} : r)), 'SPF'],
	['a DKIM record with another key', 'dns-dkim', async records => Promise.all(records.map(async r => (r.value.startsWith('v=DKIM1') ? {...r, value: `v=DKIM1; k=rsa; p=${await other()}`} : r))), 'DKIM'],
	['no DMARC record', 'dns-dmarc', async records => records.filter(r => !r.value.startsWith('v=DMARC1')), 'DMARC'],
];

for (const [what, id, breakIt, kind] of breakages) {
	test(`${what}: ${id} fails with the record to publish, every other DNS check passes`, async () => {
		const report = await withZone(await breakIt(zone), () => checks());
		assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(other => [other, other === id ? 'fail' : 'pass'])), JSON.stringify(report.checks, null, 1));
		const wanted = zone.find(r => (kind === 'SPF' ? r.value.startsWith('v=spf1') : kind === 'DKIM' ? r.value.startsWith('v=DKIM1') : kind === 'DMARC' ? r.value.startsWith('v=DMARC1') : r.type === kind))!;
		assert.ok(messageOf(report, id).includes(zoneLine(wanted)), messageOf(report, id));
		assert.equal(report.records.find(r => r.type === wanted.type && r.name === wanted.name)!.status, kind === 'MX' || kind === 'DMARC' ? 'missing' : 'wrong');
	});
}

test('a resolver that does not answer: all six inconclusive within 3 s, none passes', async t => {
	// Something listens on the resolver's port and never answers (a dead resolver behind a firewall looks so).
	const sink = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', `require('dgram').createSocket('udp4').bind(53, '${SILENT}')`], {stdio: 'ignore'});
	try {
		await new Promise(resolve => setTimeout(resolve, 300));
		const report = await checks({dnsServer: SILENT});
		assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(id => [id, 'inconclusive'])), JSON.stringify(report.checks, null, 1));
		t.diagnostic(`given up after ${report.ms} ms`);
		assert.ok(report.ms < 3000, `took ${report.ms} ms`);
		assert.match(messageOf(report, 'dns-mx'), /no answer from 203\.0\.113\.54 .*no answer within the deadline/);
		assert.deepEqual(new Set(report.records.map(r => r.status)), new Set(['unchecked']));
	} finally {
		sink.kill();
	}
});

test('from another machine (the key in use unknown): dns-dkim inconclusive, the others pass', async () => {
	const report = await withZone(zone, () => checks({dkimKey: undefined, dkimUnknown: 'there is no /etc/dkimkeys/mail.private here'}));
	assert.deepEqual(statusOf(report), Object.fromEntries(IDS.map(id => [id, id === 'dns-dkim' ? 'inconclusive' : 'pass'])));
	assert.match(messageOf(report, 'dns-dkim'), /holds an RSA-2048 key, but there is no \/etc\/dkimkeys\/mail\.private here/);
});
