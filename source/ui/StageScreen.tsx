// One stage: what it will change (confirm), the spinner while it runs, and its verdict.
import {Box, Text, useInput} from 'ink';
import type {ChangeReport, Command, StageId, StageResult, Status} from '../types.js';
import {DiffView} from './DiffView.js';
import {Spinner} from './Spinner.js';
import {markColor, marks, tint} from './theme.js';

export interface TrailItem {
	id: StageId;
	state: Status | 'current' | 'pending';
}

/** Every stage with its mark, wrapped to the terminal's width: how far along we are. */
export function trailLines(items: TrailItem[], width: number): TrailItem[][] {
	const lines: TrailItem[][] = [[]];
	let used = 0;
	for (const item of items) {
		const size = item.id.length + 4;
		if (used + size > width && lines.at(-1)!.length > 0) {
			lines.push([]);
			used = 0;
		}
		lines.at(-1)!.push(item);
		used += size;
	}
	return lines;
}

export function Trail({items, width}: {items: TrailItem[]; width: number}) {
	return (
		<Box flexDirection="column">
			{trailLines(items, width).map((line, i) => (
				<Text key={i}>
					{line.map(item => {
						const color = item.state === 'current' ? 'cyan' : item.state === 'pending' ? undefined : markColor[item.state];
						return (
							<Text key={item.id} color={color && tint(color)} dimColor={item.state === 'pending'} bold={item.state === 'current'}>
								{marks[item.state]} {item.id}
								{'  '}
							</Text>
						);
					})}
				</Text>
			))}
		</Box>
	);
}

export interface StageInfo {
	index: number; // 0-based
	total: number;
	id: StageId;
	title: string;
}

/** The top of every stage screen: where the run is, then which stage this is. */
function Heading({stage, trail, columns}: {stage: StageInfo; trail: TrailItem[]; columns: number}) {
	return (
		<>
			<Trail items={trail} width={columns} />
			<Text> </Text>
			<Text wrap="truncate-end">
				<Text bold>
					Stage {stage.index + 1} of {stage.total}: {stage.id}
				</Text>
				{' · '}
				{stage.title}
			</Text>
		</>
	);
}

/** The lines the confirm screen pages through: each file's diff, then the commands. */
export function changeLines(changes: ChangeReport[], commands: Command[]): string[] {
	const lines: string[] = [];
	for (const change of changes) {
		lines.push(`══ ${change.action} ${change.path}`, ...change.diff.trimEnd().split('\n'), '');
	}
	if (commands.length) {
		lines.push('══ commands it will run');
		for (const command of commands) lines.push(`$ ${command.argv.join(' ')}${command.why ? `   # ${command.why}` : ''}`);
	}
	if (lines.at(-1) === '') lines.pop();
	return lines;
}

export type Choice = 'apply' | 'skip' | 'quit';

export interface StageScreenProps {
	stage: StageInfo;
	trail: TrailItem[];
	changes: ChangeReport[];
	commands: Command[];
	notes: string[];
	dryRun: boolean;
	rows: number;
	columns: number;
	onChoice(choice: Choice): void;
}

export function StageScreen({stage, trail, changes, commands, notes, dryRun, rows, columns, onChoice}: StageScreenProps) {
	useInput((input, key) => {
		if (key.return || input === 'a') onChoice('apply');
		else if (input === 's') onChoice('skip');
		else if (input === 'q') onChoice('quit');
	});
	const shownNotes = notes.slice(0, 3);
	const trailHeight = trailLines(trail, columns).length;
	const height = rows - trailHeight - shownNotes.length - 6;
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			{shownNotes.map((note, i) => (
				<Text key={i} dimColor wrap="truncate-end">
					{'  '}
					{note}
				</Text>
			))}
			<Text> </Text>
			<DiffView lines={changeLines(changes, commands)} height={height} />
			<Text> </Text>
			<Text wrap="truncate-end">
				<Text bold>Enter/a</Text> {dryRun ? 'go on (dry run: nothing is written)' : 'apply'} · <Text bold>s</Text> skip · <Text bold>q</Text> quit
			</Text>
		</Box>
	);
}

export interface StageRunningProps {
	stage: StageInfo;
	trail: TrailItem[];
	label: string;
	/** Live output (reload, checks), newest last. */
	lines: string[];
	rows: number;
	columns: number;
}

export function StageRunning({stage, trail, label, lines, rows, columns}: StageRunningProps) {
	const room = Math.max(1, rows - trailLines(trail, columns).length - 5);
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			<Text> </Text>
			<Spinner label={label} />
			{lines.slice(-room).map((line, i) => (
				<Text key={i} dimColor wrap="truncate-end">
					{'  '}
					{line}
				</Text>
			))}
		</Box>
	);
}

/** What the result screen pages through: changes, commands, message, checks with transcripts. */
export function resultLines(result: StageResult, dryRun: boolean): string[] {
	const lines: string[] = [];
	if (result.changes.length) {
		lines.push(dryRun ? 'Would change:' : 'Changed:');
		for (const change of result.changes) lines.push(`  ${change.action} ${change.path}`);
	}
	if (result.commands.length) {
		lines.push(dryRun ? 'Would run:' : 'Ran:');
		for (const command of result.commands) lines.push(`  $ ${command}`);
	}
	if (result.message) lines.push(...result.message.split('\n').map(line => `  ${line}`));
	for (const check of result.checks ?? []) {
		lines.push(`  ${check.status === 'pass' ? '✔' : check.status === 'fail' ? '✘' : '?'} ${check.id}: ${check.message}`);
		if (check.transcript) lines.push(...check.transcript.trimEnd().split('\n').map(line => `      ${line}`));
	}
	if (result.status === 'fail') {
		lines.push('', 'What to do: nothing of this stage is left half-written (its backups were put back).', `Fix the cause above, then run this stage alone: mail-setup ${result.id}`);
	}
	return lines;
}

const verdicts: Record<Status, string> = {pass: 'PASS', fail: 'FAIL', skipped: 'SKIPPED', planned: 'PLANNED'};

export interface StageResultViewProps {
	stage: StageInfo;
	trail: TrailItem[];
	result: StageResult;
	dryRun: boolean;
	rows: number;
	columns: number;
	onNext(choice: 'next' | 'quit'): void;
}

export function StageResultView({stage, trail, result, dryRun, rows, columns, onNext}: StageResultViewProps) {
	useInput((input, key) => {
		if (key.return) onNext('next');
		else if (input === 'q') onNext('quit');
	});
	const height = rows - trailLines(trail, columns).length - 7;
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			<Text> </Text>
			<Text bold color={tint(markColor[result.status])}>
				{marks[result.status]} {verdicts[result.status]}
				{dryRun && result.status === 'pass' ? ' (dry run: nothing was written)' : ''}
			</Text>
			<DiffView lines={resultLines(result, dryRun)} height={height} />
			<Text> </Text>
			<Text>
				<Text bold>Enter</Text> {stage.index + 1 < stage.total ? 'next stage' : 'summary'} · <Text bold>q</Text> quit
			</Text>
		</Box>
	);
}
