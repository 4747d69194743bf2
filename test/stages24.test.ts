// The Dovecot stages on a stock Debian 13 tree, judged by Debian 13's own doveconf (2.4).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import {stagesFor} from '../source/stages/index.ts';
import {makeStockTree} from './helpers/stock.ts';
import {doveconf24} from './helpers/trixie.ts';

const password = "db p'ass\"1 x";
const answers = withDefaults({fqdn: 'mail.example.test', dbPassword: password, dovecot: '2.4'});

test('Dovecot 2.4: every setting of steps 2–5 and 7 in place, accepted by doveconf 2.4, rerun changes nothing', async () => {
	const root = await makeStockTree(13);
	const ids = ['dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl'] as const;
	const report = await runStages(stagesFor([...ids]), {answers, host: new Host({root})});
	assert.ok(report.ok, JSON.stringify(report.stages));
	const n = await doveconf24(['-n'], root);
	assert.equal(n.exitCode, 0, n.stderr);
	for (const setting of [
		/inet_listener imap \{\n\s+port = 0\n/,
		/inet_listener imaps \{\n\s+port = 993\n\s+ssl = yes/,
		/inet_listener pop3 \{\n\s+port = 0/,
		/inet_listener pop3s \{\n\s+port = 0/,
		/unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{\n\s+group = postfix\n\s+mode = 0666\n\s+user = postfix/,
		/unix_listener \/var\/spool\/postfix\/private\/auth \{\n\s+group = postfix\n\s+mode = 0666\n\s+user = postfix/,
		/service auth-worker \{\n\s+user = mail/,
		/postmaster_address = postmaster@example.test/,
		/auth_username_format = %\{user \| lower\}/,
		/passdb sql \{\n\s+default_password_scheme = SHA512-CRYPT\n\s+query = SELECT email AS user, password FROM virtual_users WHERE email = '%\{user\}'/,
		/mail_driver = maildir/,
		/first_valid_uid = 8/,
		/ssl = required/,
		/cert_file = \/etc\/ssl\/certs\/mail.example.test.crt/,
	]) {
		assert.match(n.stdout, setting);
	}
	// -x opens every file a setting names (the certificate pair) and -P shows the password as Dovecot reads it.
	const x = await doveconf24(['-x'], root);
	assert.equal(x.exitCode, 0, x.stderr);
	const shown = await doveconf24(['-P'], root);
	assert.ok(shown.stdout.includes(`password = ${password}\n`), 'Dovecot reads back exactly the password');
	const again = await runStages(stagesFor([...ids]), {answers, host: new Host({root})});
	for (const stage of again.stages) assert.deepEqual(stage.changes, [], stage.id);
});
