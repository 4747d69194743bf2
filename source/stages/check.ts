// Step 10: the tutorial's openssl s_client sessions, run live, with their transcripts.
import {runChecks} from '../checks/checks.js';
import type {Stage} from './stage.js';

export const check: Stage = {
	id: 'check',
	title: 'Live checks (openssl s_client)',
	live: true,
	async plan(ctx) {
		const {checkHost, testUser} = ctx.answers;
		// Sessions, not changes: a dry run says where it would connect and what it would prove.
		const would = `would connect to ${checkHost} and check: relay refused and ${testUser} accepted on 25, IMAPS login on 993, authenticated submission on 587, delivery to the mailbox, 143/110/995 closed, the certificate's name, and TLS on 993 and 587 (1.0, 1.1, anonymous, NULL, CBC refused; 1.2 AEAD and 1.3 accepted)`;
		return {files: [], commands: [], notes: [], would};
	},
	async run(ctx) {
		const a = ctx.answers;
		const checks = await runChecks(
			{fqdn: a.fqdn, checkHost: a.checkHost, testUser: a.testUser, testPassword: a.testPassword},
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
