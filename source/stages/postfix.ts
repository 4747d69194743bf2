// Steps 7–8 (Postfix half): TLS with the shared pair, and virtual mailboxes delivered to Dovecot's LMTP.
import {MainCf, removeFromList} from '../config/postfix.js';
import {cipherList, excludedCiphers, postfixProtocolList} from '../tls.js';
import type {Answers, FileChange} from '../types.js';
import {postfixFile} from './service.js';
import type {Stage, StageContext, Validation} from './stage.js';

export const MAIN_CF = '/etc/postfix/main.cf';

const maps = {
	'mailbox-domains': "SELECT 1 FROM virtual_domains WHERE name='%s'",
	'mailbox-maps': "SELECT 1 FROM virtual_users WHERE email='%s'",
	'alias-maps': "SELECT destination FROM virtual_aliases WHERE source='%s'",
} as const;

export const mapPath = (name: keyof typeof maps) => `/etc/postfix/mysql-virtual-${name}.cf`;

export function mapFile(a: Answers, name: keyof typeof maps): string {
	// The chrooted smtpd cannot reach MariaDB's socket: localhost must be spelled as TCP 127.0.0.1.
	const hosts = a.dbHost === 'localhost' ? '127.0.0.1' : a.dbHost;
	return `# Written by mail-setup\nuser = ${a.dbUser}\npassword = ${a.dbPassword}\nhosts = ${hosts}\ndbname = ${a.dbName}\nquery = ${maps[name]}\n`;
}

/** `postfix check` on the real root (under a pty: piped, it prints nothing); `postconf -n` on a --root tree. */
export async function validatePostfix(ctx: StageContext): Promise<Validation[]> {
	const {host} = ctx;
	const real = host.root === '/';
	const argv = real ? ['script', '-qec', 'postfix check', '/dev/null'] : ['postconf', '-c', host.real('/etc/postfix'), '-n'];
	const run = await host.probe(argv);
	if (run.exitCode === 127) return [{command: argv.join(' '), ok: true, problems: ['Postfix is not installed here: not validated']}];
	const output = real ? run.stdout + run.stderr : run.stderr;
	const problems = [];
	for (const line of output.split('\n').map(l => l.trim()).filter(Boolean)) {
		// postconf reads map files at their absolute paths, outside a --root tree: not a real problem there.
		const missing = line.match(/"(\/[^"]+)": No such file or directory/)?.[1];
		if (!real && missing && (await host.info(missing))) continue;
		problems.push(line);
	}
	return [{command: real ? 'postfix check' : 'postconf -n', ok: run.exitCode === 0, problems}];
}

export const postfix: Stage = {
	id: 'postfix',
	title: 'Postfix TLS and virtual mailboxes (main.cf)',
	service: postfixFile(MAIN_CF),
	async plan(ctx) {
		const a = ctx.answers;
		// Missing only in a dry run without Postfix (the engine refuses to apply then): shown as a new file.
		const main = MainCf.parse((await ctx.host.read(MAIN_CF)) ?? '');
		main.set('smtpd_tls_cert_file', a.cert);
		main.set('smtpd_tls_key_file', a.key);
		main.set('smtpd_tls_security_level', 'may');
		main.set('smtpd_tls_auth_only', 'yes');
		// Port 25 stays opportunistic (RFC 7435): any TLS beats plaintext between servers, but never SSL.
		main.set('smtpd_tls_protocols', postfixProtocolList(main.get('smtpd_tls_protocols'), 'TLSv1'));
		// Wherever TLS is mandatory (587: smtpd_tls_security_level=encrypt), Mozilla's intermediate profile.
		main.set('smtpd_tls_mandatory_protocols', postfixProtocolList(main.get('smtpd_tls_mandatory_protocols'), 'TLSv1.2'));
		main.set('smtpd_tls_mandatory_ciphers', 'high');
		main.set('tls_high_cipherlist', cipherList(main.get('tls_high_cipherlist')));
		main.set('smtpd_tls_mandatory_exclude_ciphers', excludedCiphers(main.get('smtpd_tls_mandatory_exclude_ciphers')));
		main.set('virtual_transport', 'lmtp:unix:private/dovecot-lmtp');
		main.set('virtual_mailbox_domains', `mysql:${mapPath('mailbox-domains')}`);
		main.set('virtual_mailbox_maps', `mysql:${mapPath('mailbox-maps')}`);
		main.set('virtual_alias_maps', `mysql:${mapPath('alias-maps')}`);
		// A domain in both mydestination and virtual_mailbox_domains is delivered locally, not to Dovecot.
		const destinations = main.get('mydestination');
		if (destinations !== undefined) main.set('mydestination', removeFromList(destinations, a.domain));
		const files: FileChange[] = [{path: MAIN_CF, content: main.toString()}];
		for (const name of Object.keys(maps) as (keyof typeof maps)[]) {
			files.push({path: mapPath(name), content: mapFile(a, name), mode: 0o640, owner: 'root', group: 'postfix', secret: true});
		}
		return {files, commands: [], notes: []};
	},
	validate: validatePostfix,
};
