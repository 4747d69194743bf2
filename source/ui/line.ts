// A one-line editor as a shell has it: a value and a cursor, changed one key at a time. Pure.
import type {Key} from './keys.js';

export interface Line {
	value: string;
	/** In characters (code points) from the start. */
	cursor: number;
}

export interface Edit {
	line: Line;
	/** Enter (or a pasted line break) was pressed: the value as it is now is submitted. */
	submit: boolean;
}

export const lineOf = (value: string): Line => ({value, cursor: [...value].length});

const at = (chars: string[], cursor: number): Line => ({value: chars.join(''), cursor});

/** The line after one key. Keys the editor does not use (↑/↓, Tab, Esc, other Ctrl keys) leave it as it was. */
export function edit(line: Line, key: Key): Edit {
	const chars = [...line.value];
	const cursor = Math.min(line.cursor, chars.length);
	const insert = (text: string) => at([...chars.slice(0, cursor), ...text, ...chars.slice(cursor)], cursor + [...text].length);
	const keep = {line, submit: false};
	switch (key.name) {
		case 'char':
			return {line: insert(key.char), submit: false};
		case 'paste': {
			// A password manager's paste ends in a line break: that submits. What follows it is dropped, never
			// typed into the next field, which might show it.
			const breakAt = key.text.indexOf('\n');
			return breakAt === -1 ? {line: insert(key.text), submit: false} : {line: insert(key.text.slice(0, breakAt)), submit: true};
		}
		case 'enter':
			return {line, submit: true};
		case 'backspace':
			return cursor === 0 ? keep : {line: at([...chars.slice(0, cursor - 1), ...chars.slice(cursor)], cursor - 1), submit: false};
		case 'delete':
			return cursor === chars.length ? keep : {line: at([...chars.slice(0, cursor), ...chars.slice(cursor + 1)], cursor), submit: false};
		case 'left':
			return {line: at(chars, Math.max(0, cursor - 1)), submit: false};
		case 'right':
			return {line: at(chars, Math.min(chars.length, cursor + 1)), submit: false};
		case 'home':
			return {line: at(chars, 0), submit: false};
		case 'end':
			return {line: at(chars, chars.length), submit: false};
		case 'ctrl':
			switch (key.char) {
				case 'a':
					return {line: at(chars, 0), submit: false};
				case 'e':
					return {line: at(chars, chars.length), submit: false};
				case 'u': // as in a shell: everything before the cursor (the whole value with the cursor at its end)
					return {line: at(chars.slice(cursor), 0), submit: false};
				case 'w': {
					// The word before the cursor and the spaces after it, as a shell's Ctrl-W.
					let from = cursor;
					while (from > 0 && chars[from - 1] === ' ') from--;
					while (from > 0 && chars[from - 1] !== ' ') from--;
					return {line: at([...chars.slice(0, from), ...chars.slice(cursor)], from), submit: false};
				}
				default:
					return keep;
			}
		default:
			return keep;
	}
}
