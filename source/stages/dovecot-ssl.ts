// Step 7 (Dovecot half): TLS only, with the certificate pair of the certificate stage, at Mozilla's intermediate
// profile (source/tls.ts). Values an operator made stricter are read back and kept.
import {cipherList, DOVECOT_DH, dovecotMinProtocol} from '../tls.js';
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
			// Client preference, as Mozilla advises when every suite offered is strong: clients without AES hardware pick ChaCha20.
			// The profile's DHE suites need a DH group (2.4 has none built in: "no shared cipher"); an operator's own stays.
			if (dovecot === '2.4') {
				c.set([], 'ssl_server_cert_file', cert);
				c.set([], 'ssl_server_key_file', key);
				c.set([], 'ssl_server_dh_file', c.get([], 'ssl_server_dh_file') || DOVECOT_DH);
				c.set([], 'ssl_server_prefer_ciphers', 'client');
			} else {
				c.set([], 'ssl_cert', `<${cert}`);
				c.set([], 'ssl_key', `<${key}`);
				c.set([], 'ssl_dh', c.get([], 'ssl_dh') || `<${DOVECOT_DH}`);
				c.set([], 'ssl_prefer_server_ciphers', 'no');
			}
			c.set([], 'ssl_min_protocol', dovecotMinProtocol(c.get([], 'ssl_min_protocol')));
			c.set([], 'ssl_cipher_list', cipherList(c.get([], 'ssl_cipher_list')));
		});
		return {files: [file], commands: [], notes: []};
	},
	validate: validateDovecot,
};
