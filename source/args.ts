// Command line → options. Bad usage is a UsageError (exit 2) before anything is touched.
import {parseArgs} from 'node:util';
import {checkFlags, NOUNS, parseRequest, type Request, type Screen} from './admin/request.js';
import type {StageId} from './types.js';
import {STAGE_IDS, UsageError} from './types.js';

export interface Options {
	stages: StageId[];
	undo: boolean;
	dryRun: boolean;
	root?: string;
	yes: boolean;
	json: boolean;
	help: boolean;
	version: boolean;
	renew: boolean;
	dbCreate: boolean;
	values: Record<string, string | undefined>; // the answer flags, by flag name
	// Day two: `mailbox|alias|domain ...` instead of stages.
	admin?: Request | Screen;
	passwordFile?: string;
	purgeMail: boolean;
}

const answerFlags = [
	'fqdn',
	'domain',
	'postmaster',
	'db-host',
	'db-name',
	'db-user',
	'db-password-file',
	'test-user',
	'test-password-file',
	'check-host',
	'dovecot',
	'cert',
	'key',
	'dkim-selector',
	'dns-server',
] as const;

export function parse(argv: string[]): Options {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			strict: true,
			options: {
				'dry-run': {type: 'boolean'},
				root: {type: 'string'},
				yes: {type: 'boolean', short: 'y'},
				json: {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
				version: {type: 'boolean', short: 'v'},
				renew: {type: 'boolean'},
				'db-create': {type: 'boolean'},
				...Object.fromEntries(answerFlags.map(flag => [flag, {type: 'string' as const}])),
				'password-file': {type: 'string'},
				'purge-mail': {type: 'boolean'},
				// Refused with a reason, so a password never has to be typed into argv by mistake.
				'db-password': {type: 'string'},
				'test-password': {type: 'string'},
				password: {type: 'string'},
			},
		});
	} catch (error) {
		throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ''));
	}
	const {positionals} = parsed;
	const values = parsed.values as Record<string, string | boolean | undefined>;
	for (const flag of ['db-password', 'test-password', 'password'] as const) {
		if (values[flag] !== undefined) throw new UsageError(`--${flag} is not accepted (argv is visible to every user): use --${flag}-file or the environment`, flag);
	}
	// An explicit empty value is a mistake (a variable that was not set), never a request for the default.
	for (const [flag, value] of Object.entries(values)) {
		if (value === '') throw new UsageError(`--${flag} is empty: give it a value, or leave it out for the default`, flag);
	}
	const undo = positionals[0] === 'undo';
	if (undo && positionals.length > 1) throw new UsageError('undo takes no stages');
	const admin = (NOUNS as readonly string[]).includes(positionals[0]!) ? parseRequest(positionals) : undefined;
	checkFlags(admin, {passwordFile: values['password-file'] as string | undefined, purgeMail: values['purge-mail'] === true});
	const stages = undo || admin ? [] : positionals;
	for (const name of stages) {
		if (!(STAGE_IDS as readonly string[]).includes(name)) throw new UsageError(`unknown stage "${name}"; stages: ${STAGE_IDS.join(' ')}`);
	}
	for (const flag of answerFlags) {
		const value = values[flag] as string | undefined;
		if (value !== undefined && (value.length > 255 || /[\0\n\r]/.test(value))) throw new UsageError(`--${flag} is too long or holds control characters`, flag);
	}
	return {
		stages: [...new Set(stages)] as StageId[],
		undo,
		dryRun: values['dry-run'] === true,
		root: values.root as string | undefined,
		yes: values.yes === true,
		json: values.json === true,
		help: values.help === true,
		version: values.version === true,
		renew: values.renew === true,
		dbCreate: values['db-create'] === true,
		values: Object.fromEntries(answerFlags.map(flag => [flag, values[flag] as string | undefined])),
		admin,
		passwordFile: values['password-file'] as string | undefined,
		purgeMail: values['purge-mail'] === true,
	};
}

export const help = `mail-setup: turn a fresh Debian/Ubuntu server with Postfix, Dovecot and MariaDB into a working mail server

Usage
  mail-setup [STAGE ...] [OPTIONS]
  mail-setup undo [--root DIR]
  mail-setup mailbox|alias|domain ...   (after the wizard: see below)

Stages (none named = all, in order)
  database        check the DB credentials; with --db-create, create database, user, schema, mailbox
  dovecot-sql     auth-sql.conf.ext, dovecot-sql.conf.ext, 10-auth.conf, 10-mail.conf
  permissions     chown -R mail:dovecot /etc/dovecot, chmod -R o-rwx
  dovecot-master  10-master.conf: only IMAPS 993 listens; LMTP and auth sockets for Postfix
  lda             15-lda.conf postmaster_address (and 20-lmtp.conf on Dovecot 2.4)
  certificate     RSA-4096 self-signed certificate for the FQDN (node-forge)
  dovecot-ssl     10-ssl.conf: ssl = required, the certificate pair
  postfix         main.cf: TLS pair, virtual mailboxes over MySQL maps to Dovecot LMTP
  submission      master.cf: one authenticated submission entry on 587
  dkim            OpenDKIM signs outgoing mail: RSA-2048 key, key/signing tables, milter in main.cf
                  (skipped where OpenDKIM is not installed: apt-get install opendkim opendkim-tools)
  reload          restart Dovecot, reload (or start) Postfix
  check           live checks with openssl s_client: relay refused, IMAPS, submission, delivery, closed ports, certificate;
                  DNS checks: MX, A/AAAA, PTR, SPF, DKIM, DMARC

Options
  --dry-run                  show every diff and command; change nothing
  --root DIR                 treat DIR as / for all files (no services are touched)
  --yes, -y                  ask nothing: answers come from flags, environment and existing config
  --fqdn NAME                the server's name (default: /etc/mailname or the host name)
  --domain NAME              mail domain (default: FQDN minus its first label)
  --postmaster ADDRESS       default postmaster@<domain>
  --db-host HOST             default localhost
  --db-name NAME             default mailserver
  --db-user USER             default mailuser
  --db-password-file FILE    or env MAIL_SETUP_DB_PASSWORD (never a flag value: argv is public)
  --test-user ADDRESS        mailbox used by the live checks (default test@<domain>)
  --test-password-file FILE  or env MAIL_SETUP_TEST_PASSWORD
  --check-host HOST          where the checks connect (default: the FQDN)
  --dovecot 2.3|2.4          syntax to write (default: from the installed Dovecot)
  --cert FILE, --key FILE    certificate pair (default /etc/ssl/certs/<fqdn>.crt, /etc/ssl/private/<fqdn>.key)
  --renew                    make a new certificate even if the present one is valid for the FQDN
  --db-create                create what is missing in the database (as MariaDB root over the Unix socket)
  --dkim-selector NAME       DKIM selector (default mail; key /etc/dkimkeys/<selector>.private)
  --dns-server ADDR          resolver for the DNS checks (default: the system's)
  --json                     no TUI: one JSON document on stdout
  --help, --version

After the wizard: mailboxes, aliases, domains (as MariaDB root over the Unix socket, one transaction each)
  mailbox add|passwd ADDRESS   the password is asked twice in a terminal, else --password-file FILE
                               or env MAIL_SETUP_MAILBOX_PASSWORD (never on the command line)
  mailbox remove ADDRESS       asks first (headless: --yes); keeps the mail directory unless
                               --purge-mail, which moves it into the backups (mail-setup undo puts it back)
  mailbox list [DOMAIN]        mailbox alone, in a terminal: a screen to add, change and remove
  alias add SOURCE DESTINATION · alias remove SOURCE [DESTINATION] · alias list [DOMAIN]
  domain add DOMAIN · domain remove DOMAIN (only once empty) · domain list
  --dry-run prints the SQL it would run; --json prints one JSON document

Exit status
  0 every selected stage passed · 1 a stage or check failed · 2 bad usage or input (nothing changed)
  130 interrupted (nothing half-written)
`;
