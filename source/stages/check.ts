// Step 10: the tutorial's openssl s_client sessions, run live, with their transcripts.
import {runChecks} from '../checks/checks.js';
import type {Stage} from './stage.js';

export const check: Stage = {
	id: 'check',
	title: 'Live checks (openssl s_client)',
	live: true,
	async plan(ctx) {
		const {checkHost, fqdn} = ctx.answers;
		const sclient = (port: number, starttls: boolean) =>
			({argv: ['openssl', 's_client', '-quiet', '-crlf', ...(starttls ? ['-starttls', 'smtp'] : []), '-servername', fqdn, '-connect', `${checkHost}:${port}`]});
		return {
			files: [],
			commands: [sclient(25, true), sclient(993, false), sclient(587, true)],
			notes: [`connects to ${checkHost}; ports 143, 110 and 995 must refuse`, 'on the server itself the relay probe connects to an address of it that Postfix does not trust (postconf -xh mynetworks …)'],
		};
	},
	async run(ctx) {
		const a = ctx.answers;
		// postconf tells the relay check whom this machine's Postfix trusts; a --root tree is not what runs here.
		const postconf = ctx.host.root === '/' ? (args: string[]) => ctx.host.probe(['postconf', ...args]) : undefined;
		const checks = await runChecks(
			{fqdn: a.fqdn, checkHost: a.checkHost, testUser: a.testUser, testPassword: a.testPassword, postconf},
			(id, line) => ctx.onLine?.(`${id}: ${line}`),
		);
		const failed = checks.filter(result => result.status === 'fail');
		const unsure = checks.filter(result => result.status === 'inconclusive');
		const message = failed.length
			? `failed: ${failed.map(result => result.id).join(', ')}`
			: `${checks.length - unsure.length} checks passed${unsure.length ? `, ${unsure.length} inconclusive (${unsure.map(result => result.id).join(', ')})` : ''}`;
		return {ok: failed.length === 0, message, commands: [], checks};
	},
};
