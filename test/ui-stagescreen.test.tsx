import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import type {StageResult} from '../source/types.ts';
import {changeLines, type Choice, StageResultView, StageRunning, StageScreen, type TrailItem, trailLines} from '../source/ui/StageScreen.tsx';
import {keys, tick, until} from './ui-keys.ts';

const stage = {index: 3, total: 11, id: 'dovecot-master' as const, title: 'Dovecot listeners'};
const trail: TrailItem[] = [
	{id: 'database', state: 'pass'},
	{id: 'dovecot-sql', state: 'fail'},
	{id: 'permissions', state: 'skipped'},
	{id: 'dovecot-master', state: 'current'},
	{id: 'lda', state: 'pending'},
];
const change = {path: '/etc/dovecot/conf.d/10-master.conf', action: 'modify' as const, diff: '--- a/etc/x\n+++ b/etc/x\n@@ -1,2 +1,2 @@\n-old\n+new\n'};

function confirm(rows = 30, diff = change.diff) {
	let choice: Choice | undefined;
	const view = render(
		<StageScreen
			stage={stage}
			trail={trail}
			changes={[{...change, diff}]}
			commands={[{argv: ['doveadm', 'reload'], why: 'pick up the listeners'}]}
			notes={['a note']}
			dryRun
			rows={rows}
			columns={80}
			onChoice={value => (choice = value)}
		/>,
	);
	return {...view, choice: () => choice};
}

test('the confirm screen shows the stage, its diff and commands, and says dry run', async () => {
	const {lastFrame, unmount} = confirm();
	const frame = await until(lastFrame, text => text.includes('Stage 4 of 11'));
	assert.match(frame, /✔ database {2}✘ dovecot-sql {2}– permissions {2}▸ dovecot-master {2}· lda/);
	assert.match(frame, /Stage 4 of 11: dovecot-master · Dovecot listeners/);
	assert.match(frame, /══ modify \/etc\/dovecot\/conf\.d\/10-master\.conf/);
	assert.match(frame, /-old\n\+new/);
	assert.match(frame, /\$ doveadm reload {3}# pick up the listeners/);
	assert.match(frame, /· a note/);
	assert.match(frame, /Enter go on · a go on through every following stage · s skip · q quit/);
	unmount();
});

for (const [key, expected] of [[keys.enter, 'apply'], ['a', 'all'], ['s', 'skip'], ['q', 'quit']] as const) {
	test(`confirm: ${JSON.stringify(key)} means ${expected}`, async () => {
		const {stdin, choice, unmount} = confirm();
		await tick();
		stdin.write(key);
		await tick();
		assert.equal(choice(), expected);
		unmount();
	});
}

test('a long diff pages inside the screen, which stays within the terminal height', async () => {
	const long = Array.from({length: 120}, (_, i) => `+line ${i}`).join('\n');
	const {stdin, lastFrame, unmount} = confirm(24, long);
	let frame = await until(lastFrame, text => /lines 1–\d+ of \d+/.test(text));
	assert.ok(frame.split('\n').length <= 24, `frame has ${frame.split('\n').length} lines`);
	stdin.write(keys.pageDown);
	frame = await until(lastFrame, text => !/lines 1–/.test(text));
	assert.match(frame, /lines \d+–\d+ of \d+/);
	unmount();
});

test('the trail wraps at the width', () => {
	const many: TrailItem[] = ['database', 'dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission', 'reload', 'check'].map(id => ({id: id as TrailItem['id'], state: 'pending'}));
	const lines = trailLines(many, 80);
	assert.equal(lines.length, 2);
	for (const line of lines) assert.ok(line.reduce((sum, item) => sum + item.id.length + 4, 0) <= 80);
});

test('the running screen shows a spinner and the live lines', async () => {
	const {lastFrame, unmount} = render(<StageRunning stage={stage} trail={trail} label="Applying: reload" lines={['$ dovecot stop', '$ dovecot']} rows={20} columns={80} />);
	const frame = await until(lastFrame, text => text.includes('Applying: reload'));
	assert.match(frame, /\$ dovecot stop\n {2}\$ dovecot/);
	unmount();
});

test('the result screen: verdict, what changed, message; a failure says why and what to do', async () => {
	const failed: StageResult = {
		id: 'dovecot-master',
		status: 'fail',
		changes: [change],
		commands: ['doveconf -n'],
		message: 'rejected by the validator:\ndoveconf: Error: line 3: unknown setting\nrestored from backup: /etc/dovecot/conf.d/10-master.conf',
	};
	let next: string | undefined;
	const {stdin, lastFrame, unmount} = render(
		<StageResultView stage={stage} trail={trail} result={failed} dryRun={false} next="summary" rows={30} columns={80} onNext={value => (next = value)} />,
	);
	const frame = await until(lastFrame, text => text.includes('FAIL'));
	// The reason first, then what to do, then the details.
	assert.match(frame, /✘ FAIL\nrejected by the validator:\ndoveconf: Error: line 3: unknown setting\nrestored from backup: \/etc\/dovecot\/conf\.d\/10-master\.conf\n\nWhat to do: fix the cause above, then run: mail-setup dovecot-master\nNothing of this stage is left half-written/);
	assert.match(frame, /Details:\nChanged:\n {2}modify \/etc\/dovecot\/conf\.d\/10-master\.conf\nRan:\n {2}\$ doveconf -n/);
	assert.match(frame, /Enter summary · q quit/);
	stdin.write(keys.enter);
	await tick();
	assert.equal(next, 'next');
	unmount();
	// A dry run never passes: the engine says 'planned'.
	{
		const planned = render(
			<StageResultView stage={stage} trail={trail} result={{...failed, status: 'planned', message: 'would change 1 file'}} dryRun next="next stage" rows={30} columns={80} onNext={() => {}} />,
		);
		assert.match(planned.lastFrame()!, /○ PLANNED \(dry run\) · would change 1 file/);
		assert.match(planned.lastFrame()!, /Would change:/);
		assert.match(planned.lastFrame()!, /Enter next stage · a go on through every following stage · q quit/);
		assert.doesNotMatch(planned.lastFrame()!, /\bPASS\b|\bpassed\b/);
		planned.unmount();
	}
});

test('changeLines: notes, files, then the commands', () => {
	assert.deepEqual(changeLines([change], [{argv: ['postfix', 'check']}], ['a note']), [
		'· a note',
		'',
		'══ modify /etc/dovecot/conf.d/10-master.conf',
		'--- a/etc/x',
		'+++ b/etc/x',
		'@@ -1,2 +1,2 @@',
		'-old',
		'+new',
		'',
		'══ what it will run',
		'$ postfix check',
	]);
});

test('at 80x24 nothing is cut: long SQL, long file lists and a long reason wrap, and page', async () => {
	const reason = `access denied for database user mailuser over the Unix socket /run/mysqld/mysqld.sock (as Dovecot): check the database user and password (--db-create creates a missing user but never changes an existing one's password)`;
	const files = Array.from({length: 6}, (_, i) => ({path: `/etc/postfix/mysql-virtual-mailbox-domains-${'x'.repeat(40)}-${i}.cf`, action: 'create' as const, diff: '+x\n'}));
	const sql = "SQL> INSERT INTO `mailserver`.virtual_users (domain_id, email, password) SELECT id, 'test@example.test', '***' FROM `mailserver`.virtual_domains WHERE name = 'example.test' LIMIT 1;";
	const failed: StageResult = {id: 'database', status: 'fail', changes: files, commands: [sql], message: `${reason}\n${'details '.repeat(30)}`};
	const views = [
		render(<StageResultView stage={stage} trail={trail} result={failed} dryRun={false} next="summary" rows={22} columns={80} onNext={() => {}} />),
		render(<StageScreen stage={stage} trail={trail} changes={files} commands={[{argv: [sql]}]} notes={[reason]} dryRun={false} rows={22} columns={80} onChoice={() => {}} />),
	];
	const frames: string[] = [];
	for (const view of views) {
		const frame = await until(view.lastFrame, text => text.includes('lines 1–'));
		frames.push(frame);
		const lines = frame.split('\n');
		assert.ok(lines.length <= 22, `${lines.length} rows`);
		for (const line of lines) {
			assert.ok(!line.endsWith('…'), line);
			assert.ok([...line].length <= 80, line);
		}
		view.unmount();
	}
	// The reason is whole, first, before what to do (the frame as shown, not what is left after unmount).
	const first = frames[0]!;
	assert.match(first, /✘ FAIL\naccess denied for database user mailuser over the Unix socket\n {2}\/run\/mysqld\/mysqld\.sock \(as Dovecot\): check the database user and password\n {2}\(--db-create creates a missing user but never changes an existing one's\n {2}password\)\n/);
	assert.match(first, /\nWhat to do: fix the cause above, then run: mail-setup database\n[^]*lines 1–/, 'what to do is on the first page');
});
