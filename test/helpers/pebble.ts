// Debian's pebble (an ACME test CA, /usr/bin/pebble) on a host of the test network (server.ts).
// Its VA checks HTTP-01 on port 80 of the name asked for, resolved through the test DNS; every start
// makes a new root CA (fetched from the management port). certbot trusts pebble's own HTTPS identity
// through REQUESTS_CA_BUNDLE=<httpsCert's content>; clients verify issued certificates with root().
//   const ca = await startPebble(host, {dnsServer: dns.address});      // ACME on host.address:14000
//   certbot … --server ca.directory;  await ca.root();  await ca.stop();
import fs from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {must} from './proc.ts';
import type {Host} from './server.ts';

export interface PebbleOptions {
	dnsServer: string; // the resolver its VA asks (port 53)
	validityDays?: number; // of issued certificates (pebble's default: 5 years)
	blocklist?: string[]; // names it refuses to issue for (rejectedIdentifier)
}

export interface Pebble {
	directory: string; // the ACME directory URL, for certbot --server
	httpsCert: string; // PEM of pebble's own HTTPS certificate (for REQUESTS_CA_BUNDLE)
	/** The root that issued this run's certificates (PEM). */
	root(): Promise<string>;
	/** Orders pebble accepted so far: a run that asks nothing of the CA leaves this alone. */
	orders(): number;
	stop(): Promise<void>;
}

export async function startPebble(host: Host, o: PebbleOptions): Promise<Pebble> {
	const dir = fs.mkdtempSync(path.join(host.dir, 'pebble-'));
	const key = path.join(dir, 'https.key');
	const cert = path.join(dir, 'https.pem');
	await must(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pebble', '-addext', `subjectAltName=IP:${host.address}`, '-keyout', key, '-out', cert]);
	const config = path.join(dir, 'pebble.json');
	const settings = {
		listenAddress: `${host.address}:14000`,
		managementListenAddress: `${host.address}:15000`,
		certificate: cert,
		privateKey: key,
		httpPort: 80,
		tlsPort: 5001,
		ocspResponderURL: '',
		externalAccountBindingRequired: false,
		domainBlocklist: o.blocklist ?? [],
		...(o.validityDays ? {certificateValidityPeriod: o.validityDays * 86_400} : {}),
	};
	fs.writeFileSync(config, JSON.stringify({pebble: settings}));
	const log = path.join(dir, 'pebble.log');
	// No artificial sleeps, no nonce rejections, no reused authorizations: every order is validated afresh.
	const env = {PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0'};
	const child = host.spawn(['pebble', '-config', config, '-dnsserver', `${o.dnsServer}:53`], {env, log});
	const exited = new Promise(resolve => child.once('exit', resolve));
	const fetch = async (what: string) => {
		const run = await host.run(['curl', '-sfk', '--max-time', '5', `https://${host.address}:15000/${what}`], {timeout: 10_000});
		if (run.exitCode !== 0) throw new Error(`pebble's ${what}: curl exit ${run.exitCode} ${run.stderr}`);
		return run.stdout;
	};
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill('SIGTERM');
		await Promise.race([exited, sleep(5000)]);
	};
	for (const end = Date.now() + 15_000; ; await sleep(100)) {
		try {
			await fetch('roots/0');
			break;
		} catch (error) {
			if (Date.now() > end || child.exitCode !== null) {
				await stop();
				throw new Error(`pebble did not start: ${fs.readFileSync(log, 'utf8')}`, {cause: error});
			}
		}
	}
	return {
		directory: `https://${host.address}:14000/dir`,
		httpsCert: fs.readFileSync(cert, 'utf8'),
		root: () => fetch('roots/0'),
		orders: () => fs.readFileSync(log, 'utf8').split('\n').filter(line => /POST \/order-plz/.test(line)).length,
		stop,
	};
}
