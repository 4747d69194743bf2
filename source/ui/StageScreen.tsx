// One stage: what it will change (confirm, or the stage's question), the spinner while it runs, its verdict.
// Every text is wrapped to the width; what does not fit the terminal's height pages (./DiffView.tsx).
import {Box, Text} from 'ink';
import {Fragment} from 'react';
import type {ChangeReport, CheckResult, Command, Offer, StageId, StageResult, Status} from '../types.js';
import {DiffView, lineColor} from './DiffView.js';
import {isChar} from './keys.js';
import {Spinner} from './Spinner.js';
import {markColor, marks, tint, verdicts} from './theme.js';
import {useKeys} from './useKeys.js';
import {wrap} from './wrap.js';

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

const titleOf = (stage: StageInfo) => `Stage ${stage.index + 1} of ${stage.total}: ${stage.id} · ${stage.title}`;

/** Rows the heading takes: the trail, a blank row, the stage's title. */
const headingRows = (stage: StageInfo, trail: TrailItem[], columns: number) => trailLines(trail, columns).length + 1 + wrap(titleOf(stage), columns).length;

/** The top of every stage screen: where the run is, then which stage this is. */
function Heading({stage, trail, columns}: {stage: StageInfo; trail: TrailItem[]; columns: number}) {
	return (
		<>
			<Trail items={trail} width={columns} />
			<Text> </Text>
			<Text>
				<Text bold>
					Stage {stage.index + 1} of {stage.total}: {stage.id}
				</Text>
				{' · '}
				{stage.title}
			</Text>
		</>
	);
}

/** A key and what it does, as the last line of a screen says it. */
export type KeyHelp = [key: string, what: string];

export const keyLineText = (help: KeyHelp[]) => help.map(([key, what]) => `${key} ${what}`).join(' · ');

export function KeyLine({help}: {help: KeyHelp[]}) {
	return (
		<Text>
			{help.map(([key, what], i) => (
				<Fragment key={key}>
					{i > 0 ? ' · ' : ''}
					<Text bold>{key}</Text> {what}
				</Fragment>
			))}
		</Text>
	);
}

/** Wrapped text of known height: what is counted is what is shown. */
function Wrapped({text, width, ...style}: {text: string; width: number; bold?: boolean; dimColor?: boolean; color?: string}) {
	return <Text {...style}>{wrap(text, width).join('\n')}</Text>;
}

const isSql = (line: string) => line.startsWith('SQL> ');

/** The lines the confirm screen pages through: the stage's notes, each file's diff, then the commands. */
export function changeLines(changes: ChangeReport[], commands: Command[], notes: string[] = [], dryRun = false): string[] {
	const lines: string[] = notes.map(note => `· ${note}`);
	if (lines.length) lines.push('');
	for (const change of changes) {
		lines.push(`══ ${change.action} ${change.path}`, ...change.diff.trimEnd().split('\n'), '');
	}
	if (commands.length) {
		lines.push(dryRun ? '══ what it would run' : '══ what it will run');
		for (const command of commands) {
			const text = command.argv.join(' ');
			lines.push(`${isSql(text) ? '' : '$ '}${text}${command.why ? `   # ${command.why}` : ''}`);
		}
	}
	if (changes.length === 0 && commands.length === 0) lines.push('no file to change, no command to run');
	if (lines.at(-1) === '') lines.pop();
	return lines;
}

/** Notes dim, the rest as a diff colours it. */
const pageColor = (line: string) => (line.startsWith('· ') ? {dimColor: true} : isSql(line) ? {bold: true} : lineColor(line));

/** apply: this stage; all: this and every following one without asking; yes/no: the stage's question. */
export type Choice = 'apply' | 'all' | 'skip' | 'quit' | 'yes' | 'no';

export interface StageScreenProps {
	stage: StageInfo;
	trail: TrailItem[];
	changes: ChangeReport[];
	commands: Command[];
	notes: string[];
	/** The stage asks before it does more (the database offer): yes or no instead of apply. */
	offer?: Offer;
	dryRun: boolean;
	rows: number;
	columns: number;
	onChoice(choice: Choice): void;
}

export function StageScreen({stage, trail, changes, commands, notes, offer, dryRun, rows, columns, onChoice}: StageScreenProps) {
	useKeys(key => {
		if (offer) {
			if (key.name === 'enter') onChoice(offer.default ? 'yes' : 'no');
			else if (isChar(key, 'y')) onChoice('yes');
			else if (isChar(key, 'n')) onChoice('no');
			else if (isChar(key, 'q')) onChoice('quit');
			return;
		}
		if (key.name === 'enter') onChoice('apply');
		else if (isChar(key, 'a')) onChoice('all');
		else if (isChar(key, 's')) onChoice('skip');
		else if (isChar(key, 'q')) onChoice('quit');
	});
	const help: KeyHelp[] = offer
		? [
				['Enter', offer.default ? 'yes' : 'no'],
				['y', 'yes'],
				['n', 'no'],
				['q', 'quit'],
			]
		: [
				['Enter', dryRun ? 'go on' : 'apply'],
				['a', dryRun ? 'go on through every following stage' : 'apply this and every following stage'],
				['s', 'skip'],
				['q', 'quit'],
			];
	const question = offer ? `? ${offer.question}` : '';
	const fixed = headingRows(stage, trail, columns) + (question ? wrap(question, columns).length : 0) + 2 + wrap(keyLineText(help), columns).length;
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			<Text> </Text>
			<DiffView lines={changeLines(changes, commands, notes, dryRun)} height={rows - fixed} width={columns} color={pageColor} />
			<Text> </Text>
			{question ? <Wrapped text={question} width={columns} bold color={tint('yellow')} /> : undefined}
			<KeyLine help={help} />
		</Box>
	);
}

export interface Finished {
	id: StageId;
	status: Status;
	message: string;
}

export interface StageRunningProps {
	stage: StageInfo;
	trail: TrailItem[];
	label: string;
	/** Live output (reload, checks), newest last. */
	lines: string[];
	/** Applying every stage without asking: the verdicts so far, newest last. */
	finished?: Finished[];
	rows: number;
	columns: number;
}

/** One stage's verdict in a line: its mark, id and the first line of its message. */
export const verdictLine = (item: Finished) => `${marks[item.status]} ${item.id}: ${item.message.split('\n')[0] ?? ''}`;

export function StageRunning({stage, trail, label, lines, finished = [], rows, columns}: StageRunningProps) {
	let room = Math.max(1, rows - headingRows(stage, trail, columns) - 2);
	// The newest verdicts that fit, leaving the live output a few rows.
	const verdicts: string[][] = [];
	for (const item of [...finished].reverse()) {
		const wrapped = wrap(verdictLine(item), columns);
		if (wrapped.length > room - 3) break;
		verdicts.unshift(wrapped);
		room -= wrapped.length;
	}
	// The newest whole lines that fit: never the tail of a wrapped one at the top.
	const live: string[] = [];
	for (const line of [...lines].reverse()) {
		const wrapped = wrap(`  ${line}`, columns);
		if (live.length + wrapped.length > room) break;
		live.unshift(...wrapped);
	}
	// One line taller than the room: its newest rows.
	if (live.length === 0 && lines.length > 0) live.push(...wrap(`  ${lines.at(-1)}`, columns).slice(-room));
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			{verdicts.map((rowsOfItem, i) => (
				<Text key={i} dimColor>
					{rowsOfItem.join('\n')}
				</Text>
			))}
			<Text> </Text>
			<Spinner label={label} />
			{live.length ? <Text dimColor>{live.join('\n')}</Text> : undefined}
		</Box>
	);
}

/**
 * What the result screen pages through. A failure: the whole reason and what to do first, details after.
 * Otherwise what changed, what ran, the message after its first line (the verdict line says that), checks.
 */
export function resultLines(result: StageResult, dryRun: boolean): string[] {
	const message = result.message ? result.message.split('\n') : [];
	const details: string[] = [];
	if (result.changes.length) {
		details.push(dryRun ? 'Would change:' : 'Changed:');
		for (const change of result.changes) details.push(`  ${change.action} ${change.path}`);
	}
	if (result.commands.length) {
		details.push(dryRun ? 'Would run:' : 'Ran:');
		for (const command of result.commands) details.push(`  ${isSql(command) ? '' : '$ '}${command}`);
	}
	const check = (item: CheckResult) => `${item.status === 'pass' ? '✔' : item.status === 'fail' ? '✘' : '?'} ${item.id}: ${item.message}`;
	// A check with its transcript below it.
	const checkLines = (item: CheckResult) => [check(item), ...item.transcript.trimEnd().split('\n').filter(Boolean).map(line => `    ${line}`)];
	const checks = result.checks ?? [];
	if (result.status !== 'fail') return [...message.slice(1), ...details, ...checks.flatMap(checkLines)];
	const failed = checks.filter(item => item.status === 'fail');
	return [
		...message,
		...failed.map(check),
		'',
		`What to do: fix the cause above, then run: mail-setup ${result.id}`,
		'Nothing of this stage is left half-written: its backups were put back.',
		...(details.length || checks.length ? ['', 'Details:'] : []),
		...details,
		...checks.flatMap(checkLines),
	];
}

export interface StageResultViewProps {
	stage: StageInfo;
	trail: TrailItem[];
	result: StageResult;
	dryRun: boolean;
	/** What Enter leads to. */
	next: 'next stage' | 'summary';
	rows: number;
	columns: number;
	onNext(choice: 'next' | 'all' | 'quit'): void;
}

export function StageResultView({stage, trail, result, dryRun, next, rows, columns, onNext}: StageResultViewProps) {
	useKeys(key => {
		if (key.name === 'enter') onNext('next');
		else if (isChar(key, 'a') && next === 'next stage') onNext('all');
		else if (isChar(key, 'q')) onNext('quit');
	});
	const {status} = result;
	const first = result.message.split('\n')[0] ?? '';
	const verdict = `${marks[status]} ${verdicts[status]}${status !== 'fail' && first ? ` · ${first}` : ''}`;
	const help: KeyHelp[] = [['Enter', next], ...(next === 'next stage' ? [['a', dryRun ? 'go on through every following stage' : 'apply every following stage'] as KeyHelp] : []), ['q', 'quit']];
	const fixed = headingRows(stage, trail, columns) + 1 + wrap(verdict, columns).length + 1 + wrap(keyLineText(help), columns).length;
	return (
		<Box flexDirection="column">
			<Heading stage={stage} trail={trail} columns={columns} />
			<Text> </Text>
			<Wrapped text={verdict} width={columns} bold color={tint(markColor[status])} />
			<DiffView lines={resultLines(result, dryRun)} height={rows - fixed} width={columns} color={line => (line.startsWith('What to do') ? {bold: true} : {})} />
			<Text> </Text>
			<KeyLine help={help} />
		</Box>
	);
}
