// The dkim stage on stock Debian 12 and 13 trees (their /etc from the cached roots): what it writes, that the
// release's own opendkim and postconf accept it, the private key masked in the diff, kept on rerun, undo.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {undoLastRun} from '../source/host/journal.ts';
import {runStages} from '../source/run.ts';
import {dkim, dkimPublicKey, MILTER} from '../source/stages/dkim.ts';
import type {StageResult} from '../source/types.ts';
import {tempDir} from './helpers/proc.ts';
import {rootDir} from './helpers/roots.ts';
import {fingerprint as treeFingerprint} from './helpers/tree.ts';

/** What the packages left in /etc of a release's root, plus /usr/sbin/opendkim when wanted (the stage looks for it). */
function stockTree(release: 12 | 13, opendkim = true): string {
	const root = rootDir(release);
	const tree = tempDir(`dkim-tree${release}`);
	fs.mkdirSync(path.join(tree, 'etc'));
	for (const name of ['postfix', 'opendkim.conf', 'dkimkeys', 'passwd', 'group']) execFileSync('cp', ['-a', path.join(root, 'etc', name), path.join(tree, 'etc')]);
	fs.mkdirSync(path.join(tree, 'var/spool/postfix'), {recursive: true});
	if (opendkim) {
		fs.mkdirSync(path.join(tree, 'usr/sbin'), {recursive: true});
		fs.copyFileSync(path.join(root, 'usr/sbin/opendkim'), path.join(tree, 'usr/sbin/opendkim'));
	}
	return tree;
}

/** A command of the release, chrooted into an overlay of its root with the tree's files on top (a private mount namespace: nothing leaks). */
function inRelease(release: 12 | 13, tree: string, argv: string[]) {
	const work = tempDir('dkim-overlay');
	const script = String.raw`
set -e
root=$1 tree=$2 work=$3
shift 3
mkdir -p "$work/u" "$work/w" "$work/m"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/u,workdir=$work/w" "$work/m"
cp -a "$tree/etc/." "$work/m/etc/"
cp -a "$tree/var/." "$work/m/var/"
exec chroot "$work/m" "$@"`;
	const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', rootDir(release), tree, work, ...argv], {encoding: 'utf8', env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C'}});
	return {code: run.status, stdout: run.stdout, stderr: run.stderr};
}

/** Content, mode and owner of every file below dir. */
const fingerprint = (dir: string) => treeFingerprint(dir, {skip: ['var/backups']});

const answers = withDefaults({fqdn: 'mail.example.test'});
const run = async (tree: string, a = answers): Promise<StageResult> => (await runStages([dkim], {answers: a, host: new Host({root: tree})})).stages[0]!;
const idOf = (tree: string, file: 'passwd' | 'group', name: string) =>
	Number(fs.readFileSync(path.join(tree, 'etc', file), 'utf8').match(new RegExp(`^${name}:[^:]*:(\\d+):`, 'm'))![1]);

for (const release of [12, 13] as const) {
	test(`Debian ${release}: key, tables, socket and milter in place; opendkim -n and postconf accept them; rerun changes nothing; undo restores`, async () => {
		const tree = stockTree(release);
		const pristine = fingerprint(tree);
		const stockConf = fs.readFileSync(path.join(tree, 'etc/opendkim.conf'), 'utf8');

		const first = await run(tree);
		assert.equal(first.status, 'pass', first.message);
		const key = path.join(tree, 'etc/dkimkeys/mail.private');
		const pem = fs.readFileSync(key, 'utf8');
		assert.ok(dkimPublicKey(pem), 'an RSA key');
		const s = fs.statSync(key);
		assert.equal(s.mode & 0o7777, 0o600);
		assert.equal(s.uid, idOf(tree, 'passwd', 'opendkim'));
		// The key is never shown: its diff holds a mask, not a line of the PEM.
		const keyDiff = first.changes.find(change => change.path === '/etc/dkimkeys/mail.private')!.diff;
		assert.ok(!keyDiff.includes(pem.split('\n')[1]!), keyDiff);
		assert.ok(!/PRIVATE KEY/.test(keyDiff.replace(/\(private key[^)]*\)/g, '')), keyDiff);

		assert.equal(fs.readFileSync(path.join(tree, 'etc/opendkim/key.table'), 'utf8'), 'mail._domainkey.example.test example.test:mail:/etc/dkimkeys/mail.private\n');
		assert.equal(fs.readFileSync(path.join(tree, 'etc/opendkim/signing.table'), 'utf8'), 'example.test mail._domainkey.example.test\n');
		const conf = fs.readFileSync(path.join(tree, 'etc/opendkim.conf'), 'utf8');
		assert.match(conf, /^KeyTable\t\/etc\/opendkim\/key\.table$/m);
		assert.match(conf, /^SigningTable\t\/etc\/opendkim\/signing\.table$/m);
		assert.match(conf, /^Socket\t+local:\/var\/spool\/postfix\/opendkim\/opendkim\.sock$/m);
		assert.doesNotMatch(conf, /^Socket\s+local:\/run/m);
		// Everything else of the stock file is still there, byte for byte.
		const kept = stockConf.split('\n').filter(l => !/^Socket\s/.test(l));
		for (const l of kept) assert.ok(conf.split('\n').includes(l), `kept: ${l}`);

		const dir = fs.statSync(path.join(tree, 'var/spool/postfix/opendkim'));
		assert.equal(dir.mode & 0o7777, 0o2750);
		assert.deepEqual([dir.uid, dir.gid], [idOf(tree, 'passwd', 'opendkim'), idOf(tree, 'group', 'postfix')]);

		const check = inRelease(release, tree, ['opendkim', '-n']);
		assert.equal(check.code, 0, check.stderr);
		const milters = inRelease(release, tree, ['postconf', '-h', 'smtpd_milters', 'non_smtpd_milters', 'milter_default_action']);
		assert.deepEqual(milters.stdout.trim().split('\n'), [MILTER, MILTER, 'accept'], milters.stderr);
		assert.equal(inRelease(release, tree, ['postconf', '-n']).stderr, '', 'postconf has no complaint');

		const before = fingerprint(tree);
		const again = await run(tree);
		assert.equal(again.status, 'pass', again.message);
		assert.deepEqual(again.changes, []);
		assert.equal(fingerprint(tree), before, 'rerun: not a byte, mode or owner changed; the key is kept');

		const restored = await undoLastRun(path.join(tree, 'var/backups/mail-setup'));
		assert.ok(restored?.includes('/etc/dkimkeys/mail.private'));
		assert.equal(fingerprint(tree), pristine, 'undo: the stock tree, byte for byte, the socket directory gone');
	});
}

test('without OpenDKIM the stage is skipped with the apt command, and changes nothing', async () => {
	const tree = stockTree(12, false);
	const before = fingerprint(tree);
	const result = await run(tree);
	assert.equal(result.status, 'skipped');
	assert.match(result.message, /OpenDKIM is not installed.*apt-get install opendkim opendkim-tools/);
	assert.deepEqual(result.changes, []);
	assert.equal(fingerprint(tree), before);
});

test('another selector; a milter already there stays; a rerun reads the selector back', async () => {
	const tree = stockTree(13);
	const mainCf = path.join(tree, 'etc/postfix/main.cf');
	fs.appendFileSync(mainCf, 'smtpd_milters = inet:localhost:11332\n');
	const result = await run(tree, {...answers, dkimSelector: 's2024'});
	assert.equal(result.status, 'pass', result.message);
	assert.ok(dkimPublicKey(fs.readFileSync(path.join(tree, 'etc/dkimkeys/s2024.private'), 'utf8')));
	assert.match(fs.readFileSync(mainCf, 'utf8'), new RegExp(`^smtpd_milters = inet:localhost:11332, ${MILTER}$`, 'm'));
	assert.match(fs.readFileSync(path.join(tree, 'etc/opendkim/signing.table'), 'utf8'), /^example\.test s2024\._domainkey\.example\.test$/m);
	const {readBack} = await import('../source/resolve.ts');
	assert.equal((await readBack(new Host({root: tree}), '2.4')).dkimSelector, 's2024');
});

test('a dry run makes no key and writes nothing', async () => {
	const tree = stockTree(12);
	const before = fingerprint(tree);
	const report = await runStages([dkim], {answers, host: new Host({root: tree, dryRun: true})});
	const result = report.stages[0]!;
	assert.notEqual(result.status, 'fail', result.message);
	assert.ok(result.changes.some(change => change.path === '/etc/dkimkeys/mail.private' && change.action === 'create'));
	assert.ok(result.changes.some(change => change.path === '/var/spool/postfix/opendkim' && /new directory, mode 02750, owner opendkim:postfix/.test(change.diff)));
	assert.equal(fingerprint(tree), before);
	assert.ok(!report.records.some(r => r.value.startsWith('v=DKIM1')), 'no key yet, so no DKIM record to publish');
});
