import assert from 'node:assert/strict';
import {test} from 'node:test';
import {wrap, wrapLines} from '../source/ui/wrap.ts';

test('a short line stays one row; tabs count as four spaces', () => {
	assert.deepEqual(wrap('short', 80), ['short']);
	assert.deepEqual(wrap('\tx', 80), ['    x']);
	assert.deepEqual(wrap('', 80), ['']);
});

test('long lines break at spaces, continuation rows hang below the text, nothing is lost', () => {
	const sql = "SQL> CREATE USER IF NOT EXISTS `mailuser`@`localhost` IDENTIFIED BY PASSWORD '***';";
	const rows = wrap(sql, 40);
	assert.deepEqual(rows, ['SQL> CREATE USER IF NOT EXISTS', "  `mailuser`@`localhost` IDENTIFIED BY", "  PASSWORD '***';"]);
	for (const row of rows) assert.ok(row.length <= 40);
	assert.equal(rows.map(row => row.trim()).join(' '), sql);
	assert.deepEqual(wrap('    indented words here', 14), ['    indented', '      words', '      here']);
	assert.deepEqual(wrap('x: a b', 4, 0), ['x: a', 'b'], 'a given hang');
});

test('a word longer than the row is cut at the width, never dropped', () => {
	const path = '/etc/dovecot/conf.d/' + 'x'.repeat(70);
	const rows = wrap(`create ${path}`, 30);
	for (const row of rows) assert.ok([...row].length <= 30, row);
	assert.equal(rows.map(row => row.trim()).join(''), `create${path}`);
});

test('wrapLines keeps which line each row came from', () => {
	assert.deepEqual(wrapLines(['+aaa bbb', '-c'], 5), [
		{text: '+aaa', line: 0},
		{text: '  bbb', line: 0},
		{text: '-c', line: 1},
	]);
});
