// Unified diffs of config files (small: a few hundred lines), by longest common subsequence.

type Op = {kind: ' ' | '-' | '+'; line: string; a: number; b: number};

function splitLines(text: string): string[] {
	if (text === '') return [];
	const lines = text.split('\n');
	if (lines.at(-1) === '') lines.pop();
	else lines[lines.length - 1] += '\n\\ No newline at end of file';
	return lines;
}

function edits(a: string[], b: string[]): Op[] {
	// Trim the common head and tail first: most edits touch a few lines of a long file.
	let start = 0;
	while (start < a.length && start < b.length && a[start] === b[start]) start++;
	let endA = a.length;
	let endB = b.length;
	while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
		endA--;
		endB--;
	}
	const n = endA - start;
	const m = endB - start;
	const table = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
	for (let i = n - 1; i >= 0; i--) {
		for (let j = m - 1; j >= 0; j--) {
			table[i]![j] = a[start + i] === b[start + j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
		}
	}
	const ops: Op[] = [];
	for (let k = 0; k < start; k++) ops.push({kind: ' ', line: a[k]!, a: k, b: k});
	let i = 0;
	let j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && a[start + i] === b[start + j]) {
			ops.push({kind: ' ', line: a[start + i]!, a: start + i, b: start + j});
			i++;
			j++;
		} else if (i < n && (j === m || table[i + 1]![j]! >= table[i]![j + 1]!)) {
			ops.push({kind: '-', line: a[start + i]!, a: start + i, b: start + j});
			i++;
		} else {
			ops.push({kind: '+', line: b[start + j]!, a: start + i, b: start + j});
			j++;
		}
	}
	for (let k = 0; k < a.length - endA; k++) ops.push({kind: ' ', line: a[endA + k]!, a: endA + k, b: endB + k});
	return ops;
}

/** `diff -u` style text; '' when equal. */
export function unifiedDiff(oldText: string, newText: string, name: string, existed = true, context = 3): string {
	if (oldText === newText) return '';
	const ops = edits(splitLines(oldText), splitLines(newText));
	const out = [`--- ${existed ? 'a' + name : '/dev/null'}`, `+++ b${name}`];
	let k = 0;
	while (k < ops.length) {
		if (ops[k]!.kind === ' ') {
			k++;
			continue;
		}
		// A hunk: this change plus neighbours closer than 2×context lines.
		const from = Math.max(0, k - context);
		let to = k;
		let quiet = 0;
		while (to < ops.length && quiet <= 2 * context) {
			quiet = ops[to]!.kind === ' ' ? quiet + 1 : 0;
			to++;
		}
		to = Math.min(ops.length, to - quiet + context);
		const hunk = ops.slice(from, to);
		const aCount = hunk.filter(op => op.kind !== '+').length;
		const bCount = hunk.filter(op => op.kind !== '-').length;
		const aStart = aCount ? hunk.find(op => op.kind !== '+')!.a + 1 : hunk[0]!.a;
		const bStart = bCount ? hunk.find(op => op.kind !== '-')!.b + 1 : hunk[0]!.b;
		out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
		for (const op of hunk) out.push(op.kind + op.line);
		k = to;
	}
	return out.join('\n') + '\n';
}
