// Options + environment + what the target already holds → validated answers.
import fs from 'node:fs/promises';
import os from 'node:os';
import {validate, validDovecot, withDefaults} from './answers.js';
import type {Options} from './args.js';
import {DovecotConfig} from './config/dovecot.js';
import type {Host} from './host/host.js';
import {SIGNING_TABLE} from './stages/dkim.js';
import {syntaxOf} from './stages/dovecot.js';
import type {Answers, CertificateKind, DovecotSyntax} from './types.js';
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
	// certbot's live/ pair: the kind is the answer, the paths follow from it and the FQDN.
	if (/^\/etc\/letsencrypt\/live\/[^/]+\/fullchain\.pem$/.test(cert ?? '') && /^\/etc\/letsencrypt\/live\/[^/]+\/privkey\.pem$/.test(key ?? '')) found.certificate = 'letsencrypt';
	// The dkim stage's SigningTable line: `<domain> <selector>._domainkey.<domain>`.
	found.dkimSelector = (await read(SIGNING_TABLE))?.match(/^\S+\s+([^\s.]+(?:\.[^\s.]+)*?)\._domainkey\./m)?.[1];
	return Object.fromEntries(Object.entries(found).filter(([, v]) => v)) as Partial<Answers>;
}

export async function resolveAnswers(options: Options, host: Host, env = process.env): Promise<Answers> {
	const v = options.values;
	const dovecot = v.dovecot ? validDovecot(v.dovecot) : await detectDovecot(host);
	const earlier = await readBack(host, dovecot);
	const fqdn = v.fqdn ?? (await defaultFqdn(host));
	const certificate = v.certificate ?? earlier.certificate;
	// certbot's pair has fixed paths; an own pair is given with --cert/--key and the default kind.
	if (certificate === 'letsencrypt' && (v.cert || v.key)) throw new UsageError('--cert and --key cannot be combined with --certificate letsencrypt: certbot keeps its pair under /etc/letsencrypt/live/', 'cert');
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
		cert: v.cert ?? (certificate === 'letsencrypt' ? undefined : earlier.cert),
		key: v.key ?? (certificate === 'letsencrypt' ? undefined : earlier.key),
		renew: options.renew,
		dbCreate: options.dbCreate,
		certificate: certificate as CertificateKind | undefined, // validated with the other answers
		email: v.email,
		noEmail: options.noEmail,
		acmeServer: v['acme-server'],
		webroot: v.webroot,
		dkimSelector: v['dkim-selector'] ?? earlier.dkimSelector,
		dnsServer: v['dns-server'],
	};
	return withDefaults(given);
}

/** Which secrets the chosen stages cannot do without (a dry run shows *** instead). */
/** interactive: the wizard, which asks what headless runs must be told (the Let's Encrypt question). */
export function checkAnswers(answers: Answers, options: Options, interactive = false): void {
	const all = options.stages.length === 0;
	const wants = (...ids: string[]) => all || options.stages.some(id => ids.includes(id));
	// Under --root with no stage named, the live stages (database, check) are skipped.
	const wantsLive = (id: string) => options.stages.includes(id as never) || (all && options.root === undefined);
	const live = !options.dryRun;
	validate(answers, {
		dbPassword: live && (wants('dovecot-sql', 'postfix') || wantsLive('database')),
		testPassword: live && (wantsLive('check') || (answers.dbCreate && wantsLive('database'))),
	});
	checkAcme(answers, options, interactive);
}

/** The ACME options belong to --certificate letsencrypt (or the wizard's question); asking for it says plainly whether the CA gets an e-mail. */
function checkAcme(answers: Answers, options: Options, interactive: boolean): void {
	const v = options.values;
	if (answers.certificate !== 'letsencrypt') {
		const stray = (['email', 'acme-server', 'webroot'] as const).find(flag => v[flag] !== undefined) ?? (options.noEmail ? 'register-unsafely-without-email' : undefined);
		// The wizard may still ask whether to take Let's Encrypt: these then say how. Headless, nothing asks.
		if (stray && (!interactive || v.certificate !== undefined)) throw new UsageError(`--${stray} is only for --certificate letsencrypt`, stray);
		return;
	}
	if (answers.email && answers.noEmail) throw new UsageError('--email and --register-unsafely-without-email exclude each other', 'email');
	// Asked for now (not found from an earlier run): the account is made now, so say which e-mail it gets.
	if (v.certificate === 'letsencrypt' && !answers.email && !answers.noEmail) {
		throw new UsageError("--certificate letsencrypt needs --email ADDRESS (where the CA sends notices about the certificate and the account) or --register-unsafely-without-email", 'email');
	}
}
