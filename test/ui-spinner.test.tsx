import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {frames, Spinner} from '../source/ui/Spinner.tsx';
import {Header} from '../source/ui/Header.tsx';
import {tick, until} from './ui-keys.ts';

test('the spinner turns while the label stays', async () => {
	const {lastFrame, unmount} = render(<Spinner label="Applying: TLS certificate" />);
	const first = await until(lastFrame, text => text.includes('Applying: TLS certificate'));
	assert.ok(frames.some(frame => first.startsWith(frame)));
	await until(lastFrame, text => text !== first);
	assert.match(lastFrame()!, /Applying: TLS certificate/);
	unmount();
	await tick();
});

test('the header says dry run plainly, or live', async () => {
	const dry = render(<Header version="1.2.3" dryRun step="stage 2/11" />);
	assert.match(dry.lastFrame()!, /mail-setup 1\.2\.3 · stage 2\/11 · dry run: nothing will be changed/);
	dry.unmount();
	const live = render(<Header version="1.2.3" dryRun={false} />);
	assert.match(live.lastFrame()!, /live: changes are written/);
	assert.doesNotMatch(live.lastFrame()!, /dry run/);
	live.unmount();
});
