// One question: a label, a text field (masked for secrets) and the validator's complaint as they type.
import {Box, Text} from 'ink';
import TextInput from 'ink-text-input';
import {tint} from './theme.js';

export interface QuestionProps {
	label: string;
	value: string;
	onChange(value: string): void;
	onSubmit(value: string): void;
	/** The validator's complaint about value, already worded ("FQDN needs at least two labels"). */
	error?: string;
	secret?: boolean;
	hint?: string;
}

export function Question({label, value, onChange, onSubmit, error, secret, hint}: QuestionProps) {
	return (
		<Box flexDirection="column">
			<Box>
				<Text bold color={tint('cyan')}>
					{'▸ '}
					{label}:{' '}
				</Text>
				<TextInput value={value} onChange={onChange} onSubmit={() => !error && onSubmit(value)} mask={secret ? '*' : undefined} />
			</Box>
			{error ? (
				<Text color={tint('red')} wrap="truncate-end">
					{'  ✘ '}
					{error}
				</Text>
			) : (
				<Text dimColor wrap="truncate-end">
					{'  '}
					{hint ?? 'Enter to accept, ↑ to go back'}
				</Text>
			)}
		</Box>
	);
}
