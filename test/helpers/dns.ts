// A test DNS server: dnsmasq (dnsmasq-base) on a host of the test network (server.ts), authoritative for
// one zone (other names in it get NXDOMAIN, as from a real zone) and answering only the A/AAAA records
// given. They can be changed while it runs (file rewritten, SIGHUP), so a test can point a name elsewhere
// or remove it.
//   const dns = await startDns(host, {zone: 'example.test', hosts: {'mail.example.test': [server.address]}});
//   await server.write('/etc/resolv.conf', `nameserver ${dns.address}\n`);
//   await dns.setHosts({});
import fs from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Host} from './server.ts';

export type Hosts = Record<string, string[]>; // name → its A/AAAA addresses

export interface Dns {
	address: string;
	/** Replace every A/AAAA record; the answers change at once. */
	setHosts(hosts: Hosts): Promise<void>;
}

const hostsText = (hosts: Hosts) =>
	Object.entries(hosts)
		.flatMap(([name, addresses]) => addresses.map(address => `${address} ${name}\n`))
		.join('');

/** dnsmasq on host.address:53; ends with the network. */
export async function startDns(host: Host, o: {zone: string; hosts: Hosts}): Promise<Dns> {
	const file = path.join(host.dir, 'dns-hosts');
	const log = path.join(host.dir, 'dnsmasq.log');
	fs.writeFileSync(file, hostsText(o.hosts));
	// No upstream, no /etc/hosts, no cache: only what the test says exists, changed answers at once.
	const argv = ['dnsmasq', '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=', '--no-resolv', '--no-hosts', '--bind-interfaces'];
	argv.push(`--listen-address=${host.address}`, '--user=root', '--cache-size=0', `--local=/${o.zone}/`, `--addn-hosts=${file}`);
	const child = host.spawn(argv, {log});
	for (const end = Date.now() + 10_000; !/started, version/.test(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''); await sleep(50)) {
		if (Date.now() > end || child.exitCode !== null) throw new Error(`dnsmasq did not start: ${fs.readFileSync(log, 'utf8')}`);
	}
	return {
		address: host.address,
		async setHosts(hosts) {
			fs.writeFileSync(file, hostsText(hosts));
			const read = fs.readFileSync(log, 'utf8').split('\n').length;
			child.kill('SIGHUP'); // dnsmasq reads --addn-hosts files again
			for (const end = Date.now() + 5000; fs.readFileSync(log, 'utf8').split('\n').length === read && Date.now() < end; ) await sleep(20);
		},
	};
}
