// Terminal bytes → keys: the one place that reads what a terminal sends. Pure; state lives in the tokenizer
// so an escape sequence or a bracketed paste split over several reads still comes out whole.
// Every read is split into single keys: "xx\x7f\x7f" is x, x, Backspace, Backspace; "pw\r" is p, w, Enter.

export type NamedKey = 'enter' | 'backspace' | 'delete' | 'up' | 'down' | 'left' | 'right' | 'home' | 'end' | 'pageUp' | 'pageDown' | 'tab' | 'backTab' | 'escape';

export type Key =
	| {name: NamedKey}
	/** One printable character (a code point). */
	| {name: 'char'; char: string}
	/** Ctrl and a letter: Ctrl-A is {name: 'ctrl', char: 'a'}. */
	| {name: 'ctrl'; char: string}
	/** A bracketed paste, whole; line breaks are '\n', no other control character is left in it. */
	| {name: 'paste'; text: string};

const ESC = '\u001B';
const PASTE_START = `${ESC}[200~`;
const PASTE_END = `${ESC}[201~`;

// CSI final bytes and `ESC [ n ~` numbers (xterm, VT220, rxvt and the Linux console all covered).
const csiFinal: Record<string, NamedKey> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', Z: 'backTab'};
const csiTilde: Record<string, NamedKey> = {'1': 'home', '7': 'home', '4': 'end', '8': 'end', '3': 'delete', '5': 'pageUp', '6': 'pageDown'};
const ss3: Record<string, NamedKey> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end'};

/** C0 and C1 controls and DEL: never part of a value. */
const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f);

/** Paste text without controls: CR, LF and CRLF become '\n', a tab a space, the rest is dropped. */
export function cleanPaste(text: string): string {
	return [...text.replace(/\r\n?/g, '\n')]
		.map(char => (char === '\n' ? char : char === '\t' ? ' ' : isControl(char.codePointAt(0)!) ? '' : char))
		.join('');
}

/**
 * Where the escape sequence at text[start] ends: its length, or 0 when the text stops before its end.
 * CSI is ESC [ parameters intermediates final; SS3 is ESC O and one byte; anything else takes ESC and one character.
 */
function sequenceLength(text: string, start: number): number {
	const kind = text[start + 1];
	if (kind === undefined) return 0;
	if (kind === 'O') return start + 2 < text.length ? 3 : 0;
	if (kind === ESC) return 1; // a Meta prefix (ESC ESC [ A is Alt-↑): dropped, the key after it counts
	if (kind !== '[') return 1 + String.fromCodePoint(text.codePointAt(start + 1)!).length;
	let i = start + 2;
	if (text[i] === '[') i++; // the Linux console's F1–F5: ESC [ [ A
	for (; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code >= 0x40 && code <= 0x7e) return i - start + 1;
		if (code < 0x20 || code > 0x3f) return i - start; // malformed: drop what we have
	}
	return 0;
}

function decode(sequence: string): Key | undefined {
	if (sequence[1] === 'O') {
		const name = ss3[sequence[2]!];
		return name && {name};
	}
	if (sequence[1] !== '[') return undefined; // Alt-something: not used, dropped
	const body = sequence.slice(2);
	const final = body.at(-1)!;
	if (final === '~') {
		const name = csiTilde[body.slice(0, -1).split(';')[0]!];
		return name && {name};
	}
	// Modifiers (ESC [ 1 ; 5 A is Ctrl-↑) do not change which key it is.
	const name = /^[\d;]*$/.test(body.slice(0, -1)) ? csiFinal[final] : undefined;
	return name && {name};
}

export interface Tokenizer {
	/** One read from the terminal → the keys it completes. */
	push(chunk: string): Key[];
	/** The reader went quiet: a lone ESC held back was the Escape key; an unfinished paste is given as it is. */
	flush(): Key[];
	/** What is held back for the next read: the start of an escape sequence, or a paste without its end yet. */
	readonly pending: 'escape' | 'paste' | undefined;
}

export function createTokenizer(): Tokenizer {
	let held = ''; // the start of an escape sequence the read cut off
	let paste: string | undefined; // inside a bracketed paste: its text so far
	let afterCR = false; // CR LF is one Enter, even split over two reads

	function push(chunk: string): Key[] {
		const keys: Key[] = [];
		let text = held + chunk;
		held = '';
		let i = 0;
		while (i < text.length) {
			if (paste !== undefined) {
				const end = text.indexOf(PASTE_END, i);
				if (end === -1) {
					// Keep a possible start of the end marker for the next read.
					let keep = Math.min(PASTE_END.length - 1, text.length - i);
					while (keep > 0 && !PASTE_END.startsWith(text.slice(text.length - keep))) keep--;
					paste += text.slice(i, text.length - keep);
					held = text.slice(text.length - keep);
					return keys;
				}
				keys.push({name: 'paste', text: cleanPaste(paste + text.slice(i, end))});
				paste = undefined;
				afterCR = false;
				i = end + PASTE_END.length;
				continue;
			}
			const char = String.fromCodePoint(text.codePointAt(i)!);
			const code = char.codePointAt(0)!;
			if (char === ESC) {
				const length = sequenceLength(text, i);
				if (length === 0) {
					held = text.slice(i);
					return keys;
				}
				const sequence = text.slice(i, i + length);
				i += length;
				afterCR = false;
				if (sequence === PASTE_START) paste = '';
				else {
					const key = decode(sequence);
					if (key) keys.push(key);
				}
				continue;
			}
			i += char.length;
			const wasCR = afterCR;
			afterCR = char === '\r';
			if (char === '\r') keys.push({name: 'enter'});
			else if (char === '\n') {
				if (!wasCR) keys.push({name: 'enter'});
			} else if (char === '\u007F' || char === '\b') keys.push({name: 'backspace'});
			else if (char === '\t') keys.push({name: 'tab'});
			else if (code >= 1 && code <= 26) keys.push({name: 'ctrl', char: String.fromCharCode(code + 96)});
			else if (!isControl(code)) keys.push({name: 'char', char});
			// Any other control character (NUL, Ctrl-\, C1 codes) is dropped.
		}
		return keys;
	}

	function flush(): Key[] {
		const keys: Key[] = [];
		if (paste !== undefined) {
			keys.push({name: 'paste', text: cleanPaste(paste + held)});
			paste = undefined;
		} else if (held === ESC) keys.push({name: 'escape'});
		held = '';
		return keys;
	}

	return {
		push,
		flush,
		get pending() {
			return paste !== undefined ? 'paste' : held ? 'escape' : undefined;
		},
	};
}

/** The keys of one whole input, as if it came in one read and then the line went quiet. */
export function keysOf(input: string): Key[] {
	const tokenizer = createTokenizer();
	return [...tokenizer.push(input), ...tokenizer.flush()];
}

/** Is it this printable character (a letter key of a screen)? */
export const isChar = (key: Key, char: string): boolean => key.name === 'char' && key.char === char;
