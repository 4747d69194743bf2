// Debian's pebble (an ACME test CA, /usr/bin/pebble) in a network namespace of the test network.
// Its VA checks HTTP-01 on port 80 of the name asked for, resolved through the test DNS; every start
// makes a new root CA (fetched from the management port). certbot trusts pebble's own HTTPS identity
// through REQUESTS_CA_BUNDLE=<httpsCert>; mail clients verify issued certificates with root().
//   const ca = await startPebble({netns, address: '203.0.113.3', dnsServer: '203.0.113.2', dir});
//   certbot … --server ca.directory;  await ca.root();  await ca.stop();
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface PebbleOptions {
	netns: string;
	address: string; // where it listens: ACME on 14000, management on 15000
	dnsServer: string; // the resolver its VA asks (port 53)
	dir: string; // a temp dir of the test's: config, identity, log
	validityDays?: number; // of issued certificates (pebble's default: 5 years)
	blocklist?: string[]; // names it refuses to issue for (rejectedIdentifier)
}

export interface Pebble {
	directory: string; // the ACME directory URL, for certbot --server
	httpsCert: string; // file: pebble's own HTTPS certificate (REQUESTS_CA_BUNDLE)
	/** The root that issued this run's certificates (PEM). */
	root(): Promise<string>;
	log(): string;
	stop(): Promise<void>;
}

export async function startPebble(o: PebbleOptions): Promise<Pebble> {
	const key = path.join(o.dir, 'pebble-https.key');
	const httpsCert = path.join(o.dir, 'pebble-https.pem');
	await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pebble', '-addext', `subjectAltName=IP:${o.address}`, '-keyout', key, '-out', httpsCert]);
	const config = path.join(o.dir, 'pebble.json');
	fs.writeFileSync(
		config,
		JSON.stringify({
			pebble: {
				listenAddress: `${o.address}:14000`,
				managementListenAddress: `${o.address}:15000`,
				certificate: httpsCert,
				privateKey: key,
				httpPort: 80,
				tlsPort: 5001,
				ocspResponderURL: '',
				externalAccountBindingRequired: false,
				domainBlocklist: o.blocklist ?? [],
				...(o.validityDays ? {certificateValidityPeriod: o.validityDays * 86_400} : {}),
			},
		}),
	);
	const logFile = path.join(o.dir, 'pebble.log');
	const out = fs.openSync(logFile, 'a');
	// No artificial sleeps, no nonce rejections, no reused authorizations: every order is validated afresh.
	const env = {...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0'};
	const child = spawn('ip', ['netns', 'exec', o.netns, 'pebble', '-config', config, '-dnsserver', `${o.dnsServer}:53`], {stdio: ['ignore', out, out], env, detached: true});
	fs.closeSync(out);
	child.unref();
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	const management = `https://${o.address}:15000`;
	const fetch = async (what: string) => (await run('ip', ['netns', 'exec', o.netns, 'curl', '-sfk', '--max-time', '5', `${management}/${what}`])).stdout;
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGTERM');
			await Promise.race([exited, sleep(3000)]);
		}
	};
	for (let tries = 0; ; tries++) {
		try {
			await fetch('roots/0');
			break;
		} catch (error) {
			if (tries >= 50 || child.exitCode !== null) {
				await stop();
				throw new Error(`pebble did not start: ${fs.readFileSync(logFile, 'utf8')}`, {cause: error});
			}
			await sleep(100);
		}
	}
	return {directory: `https://${o.address}:14000/dir`, httpsCert, root: () => fetch('roots/0'), log: () => fs.readFileSync(logFile, 'utf8'), stop};
}
