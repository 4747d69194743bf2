// The first screen: what was found on the machine, dry run or live, and the stages with their state.
import {Box, Text} from 'ink';
import {useState} from 'react';
import {INSTALL_CERTBOT} from '../stages/letsencrypt.js';
import type {StageId} from '../types.js';
import {windowStart} from './DiffView.js';
import {isChar} from './keys.js';
import {type KeyHelp, KeyLine, keyLineText} from './StageScreen.js';
import {tint} from './theme.js';
import {useKeys} from './useKeys.js';
import {wrap} from './wrap.js';

/** A found version, null when the program is missing, undefined while still asking. */
export type Versions = Record<'Dovecot' | 'Postfix' | 'MariaDB' | 'OpenSSL' | 'certbot', string | null | undefined>;

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
	/** start: each stage asks first; all: apply every stage without asking (it still stops at a failure or a question). */
	onChoice(choice: 'start' | 'all' | 'quit'): void;
	/** Space on a stage marked done: run it again (or not) instead of passing it through. */
	onToggle?(id: StageId): void;
	/** Rows the screen may use: a stage list that does not fit scrolls with the cursor. */
	rows?: number;
	columns?: number;
}

const states: Record<EarlyState, {text: string; color?: string}> = {
	checking: {text: 'checking'},
	todo: {text: 'to do', color: 'cyan'},
	done: {text: '✔ already done', color: 'green'},
	skipped: {text: '– not run', color: 'yellow'},
	error: {text: '✘ cannot plan', color: 'red'},
};
const again = {text: '↻ run again', color: 'cyan'};

function Version({name, value}: {name: string; value: string | null | undefined}) {
	return (
		<Text>
			{name} {value === undefined ? <Text dimColor>checking</Text> : value === null ? <Text color={tint('yellow')}>not found</Text> : <Text bold>{value}</Text>}
			{'   '}
		</Text>
	);
}

export function StartScreen({dryRun, root, isRoot, versions, stages, onChoice, onToggle, rows = Infinity, columns = 80}: StartScreenProps) {
	const [cursor, setCursor] = useState(0);
	const current = stages[Math.min(cursor, stages.length - 1)];
	useKeys(key => {
		if (key.name === 'enter') onChoice('start');
		else if (isChar(key, 'a')) onChoice('all');
		else if (isChar(key, 'q')) onChoice('quit');
		else if (key.name === 'up') setCursor(now => Math.max(0, now - 1));
		else if (key.name === 'down') setCursor(now => Math.min(stages.length - 1, now + 1));
		else if (isChar(key, ' ') && current?.state === 'done') onToggle?.(current.id);
	});
	const start: KeyHelp[] = [
		['Enter', 'start (each stage asks first)'],
		['a', dryRun ? 'start and go through all stages' : 'start and apply all stages'],
		['q', 'quit'],
	];
	const choose: KeyHelp[] = [['↑/↓', 'choose a stage'], ...(current?.state === 'done' ? [['Space', current.again ? 'keep it as done' : 'run it again'] as KeyHelp] : [])];
	const width = Math.max(...stages.map(stage => stage.id.length)) + 2;
	// Why a stage cannot run here (OpenDKIM not installed): said under the list.
	const notes = stages.filter(stage => stage.note).map(stage => `${stage.id}: ${stage.note}`);
	// Everything but the stage list: 9 rows (10 with the certbot line), the notes and the key lines.
	const fixed = [...notes, keyLineText(start), keyLineText(choose)].reduce((sum, text) => sum + wrap(text, columns).length, versions.certbot === null ? 10 : 9);
	const room = Math.max(3, rows - fixed);
	const fits = stages.length <= room;
	const size = fits ? stages.length : room - 1; // a row for "stages 3–10 of 11"
	const first = windowStart(cursor, stages.length, size);
	const shownStages = stages.slice(first, first + size);
	return (
		<Box flexDirection="column">
			<Text> </Text>
			<Text>
				Mode:    {dryRun ? <Text color={tint('yellow')}>dry run: every change is shown, none is made</Text> : <Text color={tint('red')}>live: files are changed (backed up first)</Text>}
			</Text>
			<Text>
				Target:  {root === '/' ? 'this machine (/)' : `the tree under ${root} (files only, no services)`}
			</Text>
			<Text>
				User:    {isRoot ? 'root' : <Text color={dryRun ? undefined : tint('yellow')}>not root{dryRun ? '' : ': writing system files will fail'}</Text>}
			</Text>
			<Text>
				Found:   <Version name="Dovecot" value={versions.Dovecot} />
				<Version name="Postfix" value={versions.Postfix} />
			</Text>
			<Text>
				{'         '}
				<Version name="MariaDB" value={versions.MariaDB} />
				<Version name="OpenSSL" value={versions.OpenSSL} />
				{versions.certbot === null ? '' : <Version name="certbot" value={versions.certbot} />}
			</Text>
			{versions.certbot === null ? (
				<Text>
					{'         '}
					<Text color={tint('yellow')}>certbot not found</Text>: {INSTALL_CERTBOT} (Let's Encrypt)
				</Text>
			) : undefined}
			<Text> </Text>
			<Text bold>Stages, in order:</Text>
			{shownStages.map(stage => {
				const shown = stage.state === 'done' && stage.again ? again : states[stage.state];
				return (
					<Text key={stage.id}>
						{stage === current ? <Text bold>▸ </Text> : '  '}
						{stage.id.padEnd(width)}
						<Text color={shown.color && tint(shown.color)} dimColor={stage.state === 'checking'}>
							{shown.text.padEnd(16)}
						</Text>
						<Text dimColor>{stage.title}</Text>
					</Text>
				);
			})}
			{fits ? undefined : <Text dimColor>{`stages ${first + 1}–${first + size} of ${stages.length} · ↑/↓`}</Text>}
			{notes.map(note => (
				<Text key={note} color={tint('yellow')}>
					{wrap(note, columns).join('\n')}
				</Text>
			))}
			<Text> </Text>
			<KeyLine help={start} />
			<KeyLine help={choose} />
		</Box>
	);
}
