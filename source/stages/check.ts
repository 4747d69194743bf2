// Step 10: the tutorial's openssl s_client sessions, run live, with their transcripts; and the DNS checks.
import {runChecks} from '../checks/checks.js';
import {runDnsChecks, serverAddresses} from '../checks/dns.js';
import {recordsFor} from '../dns/records.js';
import type {DnsRecord} from '../types.js';
import {keyInUse} from './dkim.js';
import type {Stage, StageContext} from './stage.js';

/** The records to publish when no check looked them up: statuses 'unchecked', addresses only where this is the server or can see it. */
export async function recordsToPublish(ctx: StageContext): Promise<DnsRecord[]> {
	const a = ctx.answers;
	const addresses = ctx.host.root === '/' ? (await serverAddresses(a.checkHost, 1000)).addresses : [];
	const {dkimKey} = await keyInUse(ctx);
	return recordsFor({domain: a.domain, fqdn: a.fqdn, postmaster: a.postmaster, selector: a.dkimSelector, addresses, dkimKey});
}

export const check: Stage = {
	id: 'check',
	title: 'Live checks (openssl s_client) and DNS',
	live: true,
	async plan(ctx) {
		const {checkHost, testUser, dnsServer} = ctx.answers;
		// Sessions, not changes: a dry run says where it would connect and what it would prove.
		const would = `would connect to ${checkHost} and check: relay refused and ${testUser} accepted on 25, IMAPS login on 993, authenticated submission on 587, delivery to the mailbox, 143/110/995 closed, the certificate's name, TLS on 993 and 587 (1.0, 1.1, anonymous, NULL, CBC refused; 1.2 AEAD and 1.3 accepted); and ask ${dnsServer || 'the system resolver'} for MX, A/AAAA, PTR, SPF, DKIM and DMARC`;
		return {files: [], commands: [], notes: [], would};
	},
	async run(ctx) {
		const a = ctx.answers;
		const onEvent = (id: string, line: string) => ctx.onLine?.(`${id}: ${line}`);
		// postconf tells the relay check whom this machine's Postfix trusts; a --root tree is not what runs here.
		const postconf = ctx.host.root === '/' ? (args: string[]) => ctx.host.probe(['postconf', ...args]) : undefined;
		const [live, dns] = await Promise.all([
			runChecks({fqdn: a.fqdn, checkHost: a.checkHost, testUser: a.testUser, testPassword: a.testPassword, postconf}, onEvent),
			runDnsChecks({domain: a.domain, fqdn: a.fqdn, postmaster: a.postmaster, selector: a.dkimSelector, checkHost: a.checkHost, dnsServer: a.dnsServer, ...(await keyInUse(ctx))}, onEvent),
		]);
		const checks = [...live, ...dns.checks];
		const failed = checks.filter(result => result.status === 'fail');
		const unsure = checks.filter(result => result.status === 'inconclusive');
		const message = failed.length
			? `failed: ${failed.map(result => result.id).join(', ')}`
			: `${checks.length - unsure.length} checks passed${unsure.length ? `, ${unsure.length} inconclusive (${unsure.map(result => result.id).join(', ')})` : ''}`;
		return {ok: failed.length === 0, message, commands: [], checks, records: dns.records};
	},
};
