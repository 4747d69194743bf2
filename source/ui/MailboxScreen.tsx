// `mail-setup mailbox` in a terminal: the mailboxes and aliases of each domain, with keys to add, change a
// password and remove. What a key does is ../admin/screen.ts; carrying a change out is ../admin/run.ts.
import {Box, render, Text, useStdout} from 'ink';
import {findDatabase, perform, readSnapshot} from '../admin/run.js';
import type {Row, RunEffect, ScreenState} from '../admin/screen.js';
import {labelOf, screenKey, startScreen} from '../admin/screen.js';
import type {Host} from '../host/host.js';
import {plural} from '../words.js';
import {PasswordLines} from './Ask.js';
import {windowStart} from './DiffView.js';
import {Header} from './Header.js';
import {Spinner} from './Spinner.js';
import {Prompt} from './TextField.js';
import {tint} from './theme.js';
import {useKeys, useKeyState} from './useKeys.js';

export const keyHelp = 'a add mailbox · l add alias · d add domain · p password · r remove · q quit';

function RowLine({row, selected}: {row: Row; selected: boolean}) {
	const pointer = selected ? <Text color={tint('cyan')}>{'▸ '}</Text> : '  ';
	switch (row.kind) {
		case 'domain':
			return (
				<Text>
					{pointer}
					<Text bold inverse={selected}>
						{row.name}
					</Text>
					<Text dimColor>{`  ${plural(row.mailboxes, 'mailbox')}, ${plural(row.aliases, 'alias')}`}</Text>
				</Text>
			);
		case 'mailbox':
			return (
				<Text>
					{pointer}
					{'  ✉ '}
					<Text inverse={selected}>{row.address}</Text>
					<Text dimColor>{`  ${row.maildir}`}</Text>
				</Text>
			);
		case 'alias':
			return (
				<Text>
					{pointer}
					{'  ↪ '}
					<Text inverse={selected}>{`${row.source} → ${row.destination}`}</Text>
				</Text>
			);
	}
}

/** The question, confirmation or spinner below the list. */
function ModeArea({state}: {state: ScreenState}) {
	const {mode} = state;
	switch (mode.kind) {
		case 'browse':
			return null;
		case 'busy':
			return <Spinner label="Working…" />;
		case 'confirm':
			return (
				<Text bold>
					{mode.question} <Text dimColor>[y/N]</Text>
				</Text>
			);
		case 'password':
			return <PasswordLines address={mode.address} entry={mode.entry} hint="Enter to accept · Esc to go back" />;
		case 'field':
			return <Prompt label={labelOf(mode)} line={mode.line} error={mode.error} hint="Enter to accept · Esc to go back" />;
	}
}

export interface MailboxScreenProps {
	initial: ScreenState;
	version: string;
	dryRun: boolean;
	/** Carry out a change; resolves with the screen after it (the rows read again, what happened). */
	perform(state: ScreenState, effect: RunEffect): Promise<ScreenState>;
	onQuit(): void;
}

export function MailboxScreen({initial, version, dryRun, perform, onQuit}: MailboxScreenProps) {
	const [state, shown, set] = useKeyState(initial);
	useKeys(key => {
		const step = screenKey(state.current, key);
		if (step.state !== state.current) set(step.state);
		if (step.effect?.kind === 'quit') onQuit();
		else if (step.effect) void perform(step.state, step.effect).then(set);
	});
	const {stdout} = useStdout();
	const height = Math.max(3, (stdout.rows || 24) - 8 - (shown.message?.lines.length ?? 0));
	// The window of rows keeps the cursor in view.
	const start = windowStart(shown.cursor, shown.rows.length, height);
	const window = shown.rows.slice(start, start + height);
	return (
		<Box flexDirection="column">
			<Header version={version} dryRun={dryRun} step="mailboxes" />
			<Text> </Text>
			{shown.rows.length === 0 ? <Text dimColor>No domains yet: d adds one.</Text> : undefined}
			{window.map((row, i) => (
				<RowLine key={start + i} row={row} selected={start + i === shown.cursor} />
			))}
			{shown.rows.length > window.length ? <Text dimColor>{`rows ${start + 1}–${start + window.length} of ${shown.rows.length}`}</Text> : undefined}
			<Text> </Text>
			<ModeArea state={shown} />
			{shown.message?.lines.map((line, i) => (
				<Text key={i} color={i === 0 ? tint(shown.message!.ok ? 'green' : 'red') : undefined} dimColor={i > 0}>
					{i === 0 ? (shown.message!.ok ? '✔ ' : '✘ ') : '  '}
					{line}
				</Text>
			))}
			{shown.mode.kind === 'browse' ? <Text dimColor>{keyHelp}</Text> : undefined}
		</Box>
	);
}

/** `mail-setup mailbox`: the screen until q. A database it cannot reach is a DbError before the screen opens. */
export async function runMailboxScreen(host: Host, version: string): Promise<void> {
	const target = await findDatabase(host);
	const initial = startScreen(await readSnapshot(target));
	return new Promise(resolve => {
		const instance = render(
			<MailboxScreen
				initial={initial}
				version={version}
				dryRun={host.dryRun}
				perform={(state, effect) => perform(host, target, state, effect)}
				onQuit={() => {
					instance.unmount();
					void instance.waitUntilExit().then(() => resolve());
				}}
			/>,
			{exitOnCtrlC: false},
		);
	});
}
