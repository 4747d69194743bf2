import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {DiffView, lineColor} from '../source/ui/DiffView.tsx';
import {keys, tick, until} from './ui-keys.ts';

const lines = Array.from({length: 50}, (_, i) => `+line ${i + 1}`);
const shown = (frame: string) => frame.split('\n').filter(line => line.startsWith('+line')).map(line => Number(line.slice(6)));

test('a long diff shows a window and pages with ↓, PgDn, PgUp and ↑', async () => {
	const {stdin, lastFrame, unmount} = render(<DiffView lines={lines} height={10} />);
	let frame = await until(lastFrame, text => text.includes('lines 1–10 of 50'));
	assert.deepEqual(shown(frame), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	assert.match(frame, /↑\/↓ PgUp\/PgDn to scroll/);
	stdin.write(keys.down);
	frame = await until(lastFrame, text => text.includes('lines 2–11 of 50'));
	assert.deepEqual(shown(frame), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
	stdin.write(keys.pageDown);
	frame = await until(lastFrame, text => text.includes('lines 11–20 of 50'));
	assert.equal(shown(frame)[0], 11);
	for (let i = 0; i < 6; i++) {
		stdin.write(keys.pageDown);
		await tick(10);
	}
	frame = await until(lastFrame, text => text.includes('lines 41–50 of 50'));
	assert.deepEqual(shown(frame).at(-1), 50);
	stdin.write(keys.pageUp);
	await until(lastFrame, text => text.includes('lines 32–41 of 50'));
	stdin.write(keys.up);
	await until(lastFrame, text => text.includes('lines 31–40 of 50'));
	unmount();
});

test('a short diff is shown whole, without paging help', async () => {
	const {lastFrame, unmount} = render(<DiffView lines={['--- a/x', '+++ b/x', '@@ -1 +1 @@', '-old', '+new']} height={10} />);
	const frame = await until(lastFrame, text => text.includes('5 lines'));
	assert.match(frame, /-old\n\+new/);
	assert.doesNotMatch(frame, /PgDn/);
	unmount();
});

test('long lines are cut at the width, not wrapped (the window keeps its height)', async () => {
	const {lastFrame, unmount} = render(<DiffView lines={['+' + 'x'.repeat(300), '+short']} height={5} />);
	const frame = await until(lastFrame, text => text.includes('2 lines'));
	assert.equal(frame.split('\n').length, 3);
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
