// What the end-to-end scenarios share: the test's secrets and names, a server with mail-setup
// reachable through npx, the laptop's clients (mail-setup check, swaks, curl), and the checks of
// files and outputs. Built on test/helpers/server.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {installTarball, packTarball, serveRegistry} from '../helpers/registry.ts';
import {FQDN, TestNet, type Host, type Release, type RunResult, type Server} from '../helpers/server.ts';

export const DOMAIN = 'example.test';
export const TEST_USER = `test@${DOMAIN}`;
// Throwaway secrets. The DB password has a space and both quotes: Dovecot 2.3 must take it
// through its option file, 2.4 as a quoted value, Postfix as is.
export const DB_PASSWORD = `db p'ass"1 x`;
export const TEST_PASSWORD = 'T3st-pass.e2e';
export const WRONG_PASSWORD = `wrong-${TEST_PASSWORD}`;
export const CERT = `/etc/ssl/certs/${FQDN}.crt`;
export const KEY = `/etc/ssl/private/${FQDN}.key`;
/** The files the wizard may change: undo must give them back byte for byte. */
export const CONFIG_PATHS = ['/etc/dovecot', '/etc/postfix', CERT, KEY, '/etc/opendkim.conf', '/etc/opendkim', '/etc/dkimkeys'];
export const FILE_STAGES = ['dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission', 'dkim'];
export const ALL_STAGES = ['database', ...FILE_STAGES, 'reload', 'check'];
export const CHECK_IDS = ['smtp-relay-refused', 'smtp-local-accepted', 'imaps-login', 'submission-auth', 'plaintext-closed', 'certificate-name', 'mailbox-delivery', 'tls'];
/** Where the server keeps the secrets of a headless run (root only). */
export const SECRETS = '/root/secrets';
/** The flags that name the secret files writeSecrets() puts on the server. */
export const SECRET_FLAGS = ['--db-password-file', `${SECRETS}/db-password`, '--test-password-file', `${SECRETS}/test-password`];
/** The headless wizard as an operator runs it on the server, its checks on loopback. */
export const HEADLESS = ['--yes', '--json', '--fqdn', FQDN, '--check-host', '127.0.0.1', ...SECRET_FLAGS];

/** The DB and test mailbox passwords as files on the server, readable by root only (SECRET_FLAGS names them). */
export async function writeSecrets(server: Server): Promise<void> {
	await server.write(`${SECRETS}/db-password`, `${DB_PASSWORD}\n`, {mode: 0o600});
	await server.write(`${SECRETS}/test-password`, `${TEST_PASSWORD}\n`, {mode: 0o600});
}

export interface Lab {
	net: TestNet;
	server: Server;
	laptop: Host;
	/** The laptop's mail-setup (the tarball unpacked as npx would), to run with laptop.run. */
	cli: string[];
}

/**
 * A network with a freshly booted server of the release and a laptop; the laptop serves the
 * `npm pack` tarball as an npm registry and the server's npm points there, so `npx mail-setup`
 * works on the server as typed.
 */
export async function lab(release: Release): Promise<Lab> {
	const tarball = await packTarball();
	const net = await TestNet.create();
	try {
		const laptop = await net.add('laptop');
		const [server, registry, cli] = await Promise.all([net.boot(release), serveRegistry(laptop, tarball), installTarball(laptop, tarball)]);
		await server.write('/root/.npmrc', `registry=${registry}\n`);
		return {net, server, laptop, cli};
	} catch (error) {
		await net.close();
		throw error;
	}
}

/** A lab whose server the headless wizard set up as an operator would (`--yes --db-create`, its checks on loopback). */
export async function configuredLab(release: Release): Promise<Lab> {
	const l = await lab(release);
	try {
		await writeSecrets(l.server);
		const wizard = await l.server.run(['npx', 'mail-setup', ...HEADLESS, '--db-create'], {timeout: 300_000});
		assert.equal(wizard.exitCode, 0, `the wizard on the server:\n${summary(report(wizard, 'the wizard'))}`);
		return l;
	} catch (error) {
		await l.net.close();
		throw error;
	}
}

/** The laptop's IMAPS client: curl with a netrc file per login, trusting the server's certificate. */
export async function mailClient({server, laptop}: Lab) {
	const ca = writeFile(path.join(laptop.home, 'server.crt'), (await server.read(CERT))!, 'root', 0o644);
	// curl reads a quoted netrc token with \" and \\ escapes: a password with spaces and quotes as it is.
	const quoted = (password: string) => `"${password.replace(/["\\]/g, '\\$&')}"`;
	const netrc = (name: string, user: string, password: string) => writeFile(path.join(laptop.home, `netrc-${name}`), `machine ${FQDN} login ${user} password ${quoted(password)}\n`);
	const imap = (file: string, url: string, args: string[] = []) => laptop.run(['curl', '-sS', '--max-time', '20', '--netrc-file', file, '--cacert', ca, `imaps://${FQDN}/${url}`, ...args], {timeout: 60_000});
	/** The message with this subject in the INBOX of the netrc's user, read back whole; after 30 s a failure with the mail log. */
	async function arrived(file: string, subject: string): Promise<string> {
		let search;
		for (const end = Date.now() + 30_000; Date.now() < end; await sleep(300)) {
			search = await imap(file, 'INBOX', ['-X', `UID SEARCH SUBJECT "${subject}"`]);
			const uid = /^\* SEARCH (\d+)/m.exec(search.stdout)?.[1];
			if (uid) return (await imap(file, `INBOX;UID=${uid}`)).stdout;
		}
		const log = (await server.run(['journalctl', '-b', '--no-pager', '-n', '40', '-t', 'postfix/lmtp', '-t', 'dovecot', '-t', 'postfix/smtpd'])).stdout;
		assert.fail(`"${subject}" did not reach the INBOX within 30 s: curl exit ${search?.exitCode} ${search?.stderr}\n${log}`);
	}
	return {netrc, imap, arrived};
}

/** Type, mode, owner and sha256 (or link target) of every path below the given ones, one line each. */
export async function fingerprint(server: Server, paths: string[]): Promise<string> {
	const script = String.raw`
		for p in "$@"; do
			[ -e "$p" ] || [ -L "$p" ] || { echo "$p absent"; continue; }
			find "$p" -printf '%y %m %U:%G %p %l\n' | sort -k4,4 | while read -r type mode owner file link; do
				case $type in
				f) echo "$type $mode $owner $file $(sha256sum <"$file" | cut -c1-64)" ;;
				l) echo "$type $mode $owner $file -> $link" ;;
				*) echo "$type $mode $owner $file" ;;
				esac
			done
		done`;
	const run = await server.run(['sh', '-c', script, 'sh', ...paths]);
	assert.equal(run.exitCode, 0, run.stderr);
	return run.stdout;
}

/** Writes a file on this machine (a laptop's) with its final mode and owner from the start. */
export function writeFile(file: string, content: string, owner = 'root', mode = 0o600): string {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	fs.writeFileSync(file, content, {mode});
	fs.chmodSync(file, mode);
	const {uid, gid} = ids(owner);
	fs.chownSync(file, uid, gid);
	return file;
}

function ids(user: string): {uid: number; gid: number} {
	const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find(l => l.startsWith(`${user}:`));
	assert.ok(line, `no user ${user} here`);
	const [, , uid, gid] = line.split(':');
	return {uid: Number(uid), gid: Number(gid)};
}

/** The passwords (and the AUTH PLAIN tokens made from them) found in any of the texts. */
export function leakedSecrets(texts: Record<string, string>): string[] {
	const secrets = [DB_PASSWORD, TEST_PASSWORD, WRONG_PASSWORD];
	const patterns = [...secrets, ...secrets.map(secret => Buffer.from(`\0${TEST_USER}\0${secret}`).toString('base64'))];
	return Object.entries(texts).filter(([, text]) => patterns.some(pattern => text.includes(pattern))).map(([name]) => name);
}

export interface Report {
	ok: boolean;
	stages: {id: string; status: string; message: string; changes: {path: string}[]; commands: string[]}[];
	checks: {id: string; status: string; message: string; transcript?: string}[];
}

/** The JSON document of a run, or a failure naming the run and showing what it said. */
export function report(run: RunResult, what: string): Report {
	try {
		return JSON.parse(run.stdout) as Report;
	} catch {
		assert.fail(`${what}: no JSON (exit ${run.exitCode})\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
	}
}

/** Every stage and check of the report, with status and first lines of message: for failure messages. */
export function summary(doc: Report): string {
	const lines = doc.stages.map(stage => `stage ${stage.id}: ${stage.status}: ${stage.message.split('\n').slice(0, 4).join(' | ')}`);
	return [...lines, ...doc.checks.map(check => `check ${check.id}: ${check.status}: ${check.message}`)].join('\n');
}

/** Each check's status by id. */
export function checksOf(doc: Report): Map<string, string> {
	return new Map(doc.checks.map(check => [check.id, check.status]));
}

/** `mail-setup check --json` from the laptop as nobody, against the server by its name. */
export async function laptopCheck(l: Lab, passwordFile: string, fqdn = FQDN): Promise<{run: RunResult; doc: Report}> {
	const run = await l.laptop.run([...l.cli, 'check', '--yes', '--json', '--fqdn', fqdn, '--check-host', l.server.address, '--test-user', TEST_USER, '--test-password-file', passwordFile], {
		user: 'nobody',
		timeout: 120_000,
	});
	return {run, doc: report(run, 'mail-setup check')};
}

/** Asserts the check run exited `code` and exactly the `failing` checks failed, every other known one passed. */
export function expectChecks(result: {run: RunResult; doc: Report}, code: number, failing: string[] = []): void {
	const checks = checksOf(result.doc);
	const problems: string[] = [];
	if (result.run.exitCode !== code) problems.push(`exit ${result.run.exitCode} (expected ${code})`);
	for (const id of CHECK_IDS) {
		const want = failing.includes(id) ? 'fail' : 'pass';
		if (checks.get(id) !== want) problems.push(`check ${id}: ${checks.get(id) ?? 'not run'} (expected ${want})`);
	}
	const failed = [...checks].filter(([, status]) => status === 'fail').map(([id]) => id).sort();
	if (failed.join(' ') !== [...failing].sort().join(' ')) problems.push(`failed: ${failed.join(' ') || 'none'} (expected ${failing.join(' ') || 'none'})`);
	assert.deepEqual(problems, [], `${problems.join('; ')}\n${summary(result.doc)}\n${result.run.stderr.slice(-1500)}`);
}
