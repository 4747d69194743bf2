// A lossless editor for Dovecot 2.3/2.4 config files: toString() of an unedited file is the file, byte for byte,
// and every edit touches only the lines it must, so the operator's comments and layout survive.
// Line grammar as Dovecot's own config parser reads it: `key = value`, `type [name] {`, `}`, `!include[_try] file`,
// `#` comments (outside quotes), and a trailing `\` continuing a line.

export class ConfigParseError extends Error {
	file: string;
	line: number;
	constructor(file: string, line: number, reason: string) {
		super(`${file} line ${line}: ${reason}`);
		this.name = 'ConfigParseError';
		this.file = file;
		this.line = line;
	}
}

/** Section headers from the top down, without '{', whitespace-normalised: ['service auth', 'unix_listener auth-userdb']. */
export type SectionPath = string[];

type Line = {text: string; eol: string};

type Parsed = {kind: 'setting' | 'open' | 'close' | 'include'; key: string; value: string};

type Block = {
	path: SectionPath;
	open: number; // line of `header {`, -1 for the top level
	close: number; // line of `}`, the line count for the top level
	commentDepth: number; // while analysing: how deep inside commented-out `#header {` blocks we are
};

type Item = {
	first: number;
	last: number; // a continued line spans first..last
	block: Block; // the innermost active section holding the item (for `header {` and `}`: the parent)
	active?: Parsed; // a line Dovecot reads
	commented?: Parsed; // a `#` line that would be this if uncommented
	nested: boolean; // a `#` line inside a commented-out block, so not directly in `block`
};

const KEY = /^[A-Za-z_][\w.-]*$/;

const leading = (text: string) => text.match(/^[ \t]*/)![0];
const normalise = (header: string) => header.trim().split(/[ \t]+/).join(' ');
const normalisePath = (path: SectionPath) => path.map(normalise);
const samePath = (a: SectionPath, b: SectionPath) => a.length === b.length && a.every((part, i) => part === b[i]);

/** Where Dovecot starts a comment: the first '#' outside quotes (it warns, but still cuts, when no space precedes it). */
function commentStart(text: string): number {
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c === '"' || c === "'") {
			let j = i + 1;
			while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
			if (j >= text.length) return text.length; // an unclosed quote: Dovecot strips nothing
			i = j;
		} else if (c === '#') {
			return i;
		}
	}
	return text.length;
}

const content = (text: string) => text.slice(0, commentStart(text)).trim();

/** One logical line (comment already cut, continuations joined); undefined when Dovecot would reject it. */
function parseContent(text: string): Parsed | undefined {
	const key = text.match(/^[^ \t=]*/)![0];
	const rest = text.slice(key.length).trimStart();
	if (key === '!include' || key === '!include_try') return {kind: 'include', key, value: rest};
	if (rest.startsWith('=')) return {kind: 'setting', key, value: rest.slice(1).trim()};
	if (key === '}' && rest === '') return {kind: 'close', key, value: ''};
	if (text.endsWith('{') && text.length > 1) return {kind: 'open', key: normalise(text.slice(0, -1)), value: ''};
	return undefined;
}

/** What a `#` line would be without its '#': only settings that look like real keys, so prose stays prose. */
function parseCommented(text: string): Parsed | undefined {
	const rest = text.replace(/^[ \t]*#+/, '');
	const line = content(rest);
	if (line === '') return undefined;
	const parsed = parseContent(line);
	if (parsed?.kind === 'setting' && !KEY.test(parsed.key)) return undefined;
	if (parsed?.kind === 'open' && !KEY.test(parsed.key.split(' ')[0]!)) return undefined;
	return parsed;
}

// `  #  mode = 0666` -> `    mode = 0666` (the '#' held a column); `# port = 1` -> `port = 1`.
const uncomment = (text: string) => text.replace(/^([ \t]*)#+(?: (?=\S))?/, '$1');
const commentOut = (text: string) => text.replace(/^[ \t]*/, '$&#');

export class DovecotConfig {
	private lines: Line[];
	private readonly file: string;
	private items: Item[] = [];
	private blocks: Block[] = [];
	private top!: Block;

	private constructor(lines: Line[], file: string) {
		this.lines = lines;
		this.file = file;
		this.analyse();
	}

	static parse(text: string, file = '<input>'): DovecotConfig {
		const parts = text.split(/(\r?\n)/);
		const lines: Line[] = [];
		for (let i = 0; i < parts.length; i += 2) lines.push({text: parts[i]!, eol: parts[i + 1] ?? ''});
		if (lines.at(-1)?.text === '' && lines.at(-1)?.eol === '') lines.pop();
		return new DovecotConfig(lines, file);
	}

	toString(): string {
		return this.lines.map(line => line.text + line.eol).join('');
	}

	get(path: SectionPath, key: string): string | undefined {
		return this.activeSettings(normalisePath(path), key).at(-1)?.active!.value;
	}

	set(path: SectionPath, key: string, value: string): void {
		// Refuse what Dovecot would read back differently: the caller has to quote it.
		if (/[\r\n]/.test(value) || commentStart(value) < value.length || value.trimEnd().endsWith('\\')) {
			throw new Error(`Dovecot would not read back ${key} = ${value} as written: quote it`);
		}
		path = normalisePath(path);
		value = value.trim();
		this.ensureSection(path);
		if (this.activeSettings(path, key).length === 0) {
			const candidates = this.items.filter(item => this.direct(item, path) && item.commented?.kind === 'setting' && item.commented.key === key);
			// Debian writes defaults as `#key = value` and examples inside prose as `#   key = ...`: prefer the former.
			const placeholder = candidates.find(item => /^[ \t]*#+[^ \t#]/.test(this.lines[item.first]!.text)) ?? candidates[0];
			if (placeholder) this.edit(placeholder.first, uncomment);
		}
		const found = this.activeSettings(path, key);
		const last = found.pop();
		if (!last) {
			this.insertInto(path, `${key} = ${value}`);
			return;
		}
		for (const duplicate of found) this.commentItem(duplicate);
		if (last.active!.value !== value) this.replaceValue(last, value);
		this.analyse();
	}

	comment(path: SectionPath, key: string): void {
		for (const item of this.activeSettings(normalisePath(path), key)) this.commentItem(item);
		this.analyse();
	}

	hasSection(path: SectionPath): boolean {
		path = normalisePath(path);
		return this.blocks.some(block => samePath(block.path, path));
	}

	ensureSection(path: SectionPath): void {
		path = normalisePath(path);
		for (let depth = 1; depth <= path.length; depth++) {
			const wanted = path.slice(0, depth);
			if (this.hasSection(wanted) || this.uncommentBlock(wanted)) continue;
			const indent = this.childIndent(wanted.slice(0, -1));
			this.insertLines(wanted.slice(0, -1), [`${indent}${wanted.at(-1)} {`, `${indent}}`]);
		}
	}

	includes(): {file: string; active: boolean; optional: boolean}[] {
		return this.items.flatMap(item => {
			const parsed = item.active ?? item.commented;
			if (parsed?.kind !== 'include') return [];
			return [{file: parsed.value, active: item.active !== undefined, optional: parsed.key === '!include_try'}];
		});
	}

	setInclude(file: string, active: boolean): void {
		const matches = this.items.filter(item => {
			const parsed = item.active ?? item.commented;
			return parsed?.kind === 'include' && parsed.value === file;
		});
		const on = matches.filter(item => item.active);
		if (!active) {
			for (const item of on) this.commentItem(item);
		} else if (on.length === 0) {
			const off = matches.find(item => item.commented);
			if (off) this.edit(off.first, uncomment);
			else this.insertLines([], [`!include ${file}`]);
			return;
		}
		this.analyse();
	}

	// --- analysis: rebuilt after every edit (config files are a few hundred lines) ---

	private analyse(): void {
		const top: Block = {path: [], open: -1, close: this.lines.length, commentDepth: 0};
		const stack = [top];
		this.top = top;
		this.blocks = [];
		this.items = [];
		let commentContinues = false;
		for (let i = 0; i < this.lines.length; i++) {
			const text = this.lines[i]!.text;
			const block = stack.at(-1)!;
			if (text.trim() === '') {
				commentContinues = false;
				continue;
			}
			if (/^[ \t]*#/.test(text)) {
				// The next line of a commented `key = a \` is not a setting of its own.
				const commented = commentContinues ? undefined : parseCommented(text);
				commentContinues = content(text.replace(/^[ \t]*#+/, '')).endsWith('\\');
				if (commented?.kind === 'close') block.commentDepth = Math.max(0, block.commentDepth - 1);
				this.items.push({first: i, last: i, block, commented, nested: block.commentDepth > 0});
				if (commented?.kind === 'open') block.commentDepth++;
				continue;
			}
			commentContinues = false;
			// A trailing '\' joins the next line, unless that one is blank or a comment (Dovecot drops the line then).
			let joined = content(text);
			let last = i;
			while (joined.endsWith('\\') && last + 1 < this.lines.length && !/^[ \t]*(#|$)/.test(this.lines[last + 1]!.text)) {
				last++;
				joined = `${joined.slice(0, -1).trimEnd()} ${content(this.lines[last]!.text)}`;
			}
			const parsed = parseContent(joined);
			if (!parsed) throw new ConfigParseError(this.file, i + 1, `expected 'key = value', 'section {' or '}': ${joined}`);
			if (parsed.kind === 'close') {
				if (stack.length === 1) throw new ConfigParseError(this.file, i + 1, "unexpected '}' with no section open");
				block.close = i;
				stack.pop();
			}
			this.items.push({first: i, last, block: stack.at(-1)!, active: parsed, nested: false});
			if (parsed.kind === 'open') {
				const opened: Block = {path: [...block.path, parsed.key], open: i, close: -1, commentDepth: 0};
				this.blocks.push(opened);
				stack.push(opened);
			}
			i = last;
		}
		if (stack.length > 1) {
			const open = stack.at(-1)!;
			throw new ConfigParseError(this.file, open.open + 1, `section '${open.path.at(-1)}' is never closed with '}'`);
		}
	}

	/** An item directly inside a section at this path (any of its blocks: Dovecot merges same-named sections). */
	private direct(item: Item, path: SectionPath): boolean {
		return !item.nested && samePath(item.block.path, path);
	}

	private activeSettings(path: SectionPath, key: string): Item[] {
		return this.items.filter(item => this.direct(item, path) && item.active?.kind === 'setting' && item.active.key === key);
	}

	// --- edits ---

	private edit(index: number, change: (text: string) => string): void {
		this.lines[index]!.text = change(this.lines[index]!.text);
		this.analyse();
	}

	/** Every physical line: a commented first line alone would leave its continuation lines active. */
	private commentItem(item: Item): void {
		for (let i = item.first; i <= item.last; i++) this.lines[i]!.text = commentOut(this.lines[i]!.text);
	}

	/** Replace only the value: indentation, spacing around '=' and a trailing comment stay. */
	private replaceValue(item: Item, value: string): void {
		const line = this.lines[item.first]!;
		let start = line.text.indexOf('=') + 1;
		while (line.text[start] === ' ' || line.text[start] === '\t') start++;
		if (item.last > item.first) {
			// A continued value becomes one line.
			line.text = line.text.slice(0, start) + value;
			line.eol = this.lines[item.last]!.eol;
			this.lines.splice(item.first + 1, item.last - item.first);
			return;
		}
		let end = commentStart(line.text);
		while (end > start && (line.text[end - 1] === ' ' || line.text[end - 1] === '\t')) end--;
		const space = start === end && line.text[start - 1] === '=' && value !== '' ? ' ' : '';
		line.text = line.text.slice(0, start) + space + value + line.text.slice(end);
	}

	/** Uncomment a commented-out `#header {` … `#}` directly in the parent: its structure and settings, not its prose. */
	private uncommentBlock(path: SectionPath): boolean {
		const parent = path.slice(0, -1);
		const header = path.at(-1)!;
		const start = this.items.findIndex(item => this.direct(item, parent) && item.commented?.kind === 'open' && item.commented.key === header);
		if (start < 0) return false;
		let depth = 0;
		for (let end = start; end < this.items.length; end++) {
			const item = this.items[end]!;
			if (item.active?.kind === 'open' || item.active?.kind === 'close') return false; // not a clean commented block
			if (item.commented?.kind === 'open') depth++;
			if (item.commented?.kind === 'close') depth--;
			if (depth > 0) continue;
			for (const inner of this.items.slice(start, end + 1)) {
				const kind = inner.commented?.kind;
				// An empty placeholder (`#port = `) stays commented: Dovecot rejects `port =` ("Invalid port number").
				if (kind === 'open' || kind === 'close' || (kind === 'setting' && inner.commented!.value !== '')) {
					this.lines[inner.first]!.text = uncomment(this.lines[inner.first]!.text);
				}
			}
			this.analyse();
			return true;
		}
		return false;
	}

	/** Indentation for a new line directly in a section: that of its existing lines, else its header's plus one step. */
	private childIndent(path: SectionPath): string {
		if (path.length === 0) return '';
		const inside = this.items.filter(item => this.direct(item, path));
		const sample = inside.find(item => item.active) ?? inside[0]; // else a comment line
		if (sample) return leading(this.lines[sample.first]!.text);
		const block = this.blocks.filter(b => samePath(b.path, path)).at(-1)!;
		const step = this.lines.some(line => line.text.startsWith('\t')) ? '\t' : '  ';
		return leading(this.lines[block.open]!.text) + step;
	}

	private insertInto(path: SectionPath, text: string): void {
		this.insertLines(path, [this.childIndent(path) + text]);
	}

	/** Add lines at the end of the section (its last block), or of the file for the top level. */
	private insertLines(path: SectionPath, texts: string[]): void {
		const eol = this.lines.some(line => line.eol === '\r\n') ? '\r\n' : '\n';
		const block = path.length === 0 ? this.top : this.blocks.filter(b => samePath(b.path, path)).at(-1)!;
		const at = block.close;
		const added = texts.map(text => ({text, eol}));
		const previous = this.lines[at - 1];
		if (at === this.lines.length && previous && previous.eol === '') {
			// The file had no final newline: keep it that way, after the new lines.
			previous.eol = eol;
			added.at(-1)!.eol = '';
		}
		this.lines.splice(at, 0, ...added);
		this.analyse();
	}
}
