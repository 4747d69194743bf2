// Long lines onto a terminal's width: every screen wraps with this one function, never cuts a line off.

const TAB = '    ';

/** Leading spaces of a line: its continuation rows hang below its text. */
const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * One line as rows of at most width characters. A row breaks after the last space that fits, else (one long
 * word: a path, a hash) at the width; continuation rows are indented by hang (default: the line's own
 * indent plus two). Characters count one column each: the texts here are config files, SQL and messages.
 */
export function wrap(line: string, width: number, hang?: number): string[] {
	const text = line.replaceAll('\t', TAB);
	const chars = [...text];
	const room = Math.max(1, width);
	if (chars.length <= room) return [text];
	const pad = ' '.repeat(Math.min(hang ?? indentOf(text) + 2, Math.floor(room / 2)));
	const rows: string[] = [];
	let rest = chars;
	let prefix = '';
	while (rest.length > 0) {
		const fits = room - prefix.length;
		if (rest.length <= fits) {
			rows.push(prefix + rest.join(''));
			break;
		}
		let cut = rest.lastIndexOf(' ', fits);
		// A break right at the start of a row would leave it empty: cut the word instead.
		if (cut <= 0) cut = fits;
		else cut += 1;
		rows.push((prefix + rest.slice(0, cut).join('')).trimEnd());
		rest = rest.slice(cut);
		while (rest[0] === ' ' && rest.length > 1) rest = rest.slice(1);
		prefix = pad;
	}
	return rows;
}

export interface Row {
	text: string;
	/** Which line it came from (a continuation row keeps its line's colour). */
	line: number;
}

/** Every line wrapped: the rows a pager scrolls over. */
export function wrapLines(lines: readonly string[], width: number): Row[] {
	return lines.flatMap((line, index) => wrap(line, width).map(text => ({text, line: index})));
}
