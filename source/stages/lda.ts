// Step 5: bounces come from postmaster@<domain>; on 2.4 LMTP must keep the domain of the recipient.
import {confD, editDovecot, validateDovecot} from './dovecot.js';
import {dovecotService} from './service.js';
import type {Stage} from './stage.js';

export const lda: Stage = {
	id: 'lda',
	title: 'Postmaster address (15-lda.conf)',
	service: dovecotService,
	async plan(ctx) {
		const files = [await editDovecot(ctx, confD('15-lda.conf'), c => c.set([], 'postmaster_address', ctx.answers.postmaster))];
		if (ctx.answers.dovecot === '2.4') {
			// Debian 13 strips the domain here, and every delivery to user@domain bounces with 550 5.1.1.
			files.push(await editDovecot(ctx, confD('20-lmtp.conf'), c => c.set(['protocol lmtp'], 'auth_username_format', '%{user | lower}')));
		}
		return {files, commands: [], notes: []};
	},
	validate: validateDovecot,
};
