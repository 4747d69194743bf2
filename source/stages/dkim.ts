// DKIM: OpenDKIM (Debian's package) signs the mail domain's outgoing mail with a key this program makes.
// Postfix reaches OpenDKIM over a Unix socket in a directory of its queue: Postfix's processes work in the
// queue directory, chrooted (smtpd on 25) or not (the submission entry), so the relative `opendkim/…` path
// reaches it from both. The directory is opendkim's with group postfix and the setgid bit, so the socket
// OpenDKIM creates there (UMask 007) belongs to group postfix: only Postfix and root can ask for signatures,
// no TCP port is opened, and neither user is put into the other's group.
import {createPrivateKey, createPublicKey, generateKeyPair} from 'node:crypto';
import {promisify} from 'node:util';
import {OpendkimConf, setTableEntry} from '../config/opendkim.js';
import {addToList, MainCf} from '../config/postfix.js';
import {dkimName} from '../dns/records.js';
import type {FileChange} from '../types.js';
import {MAIN_CF, validatePostfix} from './postfix.js';
import {postfixFile} from './service.js';
import {emptyPlan, type Stage, type StageContext, type Validation} from './stage.js';

export const OPENDKIM = '/usr/sbin/opendkim';
export const OPENDKIM_CONF = '/etc/opendkim.conf';
export const KEY_TABLE = '/etc/opendkim/key.table';
export const SIGNING_TABLE = '/etc/opendkim/signing.table';
export const SOCKET_DIR = '/var/spool/postfix/opendkim';
export const MILTER = 'unix:opendkim/opendkim.sock';
export const INSTALL_DKIM = 'apt-get install opendkim opendkim-tools';
/** What OpenDKIM reads only when it starts: reload restarts it when one of these changed. */
export const OPENDKIM_FILES = [OPENDKIM_CONF, '/etc/opendkim', '/etc/dkimkeys'];

export const keyPath = (selector: string) => `/etc/dkimkeys/${selector}.private`;

/** The public half of a PEM private key as DKIM publishes it (base64 SubjectPublicKeyInfo); undefined if it is not an RSA key of 1024 bits or more. */
export function dkimPublicKey(privatePem: string | undefined): string | undefined {
	if (!privatePem) return undefined;
	try {
		const key = createPrivateKey(privatePem);
		if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) return undefined;
		return createPublicKey(key).export({type: 'spki', format: 'der'}).toString('base64');
	} catch {
		return undefined;
	}
}

/** A new RSA-2048 key (PKCS#1 PEM, as opendkim-genkey writes it), from Node's native generator. */
export async function makeDkimKey(): Promise<string> {
	const {privateKey} = await promisify(generateKeyPair)('rsa', {
		modulusLength: 2048,
		publicExponent: 0x10001,
		privateKeyEncoding: {type: 'pkcs1', format: 'pem'},
		publicKeyEncoding: {type: 'spki', format: 'pem'},
	});
	return privateKey;
}

async function readKey(ctx: StageContext): Promise<string | undefined> {
	return ctx.host.read(keyPath(ctx.answers.dkimSelector));
}

/** The public key of the key in use, for the DNS record and its check; or why it is not known on this machine. */
export async function keyInUse(ctx: StageContext): Promise<{dkimKey?: string; dkimUnknown?: string}> {
	const path = keyPath(ctx.answers.dkimSelector);
	const pem = await readKey(ctx).catch(() => null);
	if (pem === null) return {dkimUnknown: `${path} is not readable here: run the check as root on the server to compare`};
	if (pem === undefined) return {dkimUnknown: `there is no ${path} here (the dkim stage makes it on the server; another machine cannot compare keys)`};
	const dkimKey = dkimPublicKey(pem);
	return dkimKey ? {dkimKey} : {dkimUnknown: `${path} is not a usable RSA key`};
}

export const dkim: Stage = {
	id: 'dkim',
	title: 'DKIM signing with OpenDKIM',
	service: postfixFile(MAIN_CF),
	async plan(ctx) {
		const {host, answers: a} = ctx;
		if (!(await host.info(OPENDKIM))) return {...emptyPlan(), skip: `OpenDKIM is not installed: mail goes out unsigned. To sign it: ${INSTALL_DKIM}, then mail-setup dkim`};
		const key = keyPath(a.dkimSelector);
		// The KeyTable's name for the key: the DNS name of its record.
		const name = dkimName(a.dkimSelector, a.domain);
		const files: FileChange[] = [];
		const notes: string[] = [];

		// The key is kept on every rerun (its DNS record stays valid); only a missing or unusable one is replaced.
		const present = await readKey(ctx);
		const keep = dkimPublicKey(present) !== undefined;
		const content = keep ? undefined : host.dryRun ? '(a new RSA-2048 private key)\n' : await makeDkimKey();
		if (!keep) notes.push(present === undefined ? `a new RSA-2048 key for ${a.domain}, selector ${a.dkimSelector}` : `${key} is not a usable RSA key: replaced by a new one`);
		files.push({path: key, content, mode: 0o600, owner: 'opendkim', group: 'opendkim', secret: true});

		files.push({path: KEY_TABLE, content: setTableEntry(await host.read(KEY_TABLE), name, `${a.domain}:${a.dkimSelector}:${key}`)});
		// A flat SigningTable is looked up by the From: address, then by its domain alone.
		files.push({path: SIGNING_TABLE, content: setTableEntry(await host.read(SIGNING_TABLE), a.domain, name)});

		const conf = OpendkimConf.parse((await host.read(OPENDKIM_CONF)) ?? '');
		conf.set('KeyTable', KEY_TABLE);
		conf.set('SigningTable', SIGNING_TABLE);
		// Signing with tables excludes the single-key settings (opendkim.conf(5), Mode).
		for (const single of ['Domain', 'KeyFile', 'Selector']) conf.remove(single);
		conf.set('Socket', `local:${SOCKET_DIR}/opendkim.sock`);
		conf.set('UMask', '007');
		conf.set('UserID', 'opendkim');
		files.push({path: OPENDKIM_CONF, content: conf.toString()});
		files.push({path: SOCKET_DIR, directory: true, mode: 0o2750, owner: 'opendkim', group: 'postfix'});

		const main = MainCf.parse((await host.read(MAIN_CF)) ?? '');
		main.set('smtpd_milters', addToList(main.get('smtpd_milters'), MILTER));
		main.set('non_smtpd_milters', addToList(main.get('non_smtpd_milters'), MILTER));
		// OpenDKIM stopped or broken: mail still flows, unsigned, instead of being held.
		main.set('milter_default_action', 'accept');
		files.push({path: MAIN_CF, content: main.toString()});
		return {files, commands: [], notes};
	},
	async validate(ctx) {
		const runs: Validation[] = [];
		// opendkim -n opens the tables at their absolute paths: only meaningful on the real root.
		if (ctx.host.root === '/') {
			const check = await ctx.host.probe([OPENDKIM, '-n', '-x', OPENDKIM_CONF]);
			const problems = (check.stdout + check.stderr).split('\n').map(line => line.trim()).filter(Boolean);
			runs.push({command: 'opendkim -n', ok: check.exitCode === 0, problems});
		}
		const usable = dkimPublicKey(await readKey(ctx)) !== undefined;
		const key = keyPath(ctx.answers.dkimSelector);
		runs.push({command: `read back ${key} (node:crypto)`, ok: usable, problems: usable ? [] : [`${key} is not a usable RSA key`], strict: true});
		return [...runs, ...(await validatePostfix(ctx))];
	},
};
