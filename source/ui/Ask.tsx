// The day-two commands' questions in a terminal: a new password (twice, masked) and a yes/no confirmation.
// What each key does is ../admin/screen.ts's (the mailbox screen asks the same way).
import {Box, render, Text} from 'ink';
import type {ReactElement} from 'react';
import type {Asker} from '../admin/run.js';
import {confirmKey, newPassword, type PasswordEntry, passwordKey} from '../admin/screen.js';
import {hidden, Prompt} from './TextField.js';
import {tint} from './theme.js';
import {useKeys, useKeyState} from './useKeys.js';

/** The two lines of a password entry: what is accepted so far, the field, and its complaint or hint. */
export function PasswordLines({address, entry, hint}: {address: string; entry: PasswordEntry; hint: string}) {
	return (
		<Box flexDirection="column">
			{entry.first !== undefined && (
				<Text>
					<Text color={tint('green')}>{'✔ '}</Text>
					New password for {address}: {hidden(entry.first)}
				</Text>
			)}
			<Prompt label={entry.first === undefined ? `New password for ${address}` : 'The same password again'} line={entry.line} secret error={entry.error} hint={hint} />
		</Box>
	);
}

export function PasswordTwice({address, onDone}: {address: string; onDone(password: string | undefined): void}) {
	const [entry, shown, set] = useKeyState(newPassword());
	useKeys(key => {
		const step = passwordKey(entry.current, key);
		if (step.cancel) return onDone(undefined);
		if (step.password !== undefined) return onDone(step.password);
		set(step.entry);
	});
	return <PasswordLines address={address} entry={shown} hint="Enter to accept · Esc to give up" />;
}

export function Confirm({question, details, onDone}: {question: string; details: string[]; onDone(yes: boolean): void}) {
	useKeys(key => {
		const yes = confirmKey(key);
		if (yes !== undefined) onDone(yes);
	});
	return (
		<Box flexDirection="column">
			{details.map((line, i) => (
				<Text key={i} dimColor>{`  ${line}`}</Text>
			))}
			<Text bold>
				{question} <Text dimColor>[y/N]</Text>
			</Text>
		</Box>
	);
}

/** Render one question until it is answered (the first answer counts); its last frame stays on the terminal. */
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
