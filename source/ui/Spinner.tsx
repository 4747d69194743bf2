// A spinner of our own: one braille frame every 80 ms beside a label.
import {Text} from 'ink';
import {useEffect, useState} from 'react';
import {tint} from './theme.js';

export const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function Spinner({label}: {label: string}) {
	const [frame, setFrame] = useState(0);
	useEffect(() => {
		const timer = setInterval(() => setFrame(n => (n + 1) % frames.length), 80);
		return () => clearInterval(timer);
	}, []);
	return (
		<Text>
			<Text color={tint('cyan')}>{frames[frame]}</Text> {label}
		</Text>
	);
}
