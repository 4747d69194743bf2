// A lossless editor for opendkim.conf: toString() of an unedited file is the file, and set() touches only the
// line it must. The grammar, as opendkim.conf(5) gives it: '#' starts a comment (to the end of the line), blank
// lines are ignored, anything else is a parameter name, white space, then the value. Names are not case-sensitive.

const commentOut = (line: string) => `#${line}`;

/** The parameter a line sets, or undefined for a comment or blank line. */
function parse(line: string): {name: string; value: string} | undefined {
	const text = line.replace(/#.*$/, '').trim();
	if (!text) return undefined;
	const match = text.match(/^(\S+)\s*(.*)$/)!;
	return {name: match[1]!.toLowerCase(), value: match[2]!};
}

export class OpendkimConf {
	private constructor(private lines: string[]) {}

	static parse(text: string): OpendkimConf {
		return new OpendkimConf(text.split('\n'));
	}

	toString(): string {
		return this.lines.join('\n');
	}

	private indices(name: string): number[] {
		const key = name.toLowerCase();
		return this.lines.flatMap((line, index) => (parse(line)?.name === key ? [index] : []));
	}

	get(name: string): string | undefined {
		const index = this.indices(name).at(-1);
		return index === undefined ? undefined : parse(this.lines[index]!)!.value;
	}

	/** Comment out every line that sets the parameter. */
	remove(name: string): void {
		for (const index of this.indices(name)) this.lines[index] = commentOut(this.lines[index]!);
	}

	/** The value, on the parameter's own line (its spelling and spacing kept); other lines setting it are commented out. */
	set(name: string, value: string): void {
		if (/[\r\n#]/.test(value)) throw new Error(`opendkim.conf value for ${name} must be one line without '#'`);
		const found = this.indices(name);
		const last = found.pop();
		// Which of two lines opendkim takes is not documented: leave exactly one.
		for (const index of found) this.lines[index] = commentOut(this.lines[index]!);
		if (last === undefined) {
			const end = this.lines.at(-1) === '' ? this.lines.length - 1 : this.lines.length;
			this.lines.splice(end, 0, `${name}\t${value}`);
			if (this.lines.at(-1) !== '') this.lines.push('');
			return;
		}
		if (this.get(name) === value) return;
		// Name and spacing as the operator wrote them, then the value, then any trailing comment.
		const [, head, , comment] = this.lines[last]!.match(/^(\s*[^\s#]+\s*)([^#]*?)(\s*#.*)?$/)!;
		this.lines[last] = `${/\s$/.test(head!) ? head : `${head}\t`}${value}${comment ?? ''}`;
	}
}

/**
 * A KeyTable or SigningTable (flat files: a key, white space, a value) with `key value` in it: the line for
 * that key replaced, every other line (other domains, comments) kept; a new key goes at the end.
 */
export function setTableEntry(text: string | undefined, key: string, value: string): string {
	const lines = (text ?? '').split('\n');
	if (lines.at(-1) === '') lines.pop();
	const entry = `${key} ${value}`;
	const index = lines.findIndex(line => line.replace(/#.*$/, '').trim().split(/\s+/)[0] === key);
	if (index === -1) lines.push(entry);
	else lines[index] = entry;
	return lines.join('\n') + '\n';
}
