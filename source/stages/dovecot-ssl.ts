// Step 7 (Dovecot half): TLS only, with the certificate pair of the certificate stage.
import {confD, editDovecot, validateDovecot} from './dovecot.js';
import {dovecotService} from './service.js';
import type {Stage} from './stage.js';

export const dovecotSsl: Stage = {
	id: 'dovecot-ssl',
	title: 'Dovecot TLS (10-ssl.conf)',
	service: dovecotService,
	async plan(ctx) {
		const {cert, key, dovecot} = ctx.answers;
		const file = await editDovecot(ctx, confD('10-ssl.conf'), c => {
			c.set([], 'ssl', 'required');
			if (dovecot === '2.4') {
				c.set([], 'ssl_server_cert_file', cert);
				c.set([], 'ssl_server_key_file', key);
			} else {
				c.set([], 'ssl_cert', `<${cert}`);
				c.set([], 'ssl_key', `<${key}`);
			}
		});
		return {files: [file], commands: [], notes: []};
	},
	validate: validateDovecot,
};
