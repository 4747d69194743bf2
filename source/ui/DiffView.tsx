// A window onto long text (a diff, a result, a failure): lines wrapped to the width, coloured, paged with
// ↑/↓, PgUp/PgDn (Space), Home/End, and a position line whenever it does not fit.
import {Box, Text} from 'ink';
import {tint} from './theme.js';
import {useKeys, useKeyState} from './useKeys.js';
import {wrapLines} from './wrap.js';

export interface LineStyle {
	color?: string;
	bold?: boolean;
	dimColor?: boolean;
}

export function lineColor(line: string): LineStyle {
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
	/** Rows the view may use, its position line included. */
	height: number;
	width: number;
	/** Take the paging keys (false while another component has the keyboard). */
	active?: boolean;
	/** Colours of a line; default: a diff's. */
	color?: (line: string) => LineStyle;
}

export const scrollHelp = '↑/↓ PgUp/PgDn';

/** The first of `size` rows shown of `total`, so that the cursor's row stays in view (near the middle). */
export const windowStart = (cursor: number, total: number, size: number) => Math.max(0, Math.min(cursor - Math.floor(size / 2), total - size));

export function DiffView({lines, height, width, active = true, color = lineColor}: DiffViewProps) {
	const rows = wrapLines(lines, width);
	const fits = rows.length <= Math.max(1, height);
	// The position line takes a row only when there is something to scroll.
	const size = fits ? rows.length : Math.max(1, height - 1);
	const last = Math.max(0, rows.length - size);
	const [offset, , setOffset] = useKeyState(0);
	offset.current = Math.min(offset.current, last);
	const move = (to: number) => setOffset(Math.max(0, Math.min(last, to)));
	useKeys(
		key => {
			const now = offset.current;
			if (key.name === 'down' || (key.name === 'char' && key.char === 'j')) move(now + 1);
			else if (key.name === 'up' || (key.name === 'char' && key.char === 'k')) move(now - 1);
			else if (key.name === 'pageDown' || (key.name === 'char' && key.char === ' ')) move(now + size - 1);
			else if (key.name === 'pageUp') move(now - size + 1);
			else if (key.name === 'home') move(0);
			else if (key.name === 'end') move(last);
		},
		{active},
	);
	const start = offset.current;
	const window = rows.slice(start, start + size);
	return (
		<Box flexDirection="column">
			{window.map((row, i) => (
				<Text key={start + i} {...color(lines[row.line]!)}>
					{row.text === '' ? ' ' : row.text}
				</Text>
			))}
			{fits ? undefined : <Text dimColor>{`lines ${start + 1}–${start + window.length} of ${rows.length} · ${scrollHelp}`}</Text>}
		</Box>
	);
}
