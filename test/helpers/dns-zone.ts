// A DNS server for the tests: Debian's dnsmasq (package dnsmasq-base) in a network namespace, serving
// exactly the records given (the DnsRecord list mail-setup prints, edited to break one), authoritative for
// the zones given: any other name in them is NXDOMAIN, as on a real zone.
//
//   const dns = await serveZone({netns: 'ns', address: '203.0.113.53', records, zones: ['example.test', '113.0.203.in-addr.arpa']});
//   ...
//   await dns.stop();
//
// A and AAAA go in as --address (not --host-record, which would add a PTR of its own): a PTR exists only
// where the records list one.
import {spawn} from 'node:child_process';
import {txtStrings} from '../../source/dns/records.ts';
import type {DnsRecord} from '../../source/types.ts';

export function zoneArgs(records: DnsRecord[], zones: string[]): string[] {
	const args = zones.map(zone => `--local=/${zone}/`);
	for (const r of records) {
		if (!r.name) continue;
		if (r.type === 'MX') {
			const [preference, host] = r.value.split(' ');
			args.push(`--mx-host=${r.name},${host},${preference}`);
		} else if (r.type === 'A' || r.type === 'AAAA') args.push(`--address=/${r.name}/${r.value}`);
		else if (r.type === 'PTR') args.push(`--ptr-record=${r.name},${r.value}`);
		// dnsmasq takes each 255-byte string as its own argument part (our values hold no comma or quote).
		else args.push(`--txt-record=${r.name},${txtStrings(r.value).map(s => s.slice(1, -1)).join(',')}`);
	}
	return args;
}

export interface ZoneServer {
	stop(): Promise<void>;
}

/** Starts dnsmasq on address:53 inside netns; resolves once it listens. */
export function serveZone(o: {netns: string; address: string; records: DnsRecord[]; zones: string[]}): Promise<ZoneServer> {
	const argv = [
		'netns', 'exec', o.netns, 'dnsmasq', '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=',
		'--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${o.address}`, '--user=root',
		...zoneArgs(o.records, o.zones),
	];
	const child = spawn('ip', argv, {stdio: ['ignore', 'ignore', 'pipe']});
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	const stop = async () => {
		child.kill('SIGTERM');
		await exited;
	};
	return new Promise((resolve, reject) => {
		let log = '';
		const timer = setTimeout(() => void stop().then(() => reject(new Error(`dnsmasq did not start: ${log}`))), 5000);
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			log += chunk;
			if (/started, version/.test(log)) {
				clearTimeout(timer);
				resolve({stop});
			}
		});
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`dnsmasq exited (${code}): ${log}`));
		});
	});
}
