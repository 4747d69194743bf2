// The TLS settings of dovecot-ssl, postfix and submission on stock Debian 12 and 13 trees, read back by each
// release's own doveconf, postconf and openssl (chrooted into a throwaway overlay of the cached root):
// fresh, rerun, tightened by an operator (kept), loosened (put back).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import {stagesFor} from '../source/stages/index.ts';
import {CIPHER_LIST, INTERMEDIATE_CIPHERS} from '../source/tls.ts';
import type {DovecotSyntax} from '../source/types.ts';
import {etcBinds, inRoot, type Release} from './helpers/roots.ts';
import {makeStockTree} from './helpers/stock.ts';

const trees: string[] = [];
after(() => trees.forEach(tree => fs.rmSync(tree, {recursive: true, force: true})));

async function stockTree(release: Release): Promise<string> {
	const tree = await makeStockTree(release);
	trees.push(tree);
	return tree;
}

/** A command of Debian `release` with the tree's /etc entries over the root's (the tree as the server's /etc). */
async function inRootWith(release: Release, tree: string, argv: string[]) {
	return inRoot(release, argv, {binds: etcBinds(tree), timeout: 30_000});
}

const releases: [Release, DovecotSyntax][] = [
	[12, '2.3'],
	[13, '2.4'],
];
const ids = ['certificate', 'dovecot-ssl', 'postfix', 'submission'] as const;

async function stagesOn(tree: string, dovecot: DovecotSyntax) {
	const answers = withDefaults({fqdn: 'mail.example.test', dovecot});
	return runStages(stagesFor([...ids]), {answers, host: new Host({root: tree})});
}

/** Dovecot's top-level settings from `doveconf -a -P`; 2.4 shows ssl_server_* set in files inside an
 * `ssl_server { }` filter (`dh_file = …`), which overrides the top-level default. */
function dovecotSettings(output: string): Map<string, string> {
	const settings = new Map<string, string>();
	let block: string | undefined;
	for (const line of output.split('\n')) {
		const open = line.match(/^(\S.*) \{$/);
		if (open) block = open[1];
		else if (line === '}') block = undefined;
		const setting = line.match(/^(\s*)(\w+) = (.*)$/);
		if (!setting) continue;
		if (block === undefined && setting[1] === '') settings.set(setting[2]!, setting[3]!);
		else if (block === 'ssl_server' && setting[1] === '  ') settings.set(`ssl_server_${setting[2]}`, setting[3]!);
	}
	return settings;
}

/** What each release's tools say the TLS settings are (values equal to a default included). */
async function readBack(release: Release, tree: string) {
	const conf = await inRootWith(release, tree, ['doveconf', '-a', '-P']);
	assert.equal(conf.exitCode, 0, conf.stderr);
	const settings = dovecotSettings(conf.stdout);
	const dovecot = (name: string) => settings.get(name);
	const postconf = async (...args: string[]) => {
		const result = await inRootWith(release, tree, ['postconf', '-c', '/etc/postfix', ...args]);
		assert.equal(result.exitCode, 0, result.stderr);
		return result.stdout.trim();
	};
	return {dovecot, postconf};
}

/** The TLS 1.2 suites a cipher string leaves, as the release's OpenSSL expands it. */
async function suites(release: Release, tree: string, cipherString: string): Promise<string[]> {
	const result = await inRootWith(release, tree, ['openssl', 'ciphers', '-s', '-tls1_2', cipherString]);
	assert.equal(result.exitCode, 0, result.stderr);
	return result.stdout.trim().split(':').sort();
}

for (const [release, syntax] of releases) {
	test(`Debian ${release} (Dovecot ${syntax}): fresh TLS settings as the release's doveconf, postconf and openssl read them; a rerun changes nothing`, async () => {
		const tree = await stockTree(release);
		const report = await stagesOn(tree, syntax);
		assert.ok(report.ok, JSON.stringify(report.stages, null, 1));
		const {dovecot, postconf} = await readBack(release, tree);

		assert.equal(dovecot('ssl'), 'required');
		assert.equal(dovecot('ssl_min_protocol'), 'TLSv1.2');
		assert.equal(dovecot('ssl_cipher_list'), CIPHER_LIST);
		if (syntax === '2.4') {
			assert.equal(dovecot('ssl_server_prefer_ciphers'), 'client');
			assert.equal(dovecot('ssl_server_dh_file'), '/usr/share/dovecot/dh.pem');
		} else {
			assert.equal(dovecot('ssl_prefer_server_ciphers'), 'no');
			assert.equal(dovecot('ssl_dh'), '</usr/share/dovecot/dh.pem');
		}
		// 2.3's -x reads every `<file` (the pair, the DH group); 2.4 opens its *_file settings only at start.
		const expanded = await inRootWith(release, tree, ['doveconf', '-x']);
		assert.equal(expanded.exitCode, 0, expanded.stderr);
		const dh = await inRootWith(release, tree, ['openssl', 'dhparam', '-in', '/usr/share/dovecot/dh.pem', '-noout', '-check', '-text']);
		assert.equal(dh.exitCode, 0, dh.stderr);
		assert.match(dh.stdout + dh.stderr, /DH parameters appear to be ok/i);

		const main = await postconf('-h', 'smtpd_tls_protocols', 'smtpd_tls_mandatory_protocols', 'smtpd_tls_mandatory_ciphers', 'tls_high_cipherlist', 'smtpd_tls_mandatory_exclude_ciphers', 'smtpd_tls_security_level');
		assert.deepEqual(main.split('\n'), ['>=TLSv1', '>=TLSv1.2', 'high', CIPHER_LIST, 'aNULL, eNULL, EXPORT, LOW, DES, 3DES, RC4, MD5, PSK, SRP', 'may']);
		const submission = await postconf('-P', 'submission/inet/smtpd_tls_protocols', 'submission/inet/smtpd_tls_security_level');
		assert.deepEqual(submission.split('\n'), ['submission/inet/smtpd_tls_protocols = >=TLSv1.2', 'submission/inet/smtpd_tls_security_level = encrypt']);

		// Postfix appends each exclusion as `:!name` to the grade's list: the release's OpenSSL must leave exactly
		// the nine intermediate suites, and so must Dovecot's list (every name known to OpenSSL 3.0 and 3.5).
		const excluded = main.split('\n')[4]!.split(', ').map(name => `!${name}`);
		assert.deepEqual(await suites(release, tree, [CIPHER_LIST, ...excluded].join(':')), [...INTERMEDIATE_CIPHERS].sort());
		assert.deepEqual(await suites(release, tree, dovecot('ssl_cipher_list')!), [...INTERMEDIATE_CIPHERS].sort());

		const again = await stagesOn(tree, syntax);
		for (const stage of again.stages) assert.deepEqual(stage.changes, [], stage.id);
	});

	test(`Debian ${release} (Dovecot ${syntax}): settings an operator tightened are kept, loosened ones are put back`, async () => {
		const tree = await stockTree(release);
		assert.ok((await stagesOn(tree, syntax)).ok);
		const file = (name: string) => path.join(tree, 'etc', name);
		const edit = (name: string, change: (text: string) => string) => fs.writeFileSync(file(name), change(fs.readFileSync(file(name), 'utf8')));
		const two = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305';

		// Tighter: TLS 1.3 floors, two suites, one more exclusion, TLS 1.2+ even on port 25.
		edit('dovecot/conf.d/10-ssl.conf', text => text.replace(/^ssl_min_protocol = .*$/m, 'ssl_min_protocol = TLSv1.3').replace(/^ssl_cipher_list = .*$/m, `ssl_cipher_list = ${two}`));
		edit('postfix/main.cf', text =>
			text
				.replace(/^smtpd_tls_mandatory_protocols = .*$/m, 'smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2')
				.replace(/^smtpd_tls_protocols = .*$/m, 'smtpd_tls_protocols = >=TLSv1.2')
				.replace(/^tls_high_cipherlist = .*$/m, `tls_high_cipherlist = ${two}`)
				.replace(/^smtpd_tls_mandatory_exclude_ciphers = (.*)$/m, 'smtpd_tls_mandatory_exclude_ciphers = $1, CAMELLIA'),
		);
		edit('postfix/master.cf', text => text.replace('-o smtpd_tls_protocols=>=TLSv1.2', '-o smtpd_tls_protocols=TLSv1.3'));
		const tightened = Object.fromEntries(['dovecot/conf.d/10-ssl.conf', 'postfix/main.cf', 'postfix/master.cf'].map(name => [name, fs.readFileSync(file(name), 'utf8')]));
		const kept = await stagesOn(tree, syntax);
		assert.ok(kept.ok);
		for (const stage of kept.stages) assert.deepEqual(stage.changes, [], stage.id);
		for (const [name, text] of Object.entries(tightened)) assert.equal(fs.readFileSync(file(name), 'utf8'), text, name);
		const {dovecot, postconf} = await readBack(release, tree);
		assert.equal(dovecot('ssl_min_protocol'), 'TLSv1.3');
		assert.equal(await postconf('-P', 'submission/inet/smtpd_tls_protocols'), 'submission/inet/smtpd_tls_protocols = TLSv1.3');

		// Looser: each one goes back to the profile.
		edit('dovecot/conf.d/10-ssl.conf', text => text.replace(/^ssl_min_protocol = .*$/m, 'ssl_min_protocol = TLSv1').replace(/^ssl_cipher_list = .*$/m, `ssl_cipher_list = ${two}:ECDHE-RSA-AES256-SHA`));
		edit('postfix/main.cf', text =>
			text
				.replace(/^smtpd_tls_mandatory_protocols = .*$/m, 'smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3')
				.replace(/^smtpd_tls_protocols = .*$/m, 'smtpd_tls_protocols = !SSLv2')
				.replace(/^smtpd_tls_mandatory_ciphers = .*$/m, 'smtpd_tls_mandatory_ciphers = medium')
				.replace(/^tls_high_cipherlist = .*$/m, 'tls_high_cipherlist = aNULL:-aNULL:HIGH:@STRENGTH')
				.replace(/^smtpd_tls_mandatory_exclude_ciphers = .*$/m, 'smtpd_tls_mandatory_exclude_ciphers = CAMELLIA'),
		);
		edit('postfix/master.cf', text => text.replace('-o smtpd_tls_protocols=TLSv1.3', '-o smtpd_tls_protocols=>=TLSv1'));
		const restored = await stagesOn(tree, syntax);
		assert.ok(restored.ok);
		const back = await readBack(release, tree);
		assert.equal(back.dovecot('ssl_min_protocol'), 'TLSv1.2');
		assert.equal(back.dovecot('ssl_cipher_list'), CIPHER_LIST);
		const main = await back.postconf('-h', 'smtpd_tls_protocols', 'smtpd_tls_mandatory_protocols', 'smtpd_tls_mandatory_ciphers', 'tls_high_cipherlist', 'smtpd_tls_mandatory_exclude_ciphers');
		assert.deepEqual(main.split('\n'), ['>=TLSv1', '>=TLSv1.2', 'high', CIPHER_LIST, 'CAMELLIA, aNULL, eNULL, EXPORT, LOW, DES, 3DES, RC4, MD5, PSK, SRP']);
		assert.equal(await back.postconf('-P', 'submission/inet/smtpd_tls_protocols'), 'submission/inet/smtpd_tls_protocols = >=TLSv1.2');
	});
}
