// Headless, on freshly booted Debian 12 and 13 servers: `npx mail-setup --yes --db-create …` on the
// server, then everything checked from a laptop on the test network (mail-setup check as nobody,
// swaks, curl), then a rerun that changes nothing and restarts nothing, then undo.
import assert from 'node:assert/strict';
import path from 'node:path';
import {describe, test} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {FQDN} from '../helpers/server.ts';
import {RELEASES} from '../helpers/roots.ts';
import {
	ALL_STAGES,
	CHECK_IDS,
	CONFIG_PATHS,
	expectChecks,
	FILE_STAGES,
	fingerprint,
	HEADLESS,
	lab,
	laptopCheck,
	mailClient,
	leakedSecrets,
	report,
	summary,
	TEST_PASSWORD,
	TEST_USER,
	WRONG_PASSWORD,
	writeFile,
	writeSecrets,
	type Lab,
} from './lib.ts';


describe('headless on booted servers', {concurrency: true}, () => {
	for (const release of RELEASES) {
		test(`Debian ${release}: npx mail-setup --yes --db-create, checked from a laptop; rerun quiet; undo`, {timeout: 900_000}, async t => {
			let started = Date.now();
			const l = await lab(release);
			t.after(() => l.net.close());
			t.diagnostic(`Debian ${release}: server booted (systemd running) and laptop ready ${Date.now() - started} ms`);
			const {server, laptop} = l;
			// mail-setup's own outputs: no password may appear in any (swaks shows its AUTH token: not ours).
			const outputs: Record<string, string> = {};
			const keep = (name: string, run: {stdout: string; stderr: string}) => {
				outputs[`${name} stdout`] = run.stdout;
				outputs[`${name} stderr`] = run.stderr;
			};

			const pristine = await fingerprint(server, CONFIG_PATHS);
			await writeSecrets(server);

			// --- the wizard, every stage, on the server
			started = Date.now();
			const first = await server.run(['npx', 'mail-setup', ...HEADLESS, '--db-create'], {timeout: 300_000});
			t.diagnostic(`Debian ${release}: wizard ${Date.now() - started} ms`);
			keep('wizard', first);
			const doc = report(first, 'the wizard');
			assert.equal(first.exitCode, 0, summary(doc) + first.stderr);
			assert.deepEqual(doc.stages.map(stage => `${stage.id} ${stage.status}`), ALL_STAGES.map(id => `${id} pass`), summary(doc));
			// Every check passes from the server itself, the relay check too: it probes from the server's
			// own address, which Postfix does not trust (issue 14).
			for (const id of CHECK_IDS) assert.equal(doc.checks.find(check => check.id === id)?.status ?? 'not run', 'pass', `${id}\n${summary(doc)}`);
			assert.match(doc.checks.find(check => check.id === 'smtp-relay-refused')!.message, new RegExp(`Postfix does not trust ${server.address.replaceAll('.', '\\.')}: outside mynetworks`));
			const reload = doc.stages.find(stage => stage.id === 'reload')!;
			assert.ok(reload.commands.some(command => /^systemctl (restart|start) dovecot$/.test(command)), `reload: ${reload.commands}`);
			assert.ok(reload.commands.some(command => /^systemctl (reload|restart|start|reload-or-restart) postfix$/.test(command)), `reload: ${reload.commands}`);

			// --- on the server: systemd runs the services; Dovecot logs in through SQL
			// Debian 12 runs Postfix's master in the instance postfix@-, Debian 13 in postfix itself.
			const postfixUnit = release === 12 ? 'postfix@-' : 'postfix';
			const active = await server.run(['systemctl', 'is-active', 'dovecot', postfixUnit, 'mariadb']);
			assert.equal(active.stdout, 'active\n'.repeat(3), active.stdout + active.stderr);
			const cgroups = await server.run(['sh', '-c', 'for p in $(pgrep -x dovecot) $(pgrep -x master); do echo "$(cat /proc/$p/comm) $(grep -m1 name=systemd /proc/$p/cgroup || head -1 /proc/$p/cgroup)"; done; ps -eo pid,ppid,lstart,args >&2']);
			const masters = cgroups.stdout.trim().split('\n');
			assert.ok(masters.some(line => line.startsWith('dovecot ')) && masters.some(line => line.startsWith('master ')), cgroups.stdout);
			for (const line of masters) {
				const unit = line.startsWith('dovecot ') ? '/system.slice/dovecot.service' : release === 12 ? '/system.slice/system-postfix.slice/postfix@-.service' : '/system.slice/postfix.service';
				assert.ok(line.endsWith(unit), `not in its unit's cgroup: ${line}\n${cgroups.stderr}`);
			}
			const auth = await server.run(['doveadm', 'auth', 'test', TEST_USER], {input: `${TEST_PASSWORD}\n`});
			assert.match(auth.stdout, /auth succeeded/, auth.stdout + auth.stderr);
			assert.notEqual((await server.run(['doveadm', 'auth', 'test', TEST_USER], {input: `${WRONG_PASSWORD}\n`})).exitCode, 0);
			const configured = await fingerprint(server, CONFIG_PATHS);

			// --- from the laptop: mail-setup check as nobody, and independent clients
			started = Date.now();
			const nobody = laptop.homeOf('nobody');
			const passwordFile = writeFile(path.join(nobody, 'test-password'), `${TEST_PASSWORD}\n`, 'nobody');
			const check = await laptopCheck(l, passwordFile);
			keep('laptop check', check.run);
			expectChecks(check, 0);
			t.diagnostic(`Debian ${release}: laptop check ${Date.now() - started} ms`);

			started = Date.now();
			const mail = await mailClient(l);
			const netrc = mail.netrc('test', TEST_USER, TEST_PASSWORD);
			const netrcWrong = mail.netrc('wrong', TEST_USER, WRONG_PASSWORD);
			const swaksAuth = writeFile(path.join(laptop.home, 'swaks'), `auth-password ${TEST_PASSWORD}\n`);
			const swaksWrong = writeFile(path.join(laptop.home, 'swaks-wrong'), `auth-password ${WRONG_PASSWORD}\n`);
			const swaks = (args: string[]) => laptop.run(['swaks', '--timeout', '20', '--server', FQDN, ...args], {timeout: 60_000});

			const token = `e2e-${release}-${Date.now()}`;
			const submit = await swaks(['--config', swaksAuth, '--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', TEST_USER, '--from', TEST_USER, '--to', TEST_USER, '--header', `Subject: ${token}`, '--body', `sent by the e2e: ${token}`]);
			assert.equal(submit.exitCode, 0, submit.stdout.slice(-1500));
			assert.match(await mail.arrived(netrc, token), new RegExp(`sent by the e2e: ${token}`));

			// What must be refused (swaks exit codes: 23 MAIL refused, 24 RCPT refused, 28 AUTH refused).
			const relay25 = await swaks(['--port', '25', '--from', TEST_USER, '--to', 'victim@example.net', '--quit-after', 'RCPT']);
			assert.equal(relay25.exitCode, 24, relay25.stdout);
			assert.match(relay25.stdout, /Relay access denied/);
			const relay587 = await swaks(['--port', '587', '--tls', '--from', TEST_USER, '--to', 'victim@example.net', '--quit-after', 'RCPT']);
			assert.ok([23, 24].includes(relay587.exitCode), `unauthenticated relay on 587: exit ${relay587.exitCode}\n${relay587.stdout}`);
			const wrong587 = await swaks(['--config', swaksWrong, '--port', '587', '--tls', '--auth', 'PLAIN', '--auth-user', TEST_USER, '--from', TEST_USER, '--to', TEST_USER, '--quit-after', 'AUTH']);
			assert.equal(wrong587.exitCode, 28, wrong587.stdout);
			const wrongImap = await mail.imap(netrcWrong, 'INBOX', ['-X', 'NOOP']);
			assert.equal(wrongImap.exitCode, 67, `IMAPS with a wrong password: curl exit ${wrongImap.exitCode} ${wrongImap.stderr}`);
			for (const [port, open] of [[143, false], [110, false], [995, false], [25, true], [587, true], [993, true]] as const) {
				const probe = await laptop.run(['bash', '-c', `exec 3<>/dev/tcp/${server.address}/${port}`], {timeout: 10_000});
				assert.equal(probe.exitCode === 0, open, `port ${port} is ${open ? 'closed' : 'open'} from the laptop`);
			}
			t.diagnostic(`Debian ${release}: clients ${Date.now() - started} ms`);

			if (release === 12) {
				started = Date.now();
				await breakages(l, passwordFile);
				assert.equal(await fingerprint(server, CONFIG_PATHS), configured, 'the breakages were not put back byte for byte');
				expectChecks(await laptopCheck(l, passwordFile), 0);
				t.diagnostic(`Debian ${release}: breakages ${Date.now() - started} ms`);
			}

			// --- again: nothing to change, nothing restarted
			// Postfix reloads keep the master but start a new qmgr.
			const pids = async () => `dovecot ${await server.mainPid('dovecot')}, postfix ${await server.mainPid(postfixUnit)}, qmgr ${(await server.run(['pgrep', '-x', 'qmgr'])).stdout.trim()}`;
			const pidsBefore = await pids();
			const rerun = await server.run(['npx', 'mail-setup', ...FILE_STAGES, 'reload', ...HEADLESS], {timeout: 300_000});
			keep('rerun', rerun);
			const again = report(rerun, 'the rerun');
			assert.equal(rerun.exitCode, 0, summary(again));
			for (const stage of again.stages) assert.deepEqual(stage.changes, [], `${stage.id} changes something on a rerun`);
			assert.equal(await fingerprint(server, CONFIG_PATHS), configured, 'a rerun changed bytes, modes or owners');
			assert.equal(await pids(), pidsBefore, 'a rerun that changed nothing restarted a service');

			// --- undo: back to the pristine files
			const undo = await server.run(['npx', 'mail-setup', 'undo', '--json'], {timeout: 120_000});
			keep('undo', undo);
			assert.equal(undo.exitCode, 0, undo.stderr);
			assert.equal(await fingerprint(server, CONFIG_PATHS), pristine, 'undo did not give back the pristine files');

			assert.deepEqual(leakedSecrets(outputs), [], 'a password or AUTH token in these outputs');
		});
	}
});

/** Polls until fn() is true; fails naming what did not happen within `seconds`. */
async function until(what: string, fn: () => Promise<boolean>, seconds = 15): Promise<void> {
	for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(200)) if (await fn()) return;
	assert.fail(`${what}: not within ${seconds} s`);
}

/**
 * The configured server broken one way at a time: each breakage must make exactly the right
 * check(s) fail (exit 1) while the others pass; each is put back (the file from a copy, the
 * service restarted or reloaded) before the next.
 */
async function breakages(l: Lab, passwordFile: string): Promise<void> {
	const {server, laptop} = l;
	const must = async (argv: string[]) => {
		const run = await server.run(argv, {timeout: 60_000});
		assert.equal(run.exitCode, 0, `${argv.join(' ')}: ${run.stderr}`);
		return run.stdout;
	};
	const files = ['/etc/postfix/main.cf', '/etc/dovecot/conf.d/10-master.conf', '/etc/dovecot/conf.d/10-ssl.conf'];
	await must(['sh', '-c', 'mkdir -p /root/kept && cp -p "$@" /root/kept/', 'sh', ...files]);
	const putBack = (file: string) => must(['cp', '-p', `/root/kept/${path.basename(file)}`, file]);
	// After a restart Dovecot's auth may need a moment (its SQL connection) under load: a person waits too.
	const restartDovecot = async () => {
		await must(['systemctl', 'restart', 'dovecot']);
		await until('Dovecot authenticating again', async () => (await server.run(['doveadm', 'auth', 'test', TEST_USER], {input: `${TEST_PASSWORD}\n`})).exitCode === 0);
	};
	const portOpen = async (port: number) => (await laptop.run(['bash', '-c', `exec 3<>/dev/tcp/${server.address}/${port}`], {timeout: 10_000})).exitCode === 0;
	const relayRc = async () => (await laptop.run(['swaks', '--timeout', '5', '--server', FQDN, '--from', TEST_USER, '--to', 'victim@example.net', '--quit-after', 'RCPT'], {timeout: 30_000})).exitCode;
	const subject = async (port: number) => {
		const starttls = port === 587 ? ['-starttls', 'smtp'] : [];
		const script = 'to=$1 name=$2; shift 2; openssl s_client -connect "$to" -servername "$name" "$@" </dev/null 2>/dev/null | openssl x509 -noout -subject';
		return (await laptop.run(['sh', '-c', script, 'sh', `${server.address}:${port}`, FQDN, ...starttls], {timeout: 20_000})).stdout;
	};
	const serves = async (name: string) => (await subject(993)).includes(`CN = ${name}`) && (await subject(587)).includes(`CN = ${name}`);
	const expectBroken = async (failing: string[], message: [string, RegExp], password = passwordFile, fqdn = FQDN) => {
		const check = await laptopCheck(l, password, fqdn);
		try {
			expectChecks(check, 1, failing);
		} catch (error) {
			// What the server logged meanwhile: the cause of an unexpected failure is there.
			const log = await server.run(['sh', '-c', 'journalctl --no-pager -n 400 -u dovecot -u "postfix*" | grep -v "disconnect from" | tail -40']);
			(error as Error).message += `\n--- server journal\n${log.stdout}`;
			throw error;
		}
		assert.match(check.doc.checks.find(c => c.id === message[0])!.message, message[1]);
	};

	// 1. IMAP on 143 re-opened.
	const master = (await server.read('/etc/dovecot/conf.d/10-master.conf'))!;
	const opened = master.replace(/(inet_listener imap \{\s*\n\s*port = )0$/m, '$1143');
	assert.notEqual(opened, master, 'could not set port = 143 in 10-master.conf');
	await server.write('/etc/dovecot/conf.d/10-master.conf', opened, {mode: 0o640, owner: 'mail:dovecot'});
	await restartDovecot();
	await until('port 143 open after the restart', () => portOpen(143));
	await expectBroken(['plaintext-closed'], ['plaintext-closed', /\b143\b/]);
	await putBack('/etc/dovecot/conf.d/10-master.conf');
	await restartDovecot();
	await until('port 143 closed again', async () => !(await portOpen(143)));

	// 2. An open relay.
	await must(['postconf', '-e', 'mynetworks = 0.0.0.0/0']);
	await must(['systemctl', 'reload', 'postfix']);
	await until('Postfix relaying for the laptop', async () => (await relayRc()) === 0);
	await expectBroken(['smtp-relay-refused'], ['smtp-relay-refused', /open relay/i]);
	await putBack('/etc/postfix/main.cf');
	await must(['systemctl', 'reload', 'postfix']);
	await until('Postfix refusing to relay again', async () => (await relayRc()) === 24);

	// 3. The client asks for a name the certificate does not hold.
	const other = 'other.example.test';
	await expectBroken(['certificate-name'], ['certificate-name', new RegExp(`not ${other}`)], passwordFile, other);

	// 4. A wrong password: the checks that log in fail; the port-25 checks do not use it.
	const wrong = writeFile(path.join(laptop.homeOf('nobody'), 'wrong-password'), `${WRONG_PASSWORD}\n`, 'nobody');
	await expectBroken(['imaps-login', 'submission-auth', 'mailbox-delivery'], ['submission-auth', /535/], wrong);

	// 5. The server serves a certificate for another name (Dovecot and Postfix). Their restart and
	//    reload also start fresh auth processes: the wrong password's auth penalty is gone after it.
	await must(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${other}`, '-addext', `subjectAltName=DNS:${other}`, '-keyout', '/root/kept/other.key', '-out', '/root/kept/other.crt']);
	const ssl = (await server.read('/etc/dovecot/conf.d/10-ssl.conf'))!;
	const otherSsl = ssl.replace(/^ssl_cert = <.*$/m, 'ssl_cert = </root/kept/other.crt').replace(/^ssl_key = <.*$/m, 'ssl_key = </root/kept/other.key');
	assert.equal(otherSsl.match(/\/root\/kept\/other/g)?.length, 2, 'could not point ssl_cert and ssl_key at the other pair');
	await server.write('/etc/dovecot/conf.d/10-ssl.conf', otherSsl, {mode: 0o640, owner: 'mail:dovecot'});
	await must(['postconf', '-e', 'smtpd_tls_cert_file = /root/kept/other.crt', 'smtpd_tls_key_file = /root/kept/other.key']);
	await restartDovecot();
	await must(['systemctl', 'reload', 'postfix']);
	await until(`the laptop served the certificate for ${other} on 993 and 587`, () => serves(other));
	await expectBroken(['certificate-name'], ['certificate-name', new RegExp(`${other}, not ${FQDN}`)]);
	await putBack('/etc/dovecot/conf.d/10-ssl.conf');
	await putBack('/etc/postfix/main.cf');
	await restartDovecot();
	await must(['systemctl', 'reload', 'postfix']);
	await until(`the laptop served the certificate for ${FQDN} again`, () => serves(FQDN));
}
