import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {unifiedDiff} from '../source/diff.ts';

/** GNU patch must turn old into new with our diff: the strongest check of hunk headers. */
function roundTrip(oldText: string, newText: string) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-'));
	fs.writeFileSync(path.join(dir, 'f'), oldText);
	const diff = unifiedDiff(oldText, newText, '/f');
	execFileSync('patch', ['-s', '-p1', '-d', dir], {input: diff.replaceAll('a/f', 'a/f').replace('+++ b/f', '+++ b/f')});
	assert.equal(fs.readFileSync(path.join(dir, 'f'), 'utf8'), newText);
}

test('equal texts give no diff', () => {
	assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', '/x'), '');
});

test('one changed line in a long file gives one small hunk', () => {
	const lines = Array.from({length: 100}, (_, i) => `line ${i}`);
	const changed = [...lines];
	changed[50] = 'port = 0';
	const diff = unifiedDiff(lines.join('\n') + '\n', changed.join('\n') + '\n', '/etc/x.conf');
	assert.match(diff, /^--- a\/etc\/x.conf\n\+\+\+ b\/etc\/x.conf\n@@ -48,7 \+48,7 @@\n/);
	assert.ok(diff.includes('-line 50\n+port = 0\n'));
	assert.equal(diff.split('\n').filter(l => l.startsWith('@@')).length, 1);
});

test('a new file diffs against /dev/null', () => {
	assert.equal(unifiedDiff('', 'a\nb\n', '/new', false), '--- /dev/null\n+++ b/new\n@@ -0,0 +1,2 @@\n+a\n+b\n');
});

test('patch(1) applies our diffs exactly', () => {
	const base = Array.from({length: 40}, (_, i) => `l${i}`);
	roundTrip(base.join('\n') + '\n', base.map((l, i) => (i % 13 === 0 ? l + ' changed' : l)).join('\n') + '\n');
	roundTrip(base.join('\n') + '\n', [...base.slice(0, 5), 'inserted', ...base.slice(5, 30), ...base.slice(32)].join('\n') + '\n');
	roundTrip('a\nb\nc\n', 'x\n');
	roundTrip('a\nb', 'a\nb\nc\n');
});
