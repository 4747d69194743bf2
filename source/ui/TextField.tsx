// A one-line text field: renders a Line (./line.ts) with its cursor; a secret shows one '*' per character.
// It replaces ink-text-input, which applied one key per render (keys of one read were lost or inserted as
// "\x7f\x7f", a pasted "pw\r" kept its CR); keys reach the field's owner through useKeys and ./line.ts.
import {Box, Text} from 'ink';
import type {Line} from './line.js';
import {tint} from './theme.js';

export interface TextFieldProps {
	line: Line;
	secret?: boolean;
}

export function TextField({line, secret}: TextFieldProps) {
	// Masked by what the field is, never by looking at its text.
	const chars = secret ? [...line.value].map(() => '*') : [...line.value];
	const cursor = Math.min(line.cursor, chars.length);
	return (
		<Text>
			{chars.slice(0, cursor).join('')}
			<Text inverse>{chars[cursor] ?? ' '}</Text>
			{chars.slice(cursor + 1).join('')}
		</Text>
	);
}

/** An accepted secret, as the lines above the field show it: never its length. */
export const hidden = (value: string) => (value ? '********' : '(empty)');

export interface PromptProps extends TextFieldProps {
	label: string;
	/** The validator's complaint; the hint shows while there is none. */
	error?: string;
	hint: string;
}

/** A question: its label and the field on one line, the complaint or the hint below. */
export function Prompt({label, line, secret, error, hint}: PromptProps) {
	return (
		<Box flexDirection="column">
			<Text>
				<Text bold color={tint('cyan')}>
					▸ {label}:{' '}
				</Text>
				<TextField line={line} secret={secret} />
			</Text>
			{error ? <Text color={tint('red')}>{`  ✘ ${error}`}</Text> : <Text dimColor>{`  ${hint}`}</Text>}
		</Box>
	);
}
