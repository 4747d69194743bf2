// Lossless editors for Postfix's main.cf and master.cf: toString() of an unedited file is the file, byte for byte,
// and every edit touches only the lines it must.
// Line grammar as Postfix's readlline() reads it: a line whose first non-blank character is '#' is a comment, a
// whitespace-only line is blank, a line starting with whitespace continues the current logical line, anything else
// starts a new one. Comment and blank lines do NOT end a logical line: a continuation line after them still belongs
// to the last logical line above (so `-o` lines under a commented-out service attach to the previous active service).

type Kind = 'blank' | 'comment' | 'continuation' | 'start';

type Logical = {
	lines: number[]; // the start line, then its continuation lines (comment and blank lines in between are not listed)
	text: string; // the physical lines joined with single spaces, trimmed
};

function kind(line: string): Kind {
	const trimmed = line.trim();
	if (trimmed === '') return 'blank';
	if (trimmed.startsWith('#')) return 'comment';
	return /^\s/.test(line) ? 'continuation' : 'start';
}

const normalise = (text: string) => text.trim().split(/\s+/).join(' ');
const tokens = (text: string) => text.split(/\s+/).filter(token => token !== '');

/** The logical lines Postfix reads; a continuation line before the first start line is ignored, as Postfix does. */
function logicalLines(lines: string[]): Logical[] {
	const result: Logical[] = [];
	let current: Logical | undefined;
	lines.forEach((line, index) => {
		const k = kind(line);
		if (k === 'start') {
			current = {lines: [index], text: normalise(line)};
			result.push(current);
		} else if (k === 'continuation' && current) {
			current.lines.push(index);
			current.text = normalise(`${current.text} ${line}`);
		}
	});
	return result;
}

/** The file as lines; the last element is whatever follows the last newline ('' when the file ends with one). */
const splitLines = (text: string) => text.split('\n');

/** Insert lines at the end, after making sure the file ends with a newline. */
function append(lines: string[], added: string[]): void {
	if (lines[lines.length - 1] === '') lines.splice(lines.length - 1, 0, ...added);
	else lines.push(...added, '');
}

const commentOut = (line: string) => `#${line}`;

/** A main.cf setting's name, or undefined for a logical line that is not `name = value`. */
function settingName(text: string): string | undefined {
	const match = text.match(/^([^\s=]+)\s*=/);
	return match?.[1];
}

export class MainCf {
	private lines: string[];

	private constructor(lines: string[]) {
		this.lines = lines;
	}

	static parse(text: string): MainCf {
		return new MainCf(splitLines(text));
	}

	toString(): string {
		return this.lines.join('\n');
	}

	private definitions(name: string): Logical[] {
		return logicalLines(this.lines).filter(logical => settingName(logical.text) === name);
	}

	/** The value Postfix uses: the last definition wins. */
	get(name: string): string | undefined {
		const last = this.definitions(name).at(-1);
		return last && last.text.slice(last.text.indexOf('=') + 1).trim();
	}

	set(name: string, value: string): void {
		if (/[\r\n]/.test(value)) throw new Error(`main.cf value for ${name} must be one line`);
		const definitions = this.definitions(name);
		const last = definitions.pop();
		if (!last) {
			append(this.lines, [`${name} = ${value}`]);
			return;
		}
		// Earlier duplicates are dead for Postfix but confuse readers and make postconf warn: comment them out.
		for (const earlier of definitions) for (const index of earlier.lines) this.lines[index] = commentOut(this.lines[index]);
		if (normalise(this.get(name)!) === normalise(value)) return;
		this.lines[last.lines[0]] = `${name} = ${value}`;
		// Drop the old continuation lines from the bottom up so the indices stay valid.
		for (const index of last.lines.slice(1).reverse()) this.lines.splice(index, 1);
	}

	remove(name: string): void {
		for (const definition of this.definitions(name)) {
			for (const index of definition.lines) this.lines[index] = commentOut(this.lines[index]);
		}
	}
}

export interface MasterEntry {
	service: string;
	type: string;
	fields: string[]; // the 6 columns after service and type: private unpriv chroot wakeup maxproc command
	args: string[]; // everything after the command, e.g. ['-o', 'syslog_name=postfix/submission', ...]
}

type Located = MasterEntry & {lines: number[]};

/** A master.cf service line split into columns; undefined for anything with fewer than 8 columns. */
function toEntry(text: string): MasterEntry | undefined {
	const words = tokens(text);
	if (words.length < 8) return undefined;
	return {service: words[0], type: words[1], fields: words.slice(2, 8), args: words.slice(8)};
}

// Debian's stock file aligns the columns on these stops (a long service name pushes the rest one space further).
const STOPS = [0, 10, 16, 24, 32, 40, 48, 56];

function serviceLine(columns: string[]): string {
	let line = '';
	columns.forEach((column, i) => {
		if (i > 0) line += ' '.repeat(Math.max(1, STOPS[i] - line.length));
		line += column;
	});
	return line;
}

/** Commented-out continuation lines of a commented-out service, as Debian writes them: `#  -o …`, `#     prose`.
 * A single space after '#' is ordinary prose (`# Choose one: …`) and ends the block. */
const commentedContinuation = (line: string) => /^\s*#+(?:[ \t]{2,}|\t|[ \t]+-)\S/.test(line);

export class MasterCf {
	private lines: string[];

	private constructor(lines: string[]) {
		this.lines = lines;
	}

	static parse(text: string): MasterCf {
		return new MasterCf(splitLines(text));
	}

	toString(): string {
		return this.lines.join('\n');
	}

	private entries(service: string, type: string): Located[] {
		const result: Located[] = [];
		for (const logical of logicalLines(this.lines)) {
			const entry = toEntry(logical.text);
			if (entry && entry.service === service && entry.type === type) result.push({...entry, lines: logical.lines});
		}
		return result;
	}

	/** Commented-out `#service type …` blocks: the service line, its commented continuation lines, and any active
	 * continuation lines among them (stranded: Postfix attaches those to the previous active service). */
	private commentedBlocks(service: string, type: string): {lines: number[]; stranded: number[]}[] {
		const blocks: {lines: number[]; stranded: number[]}[] = [];
		for (let i = 0; i < this.lines.length; i++) {
			if (kind(this.lines[i]) !== 'comment') continue;
			const entry = toEntry(this.lines[i].replace(/^\s*#+/, ''));
			if (!entry || entry.service !== service || entry.type !== type) continue;
			const block = {lines: [i], stranded: [] as number[]};
			let j = i + 1;
			for (; j < this.lines.length; j++) {
				const line = this.lines[j];
				if (kind(line) === 'continuation') block.stranded.push(j);
				else if (!commentedContinuation(line)) break;
				block.lines.push(j);
			}
			blocks.push(block);
			i = j - 1;
		}
		return blocks;
	}

	active(service: string, type: string): MasterEntry[] {
		return this.entries(service, type).map(({lines, ...entry}) => entry);
	}

	ensure(service: string, type: string, fields: string[], options: [string, string][]): void {
		if (fields.length !== 6) throw new Error(`master.cf ${service}/${type}: expected 6 columns, got ${fields.length}`);
		for (const [name, value] of options) {
			// `-o name=value` is one word; values with whitespace would need Postfix's `{ }` quoting, which we never write.
			if (/\s/.test(name + value) || name === '') throw new Error(`master.cf ${service}/${type}: bad option -o ${name}=${value}`);
		}
		const args = options.flatMap(([name, value]) => ['-o', `${name}=${value}`]);
		const wanted = [serviceLine([service, type, ...fields]), ...options.map(([name, value]) => `  -o ${name}=${value}`)];

		const entries = this.entries(service, type);
		const blocks = this.commentedBlocks(service, type);
		const stranded = new Set(blocks.flatMap(block => block.stranded));

		// One action per line, applied in one pass at the end so that line indices stay valid.
		const actions = new Map<number, 'delete' | 'comment' | string[]>();
		const replace = (lines: number[]) => {
			actions.set(lines[0], wanted);
			for (const index of lines.slice(1)) actions.set(index, 'delete');
		};

		const [first, ...duplicates] = entries;
		if (first) {
			const same = first.fields.join(' ') === fields.join(' ') && first.args.join(' ') === args.join(' ');
			// An entry that only looks right because stranded lines complete it must be rewritten too.
			if (!same || first.lines.some(index => stranded.has(index))) replace(first.lines);
		} else if (blocks.length > 0) {
			replace(blocks[0].lines); // Debian's commented example becomes the real entry, where it stood
		}
		for (const duplicate of duplicates) {
			for (const index of duplicate.lines) if (!actions.has(index)) actions.set(index, 'comment');
		}
		for (const index of stranded) if (!actions.has(index)) actions.set(index, 'comment');

		if (!first && blocks.length === 0) {
			append(this.lines, wanted);
			return;
		}
		const result: string[] = [];
		this.lines.forEach((line, index) => {
			const action = actions.get(index);
			if (action === undefined) result.push(line);
			else if (action === 'comment') result.push(commentOut(line));
			else if (action !== 'delete') result.push(...action);
		});
		this.lines = result;
	}
}

/** Drop one item (case-insensitive) from a comma/space separated Postfix list such as mydestination. */
export function removeFromList(value: string, item: string): string {
	const wanted = item.trim().toLowerCase();
	return value
		.split(/[\s,]+/)
		.filter(entry => entry !== '' && entry.toLowerCase() !== wanted)
		.join(', ');
}

/** A Postfix list value with item in it: unchanged when it is there already, else item added at the end. */
export function addToList(value: string | undefined, item: string): string {
	const entries = (value ?? '').split(/[\s,]+/).filter(entry => entry !== '');
	return entries.includes(item) ? (value ?? '').trim() : [...entries, item].join(', ');
}
