// `npm test` where it cannot work stops at once with one line saying what is missing and how to run it.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import {execSync, tempDir} from './helpers/proc.ts';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function run(argv: string[], env: Record<string, string> = {}) {
	const result = execSync(argv, {env: {PATH, HOME: '/tmp', ...env}, timeout: 20_000});
	return {...result, lines: result.stderr.trim().split('\n')};
}

test('not root: one line, exit 1, before anything runs', () => {
	for (const mode of ['all', 'unit', 'e2e']) {
		const result = run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', 'test/setup/run.sh', mode]);
		assert.equal(result.exitCode, 1, mode);
		assert.equal(result.stdout, '', mode);
		assert.equal(result.lines.length, 1, result.stderr);
		assert.match(result.lines[0]!, /^npm (test|run test:(unit|e2e)): run it as root \(sudo npm (test|run test:(unit|e2e))\)/);
	}
});

test('unit tests without the roots: one line naming them and how to build them', () => {
	const result = run(['bash', 'test/setup/run.sh', 'unit'], {MAIL_SETUP_TEST_CACHE: '/nonexistent/cache'});
	assert.equal(result.exitCode, 1);
	assert.equal(result.stdout, '');
	assert.deepEqual(result.lines, ['npm run test:unit: no Debian 12 root in /nonexistent/cache/roots: run npm test once (it builds them), or bash test/setup/roots.sh']);
});

test('no apt-get: npm test says it needs a Debian or Ubuntu machine', () => {
	// A PATH with what the script needs before that question, and no apt-get.
	const bin = tempDir('noapt');
	fs.symlinkSync('/usr/bin/dirname', path.join(bin, 'dirname'));
	const result = run(['/bin/bash', 'test/setup/run.sh', 'all'], {PATH: bin});
	assert.equal(result.exitCode, 1);
	assert.equal(result.lines.length, 1, result.stderr);
	assert.match(result.lines[0]!, /^npm test: needs a Debian or Ubuntu machine \(apt-get\)/);
});
