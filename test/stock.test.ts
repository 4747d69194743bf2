// The stock trees and the real doveconf of each release that the stage tests stand on.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {after, test} from 'node:test';
import {inRoot, rootDir} from './helpers/roots.ts';
import {makeStockTree as makeTree} from './helpers/stock.ts';
import {doveconf23, doveconf24} from './helpers/trixie.ts';

const made: string[] = [];
after(() => made.forEach(tree => fs.rmSync(tree, {recursive: true, force: true})));
async function makeStockTree(release: 12 | 13, dest?: string, options?: {opendkim?: boolean}) {
	const tree = await makeTree(release, dest, options);
	made.push(tree);
	return tree;
}

const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), 'utf8');
function editFile(root: string, file: string, edit: (text: string) => string) {
	const before = read(root, file);
	const after = edit(before);
	assert.notEqual(after, before, `${file}: the edit found its lines`);
	fs.writeFileSync(path.join(root, file), after);
}
const md5 = (file: string) => createHash('md5').update(fs.readFileSync(file)).digest('hex');

/** ucf's record of the package's version of each /etc/dovecot file: `md5  /etc/dovecot/...`. */
function ucfHashes(ucfHashfile: string): Map<string, string> {
	const lines = fs.readFileSync(ucfHashfile, 'utf8').split('\n');
	return new Map(lines.filter(line => line.includes(' /etc/dovecot/')).map(line => {
		const [hash, file] = line.split(/\s+/);
		return [file!, hash!];
	}));
}

/** Every Dovecot file of the tree is the package's own, and every one the package registered is there. */
function assertPackageDovecot(tree: string, ucfHashfile: string) {
	const hashes = ucfHashes(ucfHashfile);
	assert.ok(hashes.size > 20, `ucf knows ${hashes.size} Dovecot files`);
	for (const [file, hash] of hashes) assert.equal(md5(path.join(tree, file)), hash, `${file} differs from the package's`);
	const files = fs.readdirSync(path.join(tree, 'etc/dovecot'), {recursive: true, withFileTypes: true})
		.filter(entry => entry.isFile())
		.map(entry => path.join(entry.parentPath, entry.name).slice(tree.length));
	assert.deepEqual(files.filter(file => !hashes.has(file)), [], 'files no package put there');
}

test('Debian 12 stock tree: the package files, empty ssl dirs, var/mail', async () => {
	const tree = await makeStockTree(12);
	assert.match(read(tree, 'etc/dovecot/conf.d/10-master.conf'), /^ {4}#port = 143$/m);
	assert.match(read(tree, 'etc/dovecot/conf.d/10-master.conf'), /^ {2}#unix_listener \/var\/spool\/postfix\/private\/auth \{$/m);
	assert.ok(fs.existsSync(path.join(tree, 'etc/dovecot/dovecot-sql.conf.ext')));
	assert.match(read(tree, 'etc/dovecot/conf.d/10-auth.conf'), /^!include auth-system\.conf\.ext$/m);
	assertPackageDovecot(tree, path.join(rootDir(12), 'var/lib/ucf/hashfile'));
	assert.equal(read(tree, 'etc/mailname'), 'mail.example.test\n');
	assert.match(read(tree, 'etc/passwd'), /^dovecot:/m);
	assert.match(read(tree, 'etc/group'), /^postfix:/m);
	assert.deepEqual(fs.readdirSync(path.join(tree, 'etc/ssl/certs')), []);
	assert.deepEqual(fs.readdirSync(path.join(tree, 'etc/ssl/private')), []);
	assert.equal(fs.statSync(path.join(tree, 'etc/ssl/private')).mode & 0o777, 0o700);
	assert.equal(fs.statSync(path.join(tree, 'etc/dovecot/private')).mode & 0o777, 0o700);
	assert.equal(fs.statSync(path.join(tree, 'var/mail')).gid, 8);
});

test('each call builds a fresh tree; dest puts it where asked', async () => {
	const a = await makeStockTree(12);
	fs.appendFileSync(path.join(a, 'etc/dovecot/dovecot.conf'), '# edited-by-test\n');
	const b = await makeStockTree(12);
	assert.notEqual(a, b);
	assert.doesNotMatch(read(b, 'etc/dovecot/dovecot.conf'), /edited-by-test/);
	const dest = path.join(a, 'nested/root');
	assert.equal(await makeStockTree(12, dest), dest);
	assert.ok(fs.existsSync(path.join(dest, 'etc/postfix/master.cf')));
});

test('with opendkim: OpenDKIM as its package left it, binary included (the dkim stage looks for it); without, none of it', async () => {
	for (const release of [12, 13] as const) {
		const tree = await makeStockTree(release, undefined, {opendkim: true});
		assert.equal(read(tree, 'etc/opendkim.conf'), fs.readFileSync(path.join(rootDir(release), 'etc/opendkim.conf'), 'utf8'));
		assert.equal(fs.statSync(path.join(tree, 'etc/dkimkeys')).mode & 0o777, 0o700);
		assert.equal(md5(path.join(tree, 'usr/sbin/opendkim')), md5(path.join(rootDir(release), 'usr/sbin/opendkim')));
		assert.equal(fs.statSync(path.join(tree, 'usr/sbin/opendkim')).mode & 0o111, 0o111);
		const plain = await makeStockTree(release);
		assert.deepEqual(['etc/opendkim.conf', 'etc/dkimkeys', 'usr/sbin/opendkim'].filter(file => fs.existsSync(path.join(plain, file))), []);
	}
});

test("Debian 12 stock tree: Debian 12's doveconf accepts it, its postconf reads it", async () => {
	const tree = await makeStockTree(12);
	const plain = await inRoot(12, ['doveconf', '-n', '-c', path.join(tree, 'etc/dovecot/dovecot.conf')], {binds: [tree]});
	assert.equal(plain.exitCode, 0, plain.stderr);
	const n = await doveconf23(['-n'], tree);
	assert.equal(n.exitCode, 0, n.stderr);
	assert.match(n.stdout, /^# 2\.3\./);
	const postconf = await inRoot(12, ['postconf', '-c', path.join(tree, 'etc/postfix'), '-h', 'mydestination'], {binds: [tree]});
	assert.equal(postconf.exitCode, 0, postconf.stderr);
	assert.match(postconf.stdout, /mail\.example\.test/);
});

test('doveconf23 reads absolute paths from the tree, not from the root or this machine', async () => {
	const tree = await makeStockTree(12);
	// Replace the stock lines: -x opens every value as it parses, overridden ones too.
	editFile(tree, 'etc/dovecot/conf.d/10-ssl.conf', text => text
		.replace(/^ssl_cert = .*$/m, 'ssl_cert = </etc/ssl/certs/only-in-tree.crt')
		.replace(/^ssl_key = .*$/m, 'ssl_key = </etc/ssl/private/only-in-tree.key'));
	const missing = await doveconf23(['-x'], tree);
	assert.notEqual(missing.exitCode, 0);
	assert.match(missing.stderr, /only-in-tree\.crt/);
	fs.writeFileSync(path.join(tree, 'etc/ssl/certs/only-in-tree.crt'), 'CERT-FROM-TREE\n');
	fs.writeFileSync(path.join(tree, 'etc/ssl/private/only-in-tree.key'), 'KEY\n', {mode: 0o600});
	const found = await doveconf23(['-x', 'ssl_cert'], tree);
	assert.equal(found.exitCode, 0, found.stderr);
	assert.match(found.stdout, /CERT-FROM-TREE/);
	assert.ok(!fs.existsSync('/etc/ssl/certs/only-in-tree.crt'), 'nothing leaked onto this machine');
	assert.ok(!fs.existsSync(path.join(rootDir(12), 'etc/ssl/certs/only-in-tree.crt')), 'nothing written into the root');
});

test('Debian 13 stock tree: 2.4 files, and Dovecot 2.4 accepts them', async () => {
	const tree = await makeStockTree(13);
	const conf = read(tree, 'etc/dovecot/dovecot.conf');
	assert.match(conf.split('\n').find(line => /^[^#\s]/.test(line)) ?? '', /^dovecot_config_version = 2\.4\./);
	assert.ok(!fs.existsSync(path.join(tree, 'etc/dovecot/dovecot-sql.conf.ext')), '2.4 has no dovecot-sql.conf.ext');
	assert.match(read(tree, 'etc/dovecot/conf.d/20-lmtp.conf'), /^ {2}auth_username_format = %\{user \| username \| lower\}$/m);
	assert.match(read(tree, 'etc/dovecot/conf.d/10-ssl.conf'), /ssl_server_cert_file/);
	assertPackageDovecot(tree, path.join(rootDir(13), 'var/lib/ucf/hashfile'));
	assert.match(read(tree, 'etc/postfix/main.cf'), /^compatibility_level = 3\.9$/m);
	const n = await doveconf24(['-n'], tree);
	assert.equal(n.exitCode, 0, n.stderr);
	assert.match(n.stdout, /^# 2\.4\./);
	assert.match(n.stdout, /^dovecot_config_version = 2\.4\./m);
});

test('doveconf24 rejects 2.3 syntax and reads absolute paths from the tree', async () => {
	const tree = await makeStockTree(13);
	const old = await doveconf24(['-n'], await makeStockTree(12));
	assert.notEqual(old.exitCode, 0);
	assert.match(old.stderr, /dovecot_config_version/);

	editFile(tree, 'etc/dovecot/conf.d/10-ssl.conf', text => text
		.replace(/^ssl_server_cert_file = .*$/m, 'ssl_server_cert_file = /etc/ssl/certs/only-in-tree.crt')
		.replace(/^ssl_server_key_file = .*$/m, 'ssl_server_key_file = /etc/ssl/private/only-in-tree.key'));
	const missing = await doveconf24(['-x'], tree);
	assert.notEqual(missing.exitCode, 0);
	assert.match(missing.stderr, /only-in-tree/);
	fs.writeFileSync(path.join(tree, 'etc/ssl/certs/only-in-tree.crt'), 'CERT-FROM-TREE\n');
	fs.writeFileSync(path.join(tree, 'etc/ssl/private/only-in-tree.key'), 'KEY\n', {mode: 0o600});
	// 2.4's -x opens the file (above: missing is fatal) but prints its path, not its contents.
	const found = await doveconf24(['-x'], tree);
	assert.equal(found.exitCode, 0, found.stderr);
	assert.match(found.stdout, /^ {2}cert_file = \/etc\/ssl\/certs\/only-in-tree\.crt$/m);
	assert.ok(!fs.existsSync(path.join(rootDir(13), 'etc/ssl/certs/only-in-tree.crt')), 'nothing written into the root');
});
