// The day-two commands' questions in a terminal: a new password (twice, masked) and a yes/no confirmation.
import {Box, render, Text, useInput} from 'ink';
import {type ReactElement, useState} from 'react';
import {validPassword} from '../answers.js';
import type {Asker} from '../admin/run.js';
import {Question} from './Question.js';
import {tint} from './theme.js';

export interface PasswordTwiceProps {
	address: string;
	/** The password, or undefined when the operator gave up (Esc, Ctrl-C). */
	onDone(password: string | undefined): void;
}

export function PasswordTwice({address, onDone}: PasswordTwiceProps) {
	const [first, setFirst] = useState<string>();
	const [value, setValue] = useState('');
	const [mismatch, setMismatch] = useState(false);
	useInput((input, key) => {
		if (key.escape || (key.ctrl && input === 'c')) onDone(undefined);
	});
	const problem = value === '' ? undefined : validPassword(value);
	const submit = () => {
		if (validPassword(value)) return;
		setValue('');
		if (first === undefined) setFirst(value);
		else if (value === first) onDone(value);
		else {
			setFirst(undefined);
			setMismatch(true);
		}
	};
	return (
		<Box flexDirection="column">
			{first !== undefined && (
				<Text>
					<Text color={tint('green')}>{'✔ '}</Text>
					New password for {address}: ********
				</Text>
			)}
			<Question
				label={first === undefined ? `New password for ${address}` : 'The same password again'}
				value={value}
				secret
				onChange={next => {
					setValue(next);
					setMismatch(false);
				}}
				onSubmit={submit}
				error={problem ? `the password ${problem}` : mismatch ? 'the two did not match: type it again' : undefined}
				hint="Enter to accept · Esc to give up"
			/>
		</Box>
	);
}

export interface ConfirmProps {
	question: string;
	details: string[];
	onDone(yes: boolean): void;
}

/** y: yes; anything else that answers (n, Enter, Esc, Ctrl-C): no — the safe side is the default. */
export function Confirm({question, details, onDone}: ConfirmProps) {
	useInput((input, key) => {
		if (input.toLowerCase() === 'y') onDone(true);
		else if (input.toLowerCase() === 'n' || key.return || key.escape || (key.ctrl && input === 'c')) onDone(false);
	});
	return (
		<Box flexDirection="column">
			{details.map((line, i) => (
				<Text key={i} dimColor>
					{'  '}
					{line}
				</Text>
			))}
			<Text bold>
				{question} <Text dimColor>[y/N]</Text>
			</Text>
		</Box>
	);
}

/** Render one question until it is answered; its last frame stays on the terminal. */
function ask<T>(element: (done: (value: T) => void) => ReactElement): Promise<T> {
	return new Promise(resolve => {
		let answered = false;
		const instance = render(
			element(value => {
				if (answered) return;
				answered = true;
				instance.unmount();
				void instance.waitUntilExit().then(() => resolve(value));
			}),
			{exitOnCtrlC: false},
		);
	});
}

export function terminalAsker(): Asker {
	return {
		password: address => ask<string | undefined>(done => <PasswordTwice address={address} onDone={done} />),
		confirm: (question, details) => ask<boolean>(done => <Confirm question={question} details={details} onDone={done} />),
	};
}
