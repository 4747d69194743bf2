import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {DiffView, lineColor} from '../source/ui/DiffView.tsx';
import {wrap} from '../source/ui/wrap.ts';
import {keys, until} from './ui-keys.ts';

const lines = Array.from({length: 50}, (_, i) => `+line ${i + 1}`);
const shown = (frame: string) => frame.split('\n').filter(line => line.startsWith('+line')).map(line => Number(line.slice(6)));

test('a long diff shows a window and pages with ↓, PgDn, PgUp and ↑', async () => {
	const {stdin, lastFrame, unmount} = render(<DiffView lines={lines} height={11} width={80} />);
	let frame = await until(lastFrame, text => text.includes('lines 1–10 of 50'));
	assert.deepEqual(shown(frame), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	assert.match(frame, /lines 1–10 of 50 · ↑\/↓ PgUp\/PgDn$/);
	stdin.write(keys.down);
	frame = await until(lastFrame, text => text.includes('lines 2–11 of 50'));
	assert.deepEqual(shown(frame), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
	stdin.write(keys.pageDown);
	frame = await until(lastFrame, text => text.includes('lines 11–20 of 50'));
	assert.equal(shown(frame)[0], 11);
	stdin.write(keys.pageDown.repeat(6)); // a held PgDn: six keys in one read
	frame = await until(lastFrame, text => text.includes('lines 41–50 of 50'));
	assert.deepEqual(shown(frame).at(-1), 50);
	stdin.write(keys.pageUp);
	await until(lastFrame, text => text.includes('lines 32–41 of 50'));
	stdin.write(keys.up);
	await until(lastFrame, text => text.includes('lines 31–40 of 50'));
	stdin.write('jjj');
	await until(lastFrame, text => text.includes('lines 34–43 of 50'));
	stdin.write(keys.home);
	await until(lastFrame, text => text.includes('lines 1–10 of 50'));
	unmount();
});

test('a short diff is shown whole, without paging help', async () => {
	const {lastFrame, unmount} = render(<DiffView lines={['--- a/x', '+++ b/x', '@@ -1 +1 @@', '-old', '+new']} height={10} width={80} />);
	const frame = await until(lastFrame, text => text.includes('+new'));
	assert.equal(frame, '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new');
	unmount();
});

test('long lines wrap to the width, never cut; the pager counts and pages rows', async () => {
	const long = '+' + 'word '.repeat(60).trim();
	const {stdin, lastFrame, unmount} = render(<DiffView lines={[long, '+short']} height={3} width={40} />);
	const rows = wrap(long, 40).length + 1;
	let frame = await until(lastFrame, text => text.includes(`lines 1–2 of ${rows} ·`));
	assert.equal(frame.split('\n').length, 3, 'two rows and the position line');
	assert.match(frame, /^\+word word/);
	for (const line of frame.split('\n')) assert.ok(!line.endsWith('…') && line.length <= 40, line);
	stdin.write(keys.end);
	frame = await until(lastFrame, text => text.includes(`lines ${rows - 1}–${rows} of ${rows}`));
	assert.match(frame, /\+short/);
	unmount();
});

test('added lines are green, removed red, unless NO_COLOR is set', () => {
	const saved = process.env.NO_COLOR;
	delete process.env.NO_COLOR;
	assert.equal(lineColor('+a').color, 'green');
	assert.equal(lineColor('-a').color, 'red');
	assert.equal(lineColor('+++ b/x').color, undefined);
	process.env.NO_COLOR = '1';
	assert.equal(lineColor('+a').color, undefined);
	if (saved === undefined) delete process.env.NO_COLOR;
	else process.env.NO_COLOR = saved;
});
