// The operator's answers, one field at a time. Defaults that follow from the FQDN (domain,
// postmaster, test mailbox, certificate paths, check host) keep following it until edited.
import {Box, Text, useInput} from 'ink';
import {useRef, useState} from 'react';
import {fieldNames, validators, withDefaults} from '../answers.js';
import type {Answers} from '../types.js';
import {Question} from './Question.js';
import {tint} from './theme.js';

export type Field = 'fqdn' | 'domain' | 'postmaster' | 'dbHost' | 'dbName' | 'dbUser' | 'dbPassword' | 'testUser' | 'testPassword';
export const fields: Field[] = ['fqdn', 'domain', 'postmaster', 'dbHost', 'dbName', 'dbUser', 'dbPassword', 'testUser', 'testPassword'];
const secrets = new Set<keyof Answers>(['dbPassword', 'testPassword']);

const derived = ['domain', 'postmaster', 'testUser', 'checkHost', 'cert', 'key'] as const;
type Derived = (typeof derived)[number];
const isDerived = (field: keyof Answers): field is Derived => (derived as readonly string[]).includes(field);

/** Derived fields not pinned take the value the FQDN (and a pinned domain) give them. */
export function follow(values: Answers, pinned: ReadonlySet<Derived>): Answers {
	const fresh = withDefaults({fqdn: values.fqdn, domain: pinned.has('domain') ? values.domain : undefined});
	const out = {...values};
	for (const field of derived) if (!pinned.has(field)) out[field] = fresh[field];
	return out;
}

/** Derived fields whose present value was chosen (a flag, the existing config), not derived. */
export function pinnedOf(answers: Answers): Set<Derived> {
	const pinned = new Set<Derived>();
	if (answers.domain !== follow(answers, pinned).domain) pinned.add('domain');
	const expected = follow(answers, pinned);
	for (const field of derived) if (answers[field] !== expected[field]) pinned.add(field);
	return pinned;
}

export function problemOf(field: Field, value: string, optional: ReadonlySet<Field>): string | undefined {
	if (value === '' && optional.has(field)) return undefined;
	const problem = validators[field]?.(value);
	return problem ? `${fieldNames[field]} ${problem}` : undefined;
}

export interface QuestionsProps {
	initial: Answers;
	/** Fields that may stay empty (passwords a dry run does not need). */
	optional?: ReadonlySet<Field>;
	onDone(answers: Answers): void;
}

export function Questions({initial, optional = new Set(), onDone}: QuestionsProps) {
	const [values, setValues] = useState(initial);
	const pinned = useRef(pinnedOf(initial)).current;
	const [index, setIndex] = useState(0);
	const current = fields[index]!;

	const change = (value: string) => {
		let next = {...values, [current]: value};
		if (isDerived(current)) pinned.add(current);
		if (current === 'fqdn' || current === 'domain') next = follow(next, pinned);
		setValues(next);
	};
	const submit = () => {
		if (index + 1 < fields.length) setIndex(index + 1);
		else onDone(values);
	};
	useInput((_input, key) => {
		if (key.upArrow && index > 0) setIndex(index - 1);
		if (key.downArrow && index + 1 < fields.length && !problemOf(current, values[current], optional)) setIndex(index + 1);
	});

	return (
		<Box flexDirection="column">
			<Text bold>Answers (Enter keeps the default shown)</Text>
			<Text> </Text>
			{fields.map((field, i) => {
				if (i === index) {
					return (
						<Question
							key={field}
							label={fieldNames[field]}
							value={values[field]}
							onChange={change}
							onSubmit={submit}
							error={problemOf(field, values[field], optional)}
							secret={secrets.has(field)}
							hint={optional.has(field) && values[field] === '' ? 'not needed for this run: Enter to leave it empty' : undefined}
						/>
					);
				}
				const shown = secrets.has(field) ? (values[field] ? '********' : '(empty)') : values[field];
				return (
					<Text key={field} dimColor={i > index} wrap="truncate-end">
						{i < index ? <Text color={tint('green')}>{'✔ '}</Text> : '  '}
						{fieldNames[field]}: {shown}
					</Text>
				);
			})}
		</Box>
	);
}
