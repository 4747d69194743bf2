// Step 2: Dovecot reads users and passwords from SQL; the mail location and uid that LMTP delivery needs.
import {DovecotConfig} from '../config/dovecot.js';
import type {Answers, FileChange} from '../types.js';
import {confD, DOVECOT, editDovecot, quote, secretFile, validateDovecot} from './dovecot.js';
import {dovecotService} from './service.js';
import type {Stage, StageContext} from './stage.js';

const SQL_FILE = `${DOVECOT}/dovecot-sql.conf.ext`;
const OPTION_FILE = `${DOVECOT}/dovecot-sql.my.cnf`;
// Each mailbox's home and maildir: /var/mail/<domain>/<local part>, in each syntax; mailHome() says it for one address.
const HOME23 = '/var/mail/%d/%n';
const HOME24 = '/var/mail/%{user | domain}/%{user | username}';

export function mailHome(address: string): string {
	const at = address.lastIndexOf('@');
	return `/var/mail/${address.slice(at + 1)}/${address.slice(0, at)}`;
}

/** 2.3 splits `connect =` at spaces with no quoting: such passwords go through a MySQL option file. */
export function needsOptionFile(password: string): boolean {
	return !/^[A-Za-z0-9._~!@^*()+=,:;?/[\]|-]*$/.test(password);
}

export function connectString(a: Answers): string {
	const base = `host=${a.dbHost} dbname=${a.dbName} user=${a.dbUser}`;
	return needsOptionFile(a.dbPassword) ? `${base} option_file=${OPTION_FILE} option_group=dovecot` : `${base} password=${a.dbPassword}`;
}

/** MySQL option-file syntax: a double-quoted value with \\ and \" escaped. */
export function optionFile(password: string): string {
	return `# Written by mail-setup: the DB password for ${SQL_FILE}\n[dovecot]\npassword = "${password.replace(/[\\"]/g, '\\$&')}"\n`;
}

async function plan23(ctx: StageContext): Promise<FileChange[]> {
	const a = ctx.answers;
	const files = [
		await editDovecot(ctx, confD('auth-sql.conf.ext'), c => {
			c.set(['passdb'], 'driver', 'sql');
			c.set(['passdb'], 'args', SQL_FILE);
			c.set(['userdb'], 'driver', 'static');
			c.set(['userdb'], 'args', `uid=mail gid=mail home=${HOME23}`);
		}),
		await editDovecot(
			ctx,
			SQL_FILE,
			c => {
				c.set([], 'driver', 'mysql');
				c.set([], 'connect', connectString(a));
				c.set([], 'default_pass_scheme', 'SHA512-CRYPT');
				c.set([], 'password_query', "SELECT email as user, password FROM virtual_users WHERE email='%u';");
			},
			secretFile,
		),
	];
	if (needsOptionFile(a.dbPassword)) files.push({path: OPTION_FILE, content: optionFile(a.dbPassword), ...secretFile});
	return files;
}

/** Dovecot 2.4: the whole SQL setup lives in auth-sql.conf.ext. */
export function sql24(a: Answers): string {
	return [
		'# Written by mail-setup: users and passwords from SQL (Dovecot 2.4)',
		'sql_driver = mysql',
		`mysql ${a.dbHost} {`,
		`  user = ${quote(a.dbUser)}`,
		`  password = ${quote(a.dbPassword)}`,
		`  dbname = ${quote(a.dbName)}`,
		'}',
		'passdb sql {',
		'  default_password_scheme = SHA512-CRYPT',
		"  query = SELECT email AS user, password FROM virtual_users WHERE email = '%{user}'",
		'}',
		'userdb static {',
		'  fields {',
		'    uid = mail',
		'    gid = mail',
		`    home = ${HOME24}`,
		'  }',
		'}',
		'',
	].join('\n');
}

async function plan24(ctx: StageContext): Promise<FileChange[]> {
	const a = ctx.answers;
	const path = confD('auth-sql.conf.ext');
	const text = (await ctx.host.read(path)) ?? '';
	// Debian's file is all commented examples: uncommenting them would activate example lines
	// (skip = found, user=%{user|lower}); our block goes below them instead. Later runs edit it in place.
	const fresh = !DovecotConfig.parse(text, path).hasSection(['passdb sql']);
	const base = fresh ? text + (text && !text.endsWith('\n') ? '\n' : '') + (text ? '\n' : '') + sql24(a) : text;
	const file = DovecotConfig.parse(base, path);
	file.set([], 'sql_driver', 'mysql');
	file.set([`mysql ${a.dbHost}`], 'user', quote(a.dbUser));
	file.set([`mysql ${a.dbHost}`], 'password', quote(a.dbPassword));
	file.set([`mysql ${a.dbHost}`], 'dbname', quote(a.dbName));
	file.set(['passdb sql'], 'default_password_scheme', 'SHA512-CRYPT');
	file.set(['passdb sql'], 'query', "SELECT email AS user, password FROM virtual_users WHERE email = '%{user}'");
	file.set(['userdb static', 'fields'], 'uid', 'mail');
	file.set(['userdb static', 'fields'], 'gid', 'mail');
	file.set(['userdb static', 'fields'], 'home', HOME24);
	return [{path, content: file.toString(), ...secretFile}];
}

export const dovecotSql: Stage = {
	id: 'dovecot-sql',
	title: 'Dovecot SQL authentication',
	service: dovecotService,
	async plan(ctx) {
		const v24 = ctx.answers.dovecot === '2.4';
		const mailUid = String((await ctx.host.id('user', 'mail')) ?? 8);
		const files = v24 ? await plan24(ctx) : await plan23(ctx);
		files.push(
			await editDovecot(ctx, confD('10-auth.conf'), c => {
				c.setInclude('auth-system.conf.ext', false);
				c.setInclude('auth-sql.conf.ext', true);
			}),
			await editDovecot(ctx, confD('10-mail.conf'), c => {
				if (v24) {
					c.set([], 'mail_driver', 'maildir');
					c.set([], 'mail_home', HOME24);
					c.set([], 'mail_path', '%{home}');
					c.comment([], 'mail_inbox_path');
				} else {
					c.set([], 'mail_location', `maildir:${HOME23}`);
				}
				c.set([], 'mail_privileged_group', 'mail');
				// Default 500 refuses the mail user (uid 8): LMTP would answer 451 while SMTP says queued.
				c.set([], 'first_valid_uid', mailUid);
			}),
		);
		return {files, commands: [], notes: []};
	},
	validate: validateDovecot,
};
