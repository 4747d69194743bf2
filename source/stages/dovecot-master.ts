// Step 4: only IMAPS listens; LMTP and auth sockets inside Postfix's queue directory.
import {confD, editDovecot, validateDovecot} from './dovecot.js';
import {dovecotService} from './service.js';
import type {Stage} from './stage.js';

const LMTP = 'unix_listener /var/spool/postfix/private/dovecot-lmtp';
const AUTH = 'unix_listener /var/spool/postfix/private/auth';

export const dovecotMaster: Stage = {
	id: 'dovecot-master',
	title: 'Dovecot services (10-master.conf)',
	service: dovecotService,
	async plan(ctx) {
		const v24 = ctx.answers.dovecot === '2.4';
		const file = await editDovecot(ctx, confD('10-master.conf'), c => {
			c.set(['service imap-login', 'inet_listener imap'], 'port', '0');
			c.set(['service imap-login', 'inet_listener imaps'], 'port', '993');
			c.set(['service imap-login', 'inet_listener imaps'], 'ssl', 'yes');
			c.set(['service pop3-login', 'inet_listener pop3'], 'port', '0');
			c.set(['service pop3-login', 'inet_listener pop3s'], 'port', '0');
			c.set(['service lmtp', LMTP], 'mode', '0666');
			c.set(['service lmtp', LMTP], 'group', 'postfix');
			c.set(['service lmtp', LMTP], 'user', 'postfix');
			// 2.4: lmtp as mail cannot reach the anvil socket and logs an error per delivery.
			if (!v24) c.set(['service lmtp'], 'user', 'mail');
			c.set(['service auth', 'unix_listener auth-userdb'], 'mode', '0600');
			c.set(['service auth', 'unix_listener auth-userdb'], 'user', 'mail');
			c.set(['service auth', AUTH], 'mode', '0666');
			c.set(['service auth', AUTH], 'user', 'postfix');
			c.set(['service auth', AUTH], 'group', 'postfix');
			c.set(['service auth'], 'user', 'dovecot');
			c.set(['service auth-worker'], 'user', 'mail');
		});
		return {files: [file], commands: [], notes: []};
	},
	validate: validateDovecot,
};
