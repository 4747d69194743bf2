// The first screen: what was found on the machine, dry run or live, and the stages with their state.
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import type {StageId} from '../types.js';
import {tint} from './theme.js';

/** A found version, null when the program is missing, undefined while still asking. */
export type Versions = Record<'Dovecot' | 'Postfix' | 'MariaDB' | 'OpenSSL', string | null | undefined>;

export type EarlyState = 'checking' | 'todo' | 'done' | 'skipped' | 'error';

export interface StartStage {
	id: StageId;
	title: string;
	state: EarlyState;
	/** Marked done, but the operator asked to run it again. */
	again?: boolean;
	/** Why it cannot run here, and what fixes that. */
	note?: string;
}

export interface StartScreenProps {
	dryRun: boolean;
	root: string;
	isRoot: boolean;
	versions: Versions;
	stages: StartStage[];
	onChoice(choice: 'start' | 'quit'): void;
	/** Space on a stage marked done: run it again (or not) instead of passing it through. */
	onToggle?(id: StageId): void;
}

const states: Record<EarlyState, {text: string; color?: string}> = {
	checking: {text: 'checking…'},
	todo: {text: 'to do', color: 'cyan'},
	done: {text: '✔ already done', color: 'green'},
	skipped: {text: '– not run', color: 'yellow'},
	error: {text: '✘ cannot plan', color: 'red'},
};
const again = {text: '↻ run again', color: 'cyan'};

function Version({name, value}: {name: string; value: string | null | undefined}) {
	return (
		<Text>
			{name} {value === undefined ? <Text dimColor>…</Text> : value === null ? <Text color={tint('yellow')}>not found</Text> : <Text bold>{value}</Text>}
			{'   '}
		</Text>
	);
}

export function StartScreen({dryRun, root, isRoot, versions, stages, onChoice, onToggle}: StartScreenProps) {
	const [cursor, setCursor] = useState(0);
	const current = stages[Math.min(cursor, stages.length - 1)];
	useInput((input, key) => {
		if (key.return) onChoice('start');
		else if (input === 'q') onChoice('quit');
		else if (key.upArrow) setCursor(now => Math.max(0, now - 1));
		else if (key.downArrow) setCursor(now => Math.min(stages.length - 1, now + 1));
		else if (input === ' ' && current?.state === 'done') onToggle?.(current.id);
	});
	const width = Math.max(...stages.map(stage => stage.id.length)) + 2;
	return (
		<Box flexDirection="column">
			<Text> </Text>
			<Text wrap="truncate-end">
				Mode:    {dryRun ? <Text color={tint('yellow')}>dry run: every change is shown, none is made</Text> : <Text color={tint('red')}>live: files are changed (backed up first)</Text>}
			</Text>
			<Text wrap="truncate-end">
				Target:  {root === '/' ? 'this machine (/)' : `the tree under ${root} (files only, no services)`}
			</Text>
			<Text wrap="truncate-end">
				User:    {isRoot ? 'root' : <Text color={dryRun ? undefined : tint('yellow')}>not root{dryRun ? '' : ': writing system files will fail'}</Text>}
			</Text>
			<Text wrap="truncate-end">
				Found:   <Version name="Dovecot" value={versions.Dovecot} />
				<Version name="Postfix" value={versions.Postfix} />
			</Text>
			<Text wrap="truncate-end">
				{'         '}
				<Version name="MariaDB" value={versions.MariaDB} />
				<Version name="OpenSSL" value={versions.OpenSSL} />
			</Text>
			<Text> </Text>
			<Text bold>Stages, in order:</Text>
			{stages.map(stage => {
				const shown = stage.state === 'done' && stage.again ? again : states[stage.state];
				return (
					<Text key={stage.id} wrap="truncate-end">
						{stage === current ? <Text bold>▸ </Text> : '  '}
						{stage.id.padEnd(width)}
						<Text color={shown.color && tint(shown.color)} dimColor={stage.state === 'checking'}>
							{shown.text.padEnd(16)}
						</Text>
						<Text dimColor>{stage.title}</Text>
					</Text>
				);
			})}
			{stages
				.filter(stage => stage.note)
				.map(stage => (
					<Text key={`${stage.id}-note`} wrap="wrap" color={tint('yellow')}>
						{stage.id}: {stage.note}
					</Text>
				))}
			<Text> </Text>
			<Text wrap="truncate-end">
				<Text bold>↑/↓</Text> move{current?.state === 'done' ? <> · <Text bold>Space</Text> {current.again ? 'keep as done' : 'run again'}</> : ''} · <Text bold>Enter</Text> start · <Text bold>q</Text> quit
			</Text>
		</Box>
	);
}
