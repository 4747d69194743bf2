// The operator's answers, one field at a time (the logic is ./form.ts); the validator's complaint shows as they type.
import {Box, Text} from 'ink';
import {fieldNames} from '../answers.js';
import type {Answers} from '../types.js';
import {type Field, fields, type Form, formKey, problemOf, secretFields, startForm} from './form.js';
import {hidden, Prompt} from './TextField.js';
import {tint} from './theme.js';
import {useKeys, useKeyState} from './useKeys.js';

export interface QuestionsProps {
	initial: Answers;
	/** Fields that may stay empty (passwords a dry run does not need). */
	optional?: ReadonlySet<Field>;
	onDone(answers: Answers): void;
}

export function Questions({initial, optional = new Set(), onDone}: QuestionsProps) {
	const [form, shown, set] = useKeyState<Form>(startForm(initial));
	useKeys(key => {
		const next = formKey(form.current, key, optional);
		if (next === form.current) return;
		set(next);
		if (next.done) onDone(next.values);
	});
	const {values, index, line} = shown;

	return (
		<Box flexDirection="column">
			<Text bold>Answers (Enter keeps the default shown)</Text>
			<Text> </Text>
			{fields.map((field, i) => {
				if (i === index && !shown.done) {
					const problem = problemOf(field, values[field], optional);
					const hint = optional.has(field) && values[field] === '' ? 'not needed for this run: Enter to leave it empty' : 'Enter to accept, ↑ to go back';
					return <Prompt key={field} label={fieldNames[field]} line={line} secret={secretFields.has(field)} error={problem} hint={hint} />;
				}
				const value = secretFields.has(field) ? hidden(values[field]) : values[field];
				return (
					<Text key={field} dimColor={i > index}>
						{i < index || shown.done ? <Text color={tint('green')}>{'✔ '}</Text> : '  '}
						{fieldNames[field]}: {value}
					</Text>
				);
			})}
		</Box>
	);
}
