import assert from 'node:assert/strict';
import {test} from 'node:test';
import {render} from 'ink-testing-library';
import {recordsFor} from '../source/dns/records.ts';
import {StartScreen} from '../source/ui/StartScreen.tsx';
import {Summary, type SummaryItem} from '../source/ui/Summary.tsx';
import {keys, tick, until} from './ui-keys.ts';

const items: SummaryItem[] = [
	{id: 'database', status: 'pass', message: 'connected', done: true},
	{id: 'postfix', status: 'fail', message: 'postfix check failed\nmore'},
	{id: 'check', status: 'skipped', message: 'not run: an earlier stage failed'},
];

test('the summary: every stage with its mark, backups, undo, DNS and the relay check', () => {
	const records = recordsFor({domain: 'example.test', fqdn: 'mail.example.test', postmaster: 'postmaster@example.test', selector: 'mail', addresses: ['203.0.113.2']});
	records[0]!.status = 'published';
	records[2]!.status = 'wrong';
	const {lastFrame, unmount} = render(<Summary items={items} dryRun={false} backups="/var/backups/mail-setup/2025" fqdn="mail.example.test" columns={80} records={records} />);
	const frame = lastFrame()!;
	assert.match(frame, /Failed: 1 passed, 1 failed, 1 skipped/);
	assert.match(frame, /✔ database +already done/);
	assert.match(frame, /✘ postfix +postfix check failed\n/);
	assert.match(frame, /– check +not run: an earlier stage failed/);
	assert.match(frame, /Backups of every changed file: \/var\/backups\/mail-setup\/2025/);
	assert.match(frame, /Undo this run: mail-setup undo/);
	assert.match(frame, /Still to do by you:/);
	assert.match(frame, /published +example\.test\. IN MX 10 mail\.example\.test\./);
	assert.match(frame, /not checked +mail\.example\.test\. IN A 203\.0\.113\.2/);
	assert.match(frame, /WRONG +example\.test\. IN TXT "v=spf1 mx a:mail\.example\.test -all"/);
	// Wrapped at the terminal's width: a long record goes on under itself on the next row.
	assert.match(frame, /\n {15}rua=mailto:postmaster@example\.test"/);
	const joined = frame.replace(/\s+/g, ' ');
	assert.match(joined, /_dmarc\.example\.test\. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example\.test"/);
	assert.match(joined, /2\.113\.0\.203\.in-addr\.arpa\. IN PTR mail\.example\.test\. \(ask your hosting provider\)/);
	assert.match(frame, /npx mail-setup check --check-host mail\.example\.test/);
	unmount();
});

test('a dry run summary says what would change and that nothing was changed, and never "passed"', () => {
	const planned: SummaryItem[] = [
		{id: 'database', status: 'planned', message: 'would run 3 SQL statements', wouldChange: true},
		{id: 'lda', status: 'planned', message: 'already done: nothing would change', done: true},
		{id: 'postfix', status: 'planned', message: 'would change 2 files', wouldChange: true},
	];
	const {lastFrame, unmount} = render(<Summary items={planned} dryRun fqdn="mail.example.test" columns={80} />);
	assert.match(lastFrame()!, /^Dry run: 2 stages would change something, 1 would not; nothing was changed$/m);
	assert.match(lastFrame()!, /○ database +would run 3 SQL statements/);
	assert.match(lastFrame()!, /○ lda +already done/);
	assert.match(lastFrame()!, /dry run: nothing was changed/);
	assert.doesNotMatch(lastFrame()!, /\bPASS\b|\bpassed\b/);
	assert.doesNotMatch(lastFrame()!, /mail-setup undo/);
	unmount();
});

test('under --root, the undo command names the tree', () => {
	const {lastFrame, unmount} = render(<Summary items={items} dryRun={false} backups="/t/var/backups/mail-setup/x" root="/t" fqdn="mail.example.test" columns={80} />);
	assert.match(lastFrame()!, /Undo this run: mail-setup undo --root \/t/);
	unmount();
});

test('the start screen: mode, target, versions (missing ones too), stage states; Enter starts', async () => {
	let choice: string | undefined;
	const {stdin, lastFrame, unmount} = render(
		<StartScreen
			dryRun
			root="/tmp/tree"
			isRoot={false}
			versions={{Dovecot: '2.3.19.1', Postfix: '3.7.11', MariaDB: null, OpenSSL: undefined}}
			stages={[
				{id: 'database', title: 'Database', state: 'skipped'},
				{id: 'lda', title: 'LDA', state: 'done'},
				{id: 'postfix', title: 'Postfix', state: 'todo'},
				{id: 'dkim', title: 'DKIM', state: 'skipped', note: 'OpenDKIM is not installed: apt-get install opendkim opendkim-tools'},
				{id: 'check', title: 'Checks', state: 'checking'},
			]}
			onChoice={value => (choice = value)}
		/>,
	);
	const frame = lastFrame()!;
	assert.match(frame, /dry run: every change is shown, none is made/);
	assert.match(frame, /the tree under \/tmp\/tree/);
	assert.match(frame, /not root/);
	assert.match(frame, /Dovecot 2\.3\.19\.1/);
	assert.match(frame, /MariaDB not found/);
	assert.match(frame, /OpenSSL checking/);
	assert.match(frame, /lda +✔ already done/);
	assert.match(frame, /postfix +to do/);
	assert.match(frame, /database +– not run/);
	assert.match(frame, /dkim +– not run/);
	assert.match(frame, /^dkim: OpenDKIM is not installed: apt-get install opendkim opendkim-tools$/m);
	stdin.write(keys.enter);
	await tick();
	assert.equal(choice, 'start');
	unmount();
});

test('the start screen in a short terminal: the stage list scrolls with the cursor and says so', async () => {
	const ids = ['database', 'dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission', 'reload', 'check'] as const;
	const {stdin, lastFrame, unmount} = render(
		<StartScreen
			dryRun
			root="/"
			isRoot
			versions={{Dovecot: '2.3.19.1', Postfix: '3.7.11', MariaDB: '10.11.6', OpenSSL: '3.0.15'}}
			stages={ids.map(id => ({id, title: id, state: 'todo' as const}))}
			onChoice={() => {}}
			rows={16}
			columns={80}
		/>,
	);
	let frame = lastFrame()!;
	assert.match(frame, /stages 1–4 of 11 · ↑\/↓/);
	assert.ok(frame.split('\n').length <= 16, frame);
	stdin.write(keys.down.repeat(6));
	frame = await until(lastFrame, text => text.includes('stages 5–8 of 11'));
	assert.match(frame, /▸ dovecot-ssl/);
	unmount();
});
