// Step 9: exactly one authenticated submission service on 587 in master.cf.
import {MasterCf, type MasterEntry} from '../config/postfix.js';
import {postfixProtocolList} from '../tls.js';
import {validatePostfix} from './postfix.js';
import {postfixFile} from './service.js';
import type {Stage} from './stage.js';

export const MASTER_CF = '/etc/postfix/master.cf';

export const SUBMISSION_OPTIONS: [string, string][] = [
	['syslog_name', 'postfix/submission'],
	['smtpd_tls_security_level', 'encrypt'],
	['smtpd_sasl_auth_enable', 'yes'],
	['smtpd_client_restrictions', 'permit_sasl_authenticated,reject'],
	['smtpd_sasl_type', 'dovecot'],
	['smtpd_sasl_path', 'private/auth'],
	['smtpd_sasl_security_options', 'noanonymous'],
	['smtpd_recipient_restrictions', 'permit_sasl_authenticated,reject_non_fqdn_recipient,reject_unauth_destination'],
];

/** The value of `-o name=value` on a master.cf entry (the last one wins, as in Postfix). */
function option(entry: MasterEntry | undefined, name: string): string | undefined {
	const values = (entry?.args ?? []).filter(arg => arg.startsWith(`${name}=`));
	return values.at(-1)?.slice(name.length + 1);
}

export const submission: Stage = {
	id: 'submission',
	title: 'Postfix submission on port 587 (master.cf)',
	service: postfixFile(MASTER_CF),
	async plan(ctx) {
		// Missing only in a dry run without Postfix (the engine refuses to apply then): shown as a new file.
		const master = MasterCf.parse((await ctx.host.read(MASTER_CF)) ?? '');
		// TLS 1.2+ here even if someone relaxes the security level to `may`: 587 carries passwords.
		const protocols = postfixProtocolList(option(master.active('submission', 'inet')[0], 'smtpd_tls_protocols'), 'TLSv1.2');
		master.ensure('submission', 'inet', ['n', '-', '-', '-', '-', 'smtpd'], [...SUBMISSION_OPTIONS, ['smtpd_tls_protocols', protocols]]);
		return {files: [{path: MASTER_CF, content: master.toString()}], commands: [], notes: []};
	},
	validate: validatePostfix,
};
