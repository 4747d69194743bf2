// A test DNS server: dnsmasq (dnsmasq-base) in a network namespace of the test network, answering only
// for the records given (A/AAAA from a hosts file; MX, TXT, PTR as dnsmasq options). Addresses can be
// changed while it runs (rewritten file + SIGHUP), so a test can point a name elsewhere or remove it.
//   const dns = await startDns({netns, address: '203.0.113.2', dir, zone: 'example.test', hosts: {'mail.example.test': ['203.0.113.10']}});
//   await dns.setHosts({});   await dns.stop();
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export type Hosts = Record<string, string[]>; // name → its A/AAAA addresses

export interface DnsOptions {
	netns: string;
	address: string; // listens on port 53 there
	dir: string; // a temp dir of the test's
	hosts: Hosts;
	/** The zone it is authoritative for: other names in it get NXDOMAIN, as from a real zone (else REFUSED). */
	zone: string;
	/** More dnsmasq options, e.g. ['--mx-host=example.test,mail.example.test,10', '--txt-record=…', '--ptr-record=…']. */
	options?: string[];
}

export interface Dns {
	address: string;
	/** Replace every A/AAAA record; answers change at once. */
	setHosts(hosts: Hosts): Promise<void>;
	stop(): Promise<void>;
}

const hostsText = (hosts: Hosts) =>
	Object.entries(hosts)
		.flatMap(([name, addresses]) => addresses.map(address => `${address} ${name}\n`))
		.join('');

export async function startDns(o: DnsOptions): Promise<Dns> {
	const hostsFile = path.join(o.dir, 'dns-hosts');
	const pidFile = path.join(o.dir, 'dnsmasq.pid');
	fs.writeFileSync(hostsFile, hostsText(o.hosts));
	// No upstream, no /etc/hosts: only what the test says exists; no cache, so a changed answer shows at once.
	await run('ip', ['netns', 'exec', o.netns, 'dnsmasq', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${o.address}`, '--cache-size=0', `--local=/${o.zone}/`, `--addn-hosts=${hostsFile}`, `--pid-file=${pidFile}`, '--user=root', ...(o.options ?? [])]);
	const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
	return {
		address: o.address,
		async setHosts(hosts) {
			fs.writeFileSync(hostsFile, hostsText(hosts));
			process.kill(pid, 'SIGHUP'); // dnsmasq rereads --addn-hosts files on SIGHUP
			await sleep(100);
		},
		async stop() {
			try {
				process.kill(pid, 'SIGTERM');
			} catch {
				return; // already gone
			}
			for (let i = 0; i < 30; i++) {
				try {
					process.kill(pid, 0);
				} catch {
					return;
				}
				await sleep(100);
			}
		},
	};
}
