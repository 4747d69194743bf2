// A window onto a long diff: coloured lines, paged with ↑/↓, PgUp/PgDn (space), Home/End.
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import {tint} from './theme.js';

export function lineColor(line: string): {color?: string; bold?: boolean} {
	if (line.startsWith('+++') || line.startsWith('---')) return {bold: true};
	if (line.startsWith('+')) return {color: tint('green')};
	if (line.startsWith('-')) return {color: tint('red')};
	if (line.startsWith('@@')) return {color: tint('cyan')};
	if (line.startsWith('# ')) return {color: tint('yellow')};
	if (line.startsWith('$ ') || line.startsWith('══')) return {bold: true};
	return {};
}

export interface DiffViewProps {
	lines: string[];
	/** How many lines of the diff fit; one more is used for the position line. */
	height: number;
	/** Take the paging keys (false while another component has the keyboard). */
	active?: boolean;
}

export function DiffView({lines, height, active = true}: DiffViewProps) {
	const size = Math.max(1, height);
	const last = Math.max(0, lines.length - size);
	const [wanted, setOffset] = useState(0);
	const offset = Math.min(wanted, last);
	// Relative to the latest state: keys may come faster than Ink re-renders (a held PgDn).
	const move = (by: number) => setOffset(now => Math.max(0, Math.min(last, Math.min(now, last) + by)));
	useInput(
		(input, key) => {
			if (key.downArrow || input === 'j') move(1);
			else if (key.upArrow || input === 'k') move(-1);
			else if (key.pageDown || input === ' ') move(size - 1);
			else if (key.pageUp) move(1 - size);
			else if (key.home) setOffset(0);
			else if (key.end) setOffset(last);
		},
		{isActive: active},
	);
	const window = lines.slice(offset, offset + size);
	const paged = lines.length > size;
	return (
		<Box flexDirection="column">
			{window.map((line, i) => (
				<Text key={offset + i} wrap="truncate-end" {...lineColor(line)}>
					{line === '' ? ' ' : line.replaceAll('\t', '    ')}
				</Text>
			))}
			<Text dimColor wrap="truncate-end">
				{lines.length === 0
					? 'no file to change, no command to run'
					: paged
						? `lines ${offset + 1}–${offset + window.length} of ${lines.length} · ↑/↓ PgUp/PgDn to scroll`
						: `${lines.length} line${lines.length === 1 ? '' : 's'}`}
			</Text>
		</Box>
	);
}
