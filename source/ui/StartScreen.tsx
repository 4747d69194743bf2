// The first screen: what was found on the machine, dry run or live, and the stages with their state.
import {Box, Text, useInput} from 'ink';
import type {StageId} from '../types.js';
import {tint} from './theme.js';

/** A found version, null when the program is missing, undefined while still asking. */
export type Versions = Record<'Dovecot' | 'Postfix' | 'MariaDB' | 'OpenSSL', string | null | undefined>;

export type EarlyState = 'checking' | 'todo' | 'done' | 'skipped' | 'error';

export interface StartStage {
	id: StageId;
	title: string;
	state: EarlyState;
}

export interface StartScreenProps {
	dryRun: boolean;
	root: string;
	isRoot: boolean;
	versions: Versions;
	stages: StartStage[];
	onChoice(choice: 'start' | 'quit'): void;
}

const states: Record<EarlyState, {text: string; color?: string}> = {
	checking: {text: 'checking…'},
	todo: {text: 'to do', color: 'cyan'},
	done: {text: '✔ already done', color: 'green'},
	skipped: {text: '– not run', color: 'yellow'},
	error: {text: '✘ cannot plan', color: 'red'},
};

function Version({name, value}: {name: string; value: string | null | undefined}) {
	return (
		<Text>
			{name} {value === undefined ? <Text dimColor>…</Text> : value === null ? <Text color={tint('yellow')}>not found</Text> : <Text bold>{value}</Text>}
			{'   '}
		</Text>
	);
}

export function StartScreen({dryRun, root, isRoot, versions, stages, onChoice}: StartScreenProps) {
	useInput((input, key) => {
		if (key.return) onChoice('start');
		else if (input === 'q') onChoice('quit');
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
			{stages.map(stage => (
				<Text key={stage.id} wrap="truncate-end">
					{'  '}
					{stage.id.padEnd(width)}
					<Text color={states[stage.state].color && tint(states[stage.state].color!)} dimColor={stage.state === 'checking'}>
						{states[stage.state].text.padEnd(16)}
					</Text>
					<Text dimColor>{stage.title}</Text>
				</Text>
			))}
			<Text> </Text>
			<Text>
				<Text bold>Enter</Text> start · <Text bold>q</Text> quit
			</Text>
		</Box>
	);
}
