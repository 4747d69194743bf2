// Let's Encrypt without a CA: the options and answers, certbot's command line, the deploy hook, certbot's
// failures in plain words (from certbot's own output as seen on Debian 12 and 13), the port-80 probe and
// the certificate stage on a --root tree. The real certbot against pebble runs in test/acme-e2e.test.ts.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {test} from 'node:test';
import {LETS_ENCRYPT, pairOf, withDefaults} from '../source/answers.ts';
import {parse} from '../source/args.ts';
import {httpProbe, issuerName} from '../source/checks/probe.ts';
import {apply, preview} from '../source/engine.ts';
import {Host} from '../source/host/host.ts';
import {checkAnswers, resolveAnswers} from '../source/resolve.ts';
import {certificate, inspect, makePair} from '../source/stages/certificate.ts';
import {certbotCommand, explainCertbot, HOOK, hookFile} from '../source/stages/letsencrypt.ts';
import type {Stage} from '../source/stages/stage.ts';
import {UsageError, type Answers} from '../source/types.ts';
import {closedPort, makeCert} from './helpers/checks-servers.ts';
import {tempDir} from './helpers/proc.ts';

const FQDN = 'mail.example.test';
const LIVE = `/etc/letsencrypt/live/${FQDN}`;

const le = (more: Partial<Answers> = {}): Answers => withDefaults({fqdn: FQDN, certificate: 'letsencrypt', ...more});

/** A --root tree with a 10-ssl.conf naming this pair (2.3 syntax). */
function tree(pair?: {cert: string; key: string}): string {
	const root = tempDir('tree');
	fs.mkdirSync(path.join(root, 'etc/dovecot/conf.d'), {recursive: true});
	fs.writeFileSync(path.join(root, 'etc/dovecot/dovecot.conf'), '!include conf.d/*.conf\n');
	if (pair) fs.writeFileSync(path.join(root, 'etc/dovecot/conf.d/10-ssl.conf'), `ssl = required\nssl_cert = <${pair.cert}\nssl_key = <${pair.key}\n`);
	return root;
}

async function resolved(argv: string[], root = tree(), interactive = false) {
	const options = parse(['--fqdn', FQDN, ...argv, '--root', root]);
	const answers = await resolveAnswers(options, new Host({root, dryRun: options.dryRun}), {});
	checkAnswers(answers, {...options, dryRun: true}, interactive);
	return answers;
}

const refuses = (argv: string[], field: string, message: RegExp, root?: string) =>
	assert.rejects(resolved(argv, root), (error: UsageError) => error instanceof UsageError && error.field === field && message.test(error.message), argv.join(' '));

test('the pair follows the kind: certbot keeps it under live/, where renewals replace the symlinks', () => {
	assert.deepEqual(pairOf('letsencrypt', FQDN), {cert: `${LIVE}/fullchain.pem`, key: `${LIVE}/privkey.pem`});
	assert.equal(le().cert, `${LIVE}/fullchain.pem`);
	assert.equal(le().acmeServer, LETS_ENCRYPT);
	const plain = withDefaults({fqdn: FQDN});
	assert.equal(plain.certificate, 'self-signed');
	assert.equal(plain.cert, `/etc/ssl/certs/${FQDN}.crt`);
});

test('flags: --certificate letsencrypt with its account, CA and webroot options', async () => {
	const a = await resolved(['--certificate', 'letsencrypt', '--email', 'hostmaster@example.test', '--acme-server', 'https://203.0.113.1:14000/dir', '--webroot', '/var/www/html']);
	assert.equal(a.certificate, 'letsencrypt');
	assert.equal(a.email, 'hostmaster@example.test');
	assert.equal(a.acmeServer, 'https://203.0.113.1:14000/dir');
	assert.equal(a.webroot, '/var/www/html');
	assert.equal(a.key, `${LIVE}/privkey.pem`);
	assert.equal((await resolved(['--certificate', 'letsencrypt', '--register-unsafely-without-email'])).noEmail, true);
	assert.equal((await resolved([])).certificate, 'self-signed');
	// The wizard may ask whether to take Let's Encrypt: the options say how, for that question.
	const wizard = await resolved(['--acme-server', 'https://ca.test/dir', '--register-unsafely-without-email'], tree(), true);
	assert.deepEqual([wizard.certificate, wizard.acmeServer, wizard.noEmail], ['self-signed', 'https://ca.test/dir', true]);
});

test('bad or contradictory ACME options exit 2 naming the option', async () => {
	await refuses(['--certificate', 'letsencrypt'], 'email', /needs --email ADDRESS .* or --register-unsafely-without-email/);
	await refuses(['--certificate', 'letsencrypt', '--email', 'a@example.test', '--register-unsafely-without-email'], 'email', /exclude each other/);
	await refuses(['--certificate', 'letsencrypt', '--email', 'not-an-address'], 'email', /account e-mail is not an address/);
	await refuses(['--certificate', 'letsencrypt', '--email', 'a@example.test', '--acme-server', 'http://ca.example.test/dir'], 'acmeServer', /https:\/\/ URL/);
	await refuses(['--certificate', 'letsencrypt', '--email', 'a@example.test', '--webroot', 'www'], 'webroot', /absolute path/);
	await refuses(['--certificate', 'letsencrypt', '--email', 'a@example.test', '--cert', '/etc/ssl/certs/x.crt'], 'cert', /cannot be combined/);
	await refuses(['--certificate', 'lets-encrypt'], 'certificate', /self-signed or letsencrypt/);
	await refuses(['--email', 'a@example.test'], 'email', /only for --certificate letsencrypt/);
	await refuses(['--webroot', '/var/www/html'], 'webroot', /only for --certificate letsencrypt/);
	await refuses(['--register-unsafely-without-email'], 'register-unsafely-without-email', /only for --certificate letsencrypt/);
	await refuses(['--certificate', 'self-signed', '--acme-server', 'https://ca.test/dir'], 'acme-server', /only for --certificate letsencrypt/);
});

test('a rerun finds the earlier kind in 10-ssl.conf: letsencrypt again, no e-mail needed (the account exists)', async () => {
	const root = tree(pairOf('letsencrypt', FQDN));
	const a = await resolved([], root);
	assert.equal(a.certificate, 'letsencrypt');
	assert.equal(a.cert, `${LIVE}/fullchain.pem`);
	// Going back is said explicitly; the self-signed pair then takes its own default paths.
	const back = await resolved(['--certificate', 'self-signed'], root);
	assert.equal(back.cert, `/etc/ssl/certs/${FQDN}.crt`);
	// Snakeoil or other paths are no answer at all.
	assert.equal((await resolved([], tree({cert: '/etc/ssl/certs/ssl-cert-snakeoil.pem', key: '/etc/ssl/private/ssl-cert-snakeoil.key'}))).certificate, 'self-signed');
});

test("certbot's command: HTTP-01 standalone or webroot, the account as asked, forced only over an existing lineage", () => {
	const standalone = certbotCommand(le({email: 'a@example.test'}), {kind: 'standalone'}, false);
	assert.deepEqual(standalone.argv, [
		'certbot', 'certonly', '--non-interactive', '--agree-tos', '--cert-name', FQDN, '-d', FQDN, '--server', LETS_ENCRYPT, '--standalone', '--email', 'a@example.test',
	]);
	assert.ok(standalone.timeoutMs! >= 120_000, 'the CA gets minutes, not the default 30 s');
	const webroot = certbotCommand(le({noEmail: true, acmeServer: 'https://ca.test/dir'}), {kind: 'webroot', dir: '/var/www/html'}, true);
	assert.deepEqual(webroot.argv.slice(8), ['--server', 'https://ca.test/dir', '--webroot', '--webroot-path', '/var/www/html', '--register-unsafely-without-email', '--force-renewal']);
	assert.ok(!certbotCommand(le(), {kind: 'standalone'}, false).argv.some(arg => /email/.test(arg)), 'a rerun uses the account certbot has');
});

test('the deploy hook parses, is executable, and acts only for its own lineage', () => {
	const file = hookFile(FQDN);
	assert.equal(file.path, '/etc/letsencrypt/renewal-hooks/deploy/mail-setup');
	assert.equal(file.mode, 0o755);
	const dir = tempDir('hook');
	const script = path.join(dir, 'hook');
	fs.writeFileSync(script, file.content!, {mode: 0o755});
	assert.equal(spawnSync('sh', ['-n', script]).status, 0);
	// Another lineage: exits 0 before touching any service (a PATH without systemctl proves it).
	const other = spawnSync(script, [], {env: {PATH: dir, RENEWED_LINEAGE: '/etc/letsencrypt/live/www.example.test'}, encoding: 'utf8'});
	assert.equal(other.status, 0, other.stderr);
	// Its own: it reloads, here with stand-ins that record what was called.
	for (const tool of ['systemctl', 'doveadm', 'postfix']) fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho ${tool} "$@" >> ${dir}/calls\n`, {mode: 0o755});
	const own = spawnSync('/bin/sh', [script], {env: {PATH: dir, RENEWED_LINEAGE: LIVE}, encoding: 'utf8'});
	assert.equal(own.status, 0, own.stderr);
	const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8');
	assert.match(calls, fs.existsSync('/run/systemd/system') ? /^systemctl reload dovecot postfix$/m : /^doveadm reload\npostfix reload$/m);
});

// certbot's own words, as Debian 12 (certbot 2.1) and 13 (certbot 4.0) printed them against pebble.
const run = (stdout: string, stderr = '') => ({exitCode: 1, stdout, stderr});
const BOILERPLATE = 'Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile /var/log/letsencrypt/letsencrypt.log or re-run Certbot with -v for more details.';
const challenge = (type: string, detail: string, how = 'standalone') =>
	run(
		`Requesting a certificate for ${FQDN}\n\nCertbot failed to authenticate some domains (authenticator: ${how}). The Certificate Authority reported these problems:\n  Domain: ${FQDN}\n  Type:   ${type}\n  Detail: ${detail}\n\nHint: The Certificate Authority failed to download the challenge files from the temporary standalone webserver started by Certbot on port 80.\n\n`,
		`Saving debug log to /var/log/letsencrypt/letsencrypt.log\nSome challenges have failed.\n${BOILERPLATE}\n`,
	);

test("certbot's failures are told with what to do, and say nothing was issued", () => {
	const a = le({acmeServer: 'https://203.0.113.1:14000/dir'});
	const cases: [string, ReturnType<typeof run>, string | undefined, RegExp][] = [
		[
			'port 80 closed (firewall)',
			challenge('connection', `Get "http://${FQDN}:80/.well-known/acme-challenge/x": dial tcp 203.0.113.11:80: connect: permission denied`),
			undefined,
			/could not verify that mail\.example\.test is this server.*\n.*connect: permission denied\nThe CA could not connect to http:\/\/mail\.example\.test\/ \(port 80\): open port 80 in the firewall/,
		],
		['no DNS at the CA', challenge('connection', `Get "http://${FQDN}:80/.well-known/acme-challenge/x": could not resolve URL "http://${FQDN}:80/"`), undefined, /The CA cannot resolve mail\.example\.test: publish its A record/],
		['DNS points elsewhere', challenge('unauthorized', 'Non-200 status code from HTTP: http://x/.well-known/acme-challenge/y returned 404'), undefined, /A record points at another server/],
		[
			'rate limit (certbot 4: the CA\'s words)',
			run('', `Saving debug log to /var/log/letsencrypt/letsencrypt.log\nRequesting a certificate for ${FQDN}\nAn unexpected error occurred:\ntoo many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2026-12-01 10:00:00 UTC: see https://letsencrypt.org/docs/rate-limits/\n${BOILERPLATE}\n`),
			undefined,
			/the CA refused: its rate limit is reached: too many certificates .* retry after 2026-12-01.*\nWait until the time it names.*--acme-server https:\/\/acme-staging-v02/,
		],
		[
			'rate limit (certbot 2.1 hides it behind a Python error; its log has it)',
			run('', `An unexpected error occurred:\nAttributeError: can't set attribute\n${BOILERPLATE}\n`),
			'2026-11-30 04:56:04,000:DEBUG:acme.client:x\nacme.messages.Error: urn:ietf:params:acme:error:badNonce :: The client sent an unacceptable anti-replay nonce :: JWS has an invalid anti-replay nonce\nacme.messages.Error: urn:ietf:params:acme:error:rateLimited :: There were too many requests of a given type :: too many new orders recently\n',
			/its rate limit is reached: too many new orders recently \(rateLimited\)/,
		],
		[
			'policy (pebble\'s blocklist, certbot 2.1)',
			run('', `An unexpected error occurred:\nAttributeError: can't set attribute\n`),
			'acme.messages.Error: urn:ietf:params:acme:error:rejectedIdentifier :: The server will not issue certificates for the identifier :: Order included an identifier for which issuance is forbidden by policy: "mail.example.test"\n',
			/the CA refused to issue for mail\.example\.test: Order included an identifier for which issuance is forbidden by policy/,
		],
		['policy (certbot 4)', run('', `An unexpected error occurred:\nOrder included an identifier for which issuance is forbidden by policy: "${FQDN}"\n`), undefined, /the CA refused to issue for mail\.example\.test/],
		['CA unreachable', run('', 'An unexpected error occurred:\nValueError: Requesting 203.0.113.1/dir: Connection refused\n'), undefined, /cannot reach the CA at https:\/\/203\.0\.113\.1:14000\/dir: ValueError: Requesting 203\.0\.113\.1\/dir: Connection refused/],
		['CA not trusted', run('', "An unexpected error occurred:\nrequests.exceptions.SSLError: HTTPSConnectionPool(host='203.0.113.1', port=14000): Max retries exceeded with url: /dir (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))\n"), undefined, /cannot trust the HTTPS certificate of https:\/\/203\.0\.113\.1:14000\/dir/],
		['no account, no e-mail (certbot 2.1)', run('', `You should register before running non-interactively, or provide --agree-tos and --email <email_address> flags.\n${BOILERPLATE}\n`), undefined, /no account with .* give --email ADDRESS \(or --register-unsafely-without-email\)/],
		['port 80 taken meanwhile', run(`Could not bind TCP port 80 because it is already in use by another process on this system (such as a web server). Please stop the program in question and then try again.\n`), undefined, /port 80 was taken when certbot tried to listen there/],
		['anything else: its last words', run('', `Saving debug log to /var/log/letsencrypt/letsencrypt.log\nSomething new went wrong.\n${BOILERPLATE}\n`), undefined, /certbot failed \(exit 1\): Something new went wrong\.$/m],
	];
	for (const [name, result, log, want] of cases) {
		const message = explainCertbot(result, log, a);
		assert.match(message, want, `${name}:\n${message}`);
		assert.match(message, /Nothing was issued; certbot's full log: \/var\/log\/letsencrypt\/letsencrypt\.log$/, name);
		assert.doesNotMatch(message, /Ask for help/, name);
	}
});

test('port 80: nothing, a web server, or something else', async () => {
	const web = http.createServer((_, res) => res.writeHead(200, {Server: 'nginx/1.22.1'}).end('hi'));
	await new Promise<void>(resolve => web.listen(0, '127.0.0.1', resolve));
	const banner = net.createServer(socket => socket.end('SSH-2.0-OpenSSH_9.2p1 Debian\r\n'));
	await new Promise<void>(resolve => banner.listen(0, '127.0.0.1', resolve));
	const silent = net.createServer(() => {});
	await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
	const port = (server: net.Server) => (server.address() as net.AddressInfo).port;
	try {
		assert.deepEqual(await httpProbe('127.0.0.1', await closedPort(), FQDN, 1000), {kind: 'free'});
		assert.deepEqual(await httpProbe('127.0.0.1', port(web), FQDN, 1000), {kind: 'web', server: 'nginx/1.22.1'});
		assert.deepEqual(await httpProbe('127.0.0.1', port(banner), FQDN, 1000), {kind: 'other', answer: 'it answered "SSH-2.0-OpenSSH_9.2p1 Debian"'});
		assert.deepEqual(await httpProbe('127.0.0.1', port(silent), FQDN, 300), {kind: 'other', answer: 'it does not answer HTTP'});
	} finally {
		web.closeAllConnections();
		for (const server of [web, banner, silent]) server.close();
	}
});

test('issuer in a few words: self-signed, else the CN', async () => {
	const {X509Certificate} = await import('node:crypto');
	assert.equal(issuerName(new X509Certificate(makeCert({cn: FQDN}).cert)), 'self-signed');
	assert.equal(issuerName(new X509Certificate(makeCert({cn: FQDN, issuer: 'Pebble Intermediate CA 7d89ea'}).cert)), 'Pebble Intermediate CA 7d89ea');
});

test('inspect: a fresh self-signed pair is kept; another name, another key, near expiry and garbage are not', async () => {
	const pair = await makePair(FQDN);
	assert.deepEqual(inspect(pair.cert, pair.key, FQDN), []);
	assert.deepEqual(inspect(pair.cert, pair.key, 'other.example.test'), [`the present certificate is for ${FQDN}, not other.example.test`]);
	assert.deepEqual(inspect(pair.cert, makeCert({cn: FQDN}).key, FQDN), ['the private key does not match the certificate']);
	assert.deepEqual(inspect(pair.cert, pair.key, FQDN, new Date(Date.now() + 340 * 86_400_000)), ['the present certificate expires in 24 days']);
	assert.deepEqual(inspect('garbage', pair.key, FQDN), ['the present certificate cannot be read']);
	assert.deepEqual(inspect(pair.cert, 'garbage', FQDN), ['the private key cannot be read']);
	assert.deepEqual(inspect(undefined, undefined, FQDN), ['no certificate yet']);
});

/** Plant a certbot-like lineage in a tree: archive files, live/ symlinks. */
function lineage(root: string, pair: {cert: string; key: string}): void {
	const archive = path.join(root, 'etc/letsencrypt/archive', FQDN);
	const live = path.join(root, LIVE.slice(1));
	fs.mkdirSync(archive, {recursive: true});
	fs.mkdirSync(live, {recursive: true});
	fs.writeFileSync(path.join(archive, 'fullchain1.pem'), pair.cert);
	fs.writeFileSync(path.join(archive, 'privkey1.pem'), pair.key, {mode: 0o600});
	fs.symlinkSync(`../../archive/${FQDN}/fullchain1.pem`, path.join(live, 'fullchain.pem'));
	fs.symlinkSync(`../../archive/${FQDN}/privkey1.pem`, path.join(live, 'privkey.pem'));
}

test('certificate stage, --root dry run: the preview says what it asks the CA, for whom, and the hook it writes', async () => {
	const root = tree();
	const host = new Host({root, dryRun: true});
	const p = await preview(certificate, {host, answers: le({email: 'a@example.test', acmeServer: 'https://ca.test/dir'})});
	assert.deepEqual(p.files.map(file => file.change.path), [HOOK]);
	assert.equal(p.plan.commands.length, 1);
	assert.match(p.plan.commands[0]!.argv.join(' '), /^certbot certonly .*--server https:\/\/ca\.test\/dir --standalone --email a@example\.test$/);
	const notes = p.plan.notes.join('\n');
	assert.match(notes, /^no certificate yet$/m);
	assert.match(notes, /asks https:\/\/ca\.test\/dir for a certificate for mail\.example\.test/);
	assert.match(notes, /account e-mail: a@example\.test/);
	assert.match(notes, /under --root: certbot, DNS and port 80 are not checked/);
	const noEmail = await preview(certificate, {host, answers: le({noEmail: true})});
	assert.match(noEmail.plan.notes.join('\n'), /https:\/\/acme-v02\.api\.letsencrypt\.org\/directory \(Let's Encrypt\)[^]*no account e-mail \(--register-unsafely-without-email\): the CA cannot warn you/);
	// Applied under --root, certbot would run on this machine, not the tree's: refused before anything is written.
	await assert.rejects(certificate.plan({host: new Host({root}), answers: le({noEmail: true})}), /certbot cannot run under --root/);
});

test('certificate stage: a fit lineage is used as is, the CA is not asked; --renew asks again, forced', async () => {
	const root = tree();
	const {cert, key} = makeCert({cn: FQDN, issuer: 'Pebble Intermediate CA 1', notAfter: new Date(Date.now() + 60 * 86_400_000)});
	lineage(root, {cert, key});
	const host = new Host({root});
	const kept = await preview(certificate, {host, answers: le()});
	assert.equal(kept.plan.commands.length, 0);
	assert.match(kept.plan.notes[0]!, /live\/mail\.example\.test holds a certificate for mail\.example\.test, issued by Pebble Intermediate CA 1, valid until \d{4}-\d{2}-\d{2}: used as is, the CA is not asked/);
	// The hook is written (and validated) even then; the pair read back through the symlinks passes.
	const result = await apply(kept, {host, answers: le()});
	assert.equal(result.status, 'pass', result.message);
	assert.equal(fs.statSync(path.join(root, HOOK)).mode & 0o777, 0o755);
	assert.deepEqual((await preview(certificate, {host, answers: le()})).files, [], 'a rerun has nothing to do');
	// certbot's default key is ECDSA: read back as well (node-forge could not).
	const ec = tree();
	const dir = tempDir('ec');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90', '-subj', `/CN=${FQDN}`, '-addext', `subjectAltName=DNS:${FQDN}`, '-keyout', `${dir}/k`, '-out', `${dir}/c`], {stdio: 'ignore'});
	lineage(ec, {cert: fs.readFileSync(`${dir}/c`, 'utf8'), key: fs.readFileSync(`${dir}/k`, 'utf8')});
	const ecKept = await preview(certificate, {host: new Host({root: ec, dryRun: true}), answers: le()});
	assert.deepEqual(ecKept.plan.commands, [], ecKept.plan.notes.join('\n'));
	assert.match(ecKept.plan.notes[0]!, /used as is/);
	const renew = await preview(certificate, {host: new Host({root, dryRun: true}), answers: le({renew: true})});
	assert.match(renew.plan.commands[0]!.argv.join(' '), /--force-renewal$/);
	// A lineage about to expire is asked for again.
	const old = tree();
	lineage(old, makeCert({cn: FQDN, issuer: 'Pebble Intermediate CA 1', notAfter: new Date(Date.now() + 10 * 86_400_000)}));
	const due = await preview(certificate, {host: new Host({root: old, dryRun: true}), answers: le()});
	assert.match(due.plan.notes[0]!, /expires in 9 days/);
	assert.match(due.plan.commands[0]!.argv.join(' '), /--force-renewal$/);
});

test('a failed command is told in the stage\'s words, and what the stage wrote is put back', async () => {
	// The real root, writing nothing: only a command that fails (false) and its explanation.
	const host = new Host({runId: `acme-test-${process.pid}`});
	const stage: Stage = {
		id: 'certificate',
		title: 'test',
		plan: async () => ({files: [], commands: [{argv: ['false']}], notes: []}),
		explain: async (_ctx, command, result) => `${command.argv[0]} said no (exit ${result.exitCode}): do this instead`,
	};
	const result = await apply(await preview(stage, {host, answers: le()}), {host, answers: le()});
	assert.equal(result.status, 'fail');
	assert.match(result.message, /^false said no \(exit 1\): do this instead$/m);
	assert.equal(host.journal.size, 0);
});

test('the built CLI refuses --certificate letsencrypt without an account choice, before touching anything', () => {
	const root = tree();
	const listing = () => execFileSync('find', [root, '-printf', '%p %m %T@\\n'], {encoding: 'utf8'});
	const before = listing();
	const run = spawnSync(process.execPath, [path.resolve('bin/mail-setup.js'), '--yes', '--root', root, '--certificate', 'letsencrypt', 'certificate'], {encoding: 'utf8', env: {...process.env, CI: '1'}});
	assert.equal(run.status, 2, run.stderr);
	assert.match(run.stderr, /--certificate letsencrypt needs --email ADDRESS/);
	assert.equal(listing(), before);
});
