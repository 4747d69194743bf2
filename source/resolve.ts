// Options + environment + what the target already holds → validated answers.
import fs from 'node:fs/promises';
import os from 'node:os';
import {validate, validDovecot, withDefaults} from './answers.js';
import type {Options} from './args.js';
import {DovecotConfig} from './config/dovecot.js';
import type {Host} from './host/host.js';
import {SIGNING_TABLE} from './stages/dkim.js';
import {syntaxOf} from './stages/dovecot.js';
import type {Answers, DovecotSyntax} from './types.js';
import {UsageError} from './types.js';

export async function secret(file: string | undefined, env: string | undefined, flag: string): Promise<string> {
	if (file !== undefined) {
		try {
			// One trailing newline is the file's, not the password's.
			return (await fs.readFile(file, 'utf8')).replace(/\r?\n$/, '');
		} catch (error) {
			throw new UsageError(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, flag);
		}
	}
	return env ?? '';
}

/** 2.4 trees say so in their first setting; else ask the installed binary. */
export async function detectDovecot(host: Host): Promise<DovecotSyntax> {
	const main = await host.read('/etc/dovecot/dovecot.conf').catch(() => undefined);
	if (main !== undefined) return /^\s*dovecot_config_version\s*=/m.test(main) ? '2.4' : '2.3';
	const version = await host.probe(['dovecot', '--version']);
	return version.exitCode === 0 ? syntaxOf(version.stdout) : '2.3';
}

/** Undo quote() of the Dovecot stages and the option file: "…" with \\ escapes. */
export function unquote(value: string): string {
	return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

async function defaultFqdn(host: Host): Promise<string> {
	const mailname = (await host.read('/etc/mailname').catch(() => undefined))?.trim();
	if (mailname?.includes('.')) return mailname;
	return os.hostname().includes('.') ? os.hostname() : 'mail.example.com';
}

/** On a rerun, what the earlier run wrote is the best default. */
export async function readBack(host: Host, syntax: DovecotSyntax): Promise<Partial<Answers>> {
	const found: Partial<Answers> = {};
	// Unreadable (a non-root `check` on the locked-down server) is "no earlier answers", not an error.
	const read = (path: string) => host.read(path).catch(() => undefined);
	const parse = async (path: string) => {
		const text = await read(path);
		try {
			return text === undefined ? undefined : DovecotConfig.parse(text, path);
		} catch {
			return undefined; // the stage that edits it reports the parse error with its line
		}
	};
	const lda = await parse('/etc/dovecot/conf.d/15-lda.conf');
	const postmaster = lda?.get([], 'postmaster_address');
	if (postmaster && !postmaster.includes('%')) found.postmaster = postmaster;
	if (syntax === '2.3') {
		const connect = (await parse('/etc/dovecot/dovecot-sql.conf.ext'))?.get([], 'connect') ?? '';
		const field = (name: string) => connect.match(new RegExp(`(?:^|\\s)${name}=(\\S+)`))?.[1];
		// A password with spaces lives in the option file (see the dovecot-sql stage).
		const optionFile = (await read('/etc/dovecot/dovecot-sql.my.cnf'))?.match(/^password = "((?:[^"\\]|\\.)*)"$/m)?.[1];
		const dbPassword = field('password') ?? (optionFile === undefined ? undefined : unquote(`"${optionFile}"`));
		Object.assign(found, {dbHost: field('host'), dbName: field('dbname'), dbUser: field('user'), dbPassword});
	} else {
		const text = (await read('/etc/dovecot/conf.d/auth-sql.conf.ext')) ?? '';
		const dbHost = text.match(/^\s*mysql\s+(\S+)\s*\{/m)?.[1];
		const sql = dbHost ? await parse('/etc/dovecot/conf.d/auth-sql.conf.ext') : undefined;
		const field = (name: string) => {
			const value = sql?.get([`mysql ${dbHost}`], name);
			return value === undefined ? undefined : unquote(value);
		};
		Object.assign(found, {dbHost, dbName: field('dbname'), dbUser: field('user'), dbPassword: field('password')});
	}
	const ssl = await parse('/etc/dovecot/conf.d/10-ssl.conf');
	const cert = ssl?.get([], syntax === '2.4' ? 'ssl_server_cert_file' : 'ssl_cert')?.replace(/^</, '');
	const key = ssl?.get([], syntax === '2.4' ? 'ssl_server_key_file' : 'ssl_key')?.replace(/^</, '');
	// Only a pair this tool would have chosen: Debian's snakeoil paths are not an answer.
	if (cert?.startsWith('/etc/ssl/certs/') && key?.startsWith('/etc/ssl/private/')) Object.assign(found, {cert, key});
	// The dkim stage's SigningTable line: `<domain> <selector>._domainkey.<domain>`.
	found.dkimSelector = (await read(SIGNING_TABLE))?.match(/^\S+\s+([^\s.]+(?:\.[^\s.]+)*?)\._domainkey\./m)?.[1];
	return Object.fromEntries(Object.entries(found).filter(([, v]) => v)) as Partial<Answers>;
}

export async function resolveAnswers(options: Options, host: Host, env = process.env): Promise<Answers> {
	const v = options.values;
	const dovecot = v.dovecot ? validDovecot(v.dovecot) : await detectDovecot(host);
	const earlier = await readBack(host, dovecot);
	const fqdn = v.fqdn ?? (await defaultFqdn(host));
	const given: Partial<Answers> & {fqdn: string} = {
		...earlier,
		fqdn,
		domain: v.domain,
		postmaster: v.postmaster ?? (v.domain ? undefined : earlier.postmaster),
		dbHost: v['db-host'] ?? earlier.dbHost,
		dbName: v['db-name'] ?? earlier.dbName,
		dbUser: v['db-user'] ?? earlier.dbUser,
		dbPassword: (await secret(v['db-password-file'], env.MAIL_SETUP_DB_PASSWORD, 'db-password-file')) || earlier.dbPassword,
		testUser: v['test-user'],
		testPassword: await secret(v['test-password-file'], env.MAIL_SETUP_TEST_PASSWORD, 'test-password-file'),
		checkHost: v['check-host'],
		dovecot,
		cert: v.cert ?? earlier.cert,
		key: v.key ?? earlier.key,
		renew: options.renew,
		dbCreate: options.dbCreate,
		dkimSelector: v['dkim-selector'] ?? earlier.dkimSelector,
		dnsServer: v['dns-server'],
	};
	return withDefaults(given);
}

/** Which secrets the chosen stages cannot do without (a dry run shows *** instead). */
export function checkAnswers(answers: Answers, options: Options): void {
	const all = options.stages.length === 0;
	const wants = (...ids: string[]) => all || options.stages.some(id => ids.includes(id));
	// Under --root with no stage named, the live stages (database, check) are skipped.
	const wantsLive = (id: string) => options.stages.includes(id as never) || (all && options.root === undefined);
	const live = !options.dryRun;
	validate(answers, {
		dbPassword: live && (wants('dovecot-sql', 'postfix') || wantsLive('database')),
		testPassword: live && (wantsLive('check') || (answers.dbCreate && wantsLive('database'))),
	});
}
