// The operator's answers, one field at a time (the logic is ./form.ts); the validator's complaint shows as they type.
import {Box, Text} from 'ink';
import {useRef, useState} from 'react';
import {fieldNames} from '../answers.js';
import type {Answers} from '../types.js';
import {type Field, fields, type Form, formKey, problemOf, secretFields, startForm} from './form.js';
import {TextField} from './TextField.js';
import {tint} from './theme.js';
import {useKeys} from './useKeys.js';

export interface QuestionsProps {
	initial: Answers;
	/** Fields that may stay empty (passwords a dry run does not need). */
	optional?: ReadonlySet<Field>;
	onDone(answers: Answers): void;
}

export function Questions({initial, optional = new Set(), onDone}: QuestionsProps) {
	// The form lives in a ref: every key of one read sees what the key before it did.
	const form = useRef<Form>(startForm(initial));
	const [shown, setShown] = useState(form.current);
	useKeys(key => {
		const before = form.current;
		form.current = formKey(before, key, optional);
		if (form.current === before) return;
		setShown(form.current);
		if (form.current.done) onDone(form.current.values);
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
					return (
						<Box key={field} flexDirection="column">
							<Text>
								<Text bold color={tint('cyan')}>
									▸ {fieldNames[field]}:{' '}
								</Text>
								<TextField line={line} secret={secretFields.has(field)} />
							</Text>
							{problem ? <Text color={tint('red')}>{`  ✘ ${problem}`}</Text> : <Text dimColor>{`  ${hint}`}</Text>}
						</Box>
					);
				}
				const value = secretFields.has(field) ? (values[field] ? '********' : '(empty)') : values[field];
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
