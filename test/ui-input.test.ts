// The input layer key by key: terminal bytes → keys (keys.ts), keys → a line (line.ts), keys → the questions (form.ts).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {createTokenizer, type Key, keysOf} from '../source/ui/keys.ts';
import {edit, type Line, lineOf} from '../source/ui/line.ts';
import {type Field, fields, formKey, startForm} from '../source/ui/form.ts';

const char = (c: string): Key => ({name: 'char', char: c});
const chars = (text: string) => [...text].map(char);
const enter: Key = {name: 'enter'};
const backspace: Key = {name: 'backspace'};

/** Feed reads one after another to one tokenizer, then let the line go quiet. */
function reads(...chunks: string[]): Key[] {
	const tokenizer = createTokenizer();
	return [...chunks.flatMap(chunk => tokenizer.push(chunk)), ...tokenizer.flush()];
}

test('printable runs are one key per character; every DEL or BS is one Backspace', () => {
	assert.deepEqual(keysOf('xx\x7f\x7f'), [...chars('xx'), backspace, backspace]);
	assert.deepEqual(keysOf('jjj'), chars('jjj'));
	assert.deepEqual(keysOf('aq'), [char('a'), char('q')]);
	assert.deepEqual(keysOf('a\bb'), [char('a'), backspace, char('b')]);
	assert.deepEqual(keysOf('é€😀'), chars('é€😀'), 'a character outside the BMP is one key');
});

test('CR, LF and CRLF are one Enter each; CRLF split over two reads too', () => {
	assert.deepEqual(keysOf('pw\r'), [...chars('pw'), enter]);
	assert.deepEqual(keysOf('a\r\nb'), [char('a'), enter, char('b')]);
	assert.deepEqual(keysOf('a\nb\n'), [char('a'), enter, char('b'), enter]);
	assert.deepEqual(keysOf('\r\r'), [enter, enter], 'two Enters stay two');
	assert.deepEqual(reads('a\r', '\nb'), [char('a'), enter, char('b')]);
});

test('Ctrl keys by their letter; Tab, Delete, arrows, Home/End, PgUp/PgDn in every common form', () => {
	assert.deepEqual(keysOf('\x15\x17\x01\x05\x03'), ['u', 'w', 'a', 'e', 'c'].map(c => ({name: 'ctrl', char: c})));
	assert.deepEqual(keysOf('\t\x1b[Z'), [{name: 'tab'}, {name: 'backTab'}]);
	assert.deepEqual(keysOf('\x1b[3~'), [{name: 'delete'}]);
	assert.deepEqual(keysOf('\x1b[A\x1b[B\x1b[C\x1b[D'), [{name: 'up'}, {name: 'down'}, {name: 'right'}, {name: 'left'}]);
	assert.deepEqual(keysOf('\x1bOA\x1bOB\x1bOC\x1bOD'), [{name: 'up'}, {name: 'down'}, {name: 'right'}, {name: 'left'}], 'application cursor mode');
	assert.deepEqual(keysOf('\x1b[1;5A'), [{name: 'up'}], 'with a modifier');
	const home = {name: 'home'};
	const end = {name: 'end'};
	assert.deepEqual(keysOf('\x1b[H\x1b[F\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[7~\x1b[8~'), [home, end, home, end, home, end, home, end]);
	assert.deepEqual(keysOf('\x1b[5~\x1b[6~'), [{name: 'pageUp'}, {name: 'pageDown'}]);
	assert.deepEqual(keysOf('\x1b'), [{name: 'escape'}], 'a lone ESC, once the line is quiet');
});

test('escape sequences split over reads come out whole', () => {
	assert.deepEqual(reads('a\x1b', '[A'), [char('a'), {name: 'up'}]);
	assert.deepEqual(reads('\x1b[', '3', '~b'), [{name: 'delete'}, char('b')]);
	const tokenizer = createTokenizer();
	assert.deepEqual(tokenizer.push('x\x1b['), [char('x')]);
	assert.equal(tokenizer.pending, 'escape');
	assert.deepEqual(tokenizer.push('6~'), [{name: 'pageDown'}]);
	assert.equal(tokenizer.pending, undefined);
});

test('no control character ever comes out as a character: unknown ones are dropped', () => {
	const keys = keysOf('a\x00\x1c\x1f\x9b\x85b\x1b[2~\x1b[[A\x1bxc\x1b\x1b[A');
	assert.deepEqual(keys, [char('a'), char('b'), char('c'), {name: 'up'}]);
	for (const key of keys) if (key.name === 'char') assert.doesNotMatch(key.char, /[\x00-\x1f\x7f-\x9f]/);
});

test('a bracketed paste is one key with its text, even split over reads and in the middle of its end marker', () => {
	assert.deepEqual(keysOf('\x1b[200~s3cret pw\r\x1b[201~'), [{name: 'paste', text: 's3cret pw\n'}]);
	assert.deepEqual(reads('a\x1b[20', '0~one\r\ntw', 'o\x1b[2', '01~b'), [char('a'), {name: 'paste', text: 'one\ntwo'}, char('b')]);
	// Controls inside: line breaks kept as \n, a tab a space, the rest dropped; DEL is not a Backspace here.
	assert.deepEqual(keysOf('\x1b[200~a\tb\x7f\x00c\x1b[A\r\x1b[201~'), [{name: 'paste', text: 'a bc[A\n'}]);
	const tokenizer = createTokenizer();
	tokenizer.push('\x1b[200~half');
	assert.equal(tokenizer.pending, 'paste');
	assert.deepEqual(tokenizer.flush(), [{name: 'paste', text: 'half'}], 'a paste that never ends is given as it is');
});

/** Type keys into a line; the submitted values in order, and the line at the end. */
function type(keys: Key[], start: Line = lineOf('')): {submitted: string[]; line: Line} {
	const submitted: string[] = [];
	let line = start;
	for (const key of keys) {
		const result = edit(line, key);
		line = result.line;
		if (result.submit) submitted.push(line.value);
	}
	return {submitted, line};
}

test('line: typing, Backspace per key, Enter submits the value as it is at that key', () => {
	assert.deepEqual(type(keysOf('mail.example.testxx\x7f\x7f\r')).submitted, ['mail.example.test']);
	assert.deepEqual(type(keysOf('xx\x7f\x7f'), lineOf('mail.example.test')).line, {value: 'mail.example.test', cursor: 17});
	assert.deepEqual(type(keysOf('pw\r')).submitted, ['pw']);
	assert.deepEqual(type(keysOf('\x7f\x7f\x7f')).line, {value: '', cursor: 0}, 'Backspace at the start does nothing');
});

test('line: ←/→, Home/End, Ctrl-A/E, Delete, Ctrl-U, Ctrl-W', () => {
	assert.equal(type(keysOf('ac\x1b[Db\r')).submitted[0], 'abc');
	assert.equal(type(keysOf('bc\x01a\x05d\r')).submitted[0], 'abcd');
	assert.equal(type(keysOf('bc\x1b[Ha\x1b[Fd\r')).submitted[0], 'abcd');
	assert.equal(type(keysOf('abc\x1b[H\x1b[3~\r')).submitted[0], 'bc');
	assert.equal(type(keysOf('abc\x1b[3~\r')).submitted[0], 'abc', 'Delete at the end does nothing');
	assert.deepEqual(type(keysOf('\x15'), lineOf('mail.example.test')).line, {value: '', cursor: 0}, 'Ctrl-U clears');
	assert.equal(type(keysOf('abc\x1b[D\x15\r')).submitted[0], 'c', 'Ctrl-U: what is before the cursor, as a shell');
	assert.equal(type(keysOf('pass word  \x17\r')).submitted[0], 'pass ', 'Ctrl-W: the word before the cursor');
	assert.equal(type(keysOf('abc\x17\x17x\r')).submitted[0], 'x');
	assert.equal(type(keysOf('\x1b[D\x1b[D\x1b[C'), lineOf('ab')).line.cursor, 1);
});

test('line: a paste inserts up to its first line break, which submits; the rest is dropped', () => {
	assert.deepEqual(type(keysOf('\x1b[200~Secret-1\n\x1b[201~')).submitted, ['Secret-1']);
	assert.deepEqual(type(keysOf('\x1b[200~line one\nline two\n\x1b[201~')).submitted, ['line one']);
	const {submitted, line} = type(keysOf('ab\x1b[D\x1b[200~XY\x1b[201~'));
	assert.deepEqual(submitted, []);
	assert.deepEqual(line, {value: 'aXYb', cursor: 3}, 'a paste without a line break is inserted at the cursor');
});

test('form: typed ahead over several fields in one read, as in a shell', () => {
	const optional = new Set<Field>();
	let form = startForm(withDefaults({fqdn: 'mail.example.test'}));
	// Fix the FQDN's typo with three Backspaces in the same read, then Enter through domain … user.
	for (const key of keysOf('xyz\x7f\x7f\x7f\r\r\r\r\r\r')) form = formKey(form, key, optional);
	assert.equal(form.values.fqdn, 'mail.example.test');
	assert.equal(fields[form.index], 'dbPassword');
	// A pasted password with its newline submits; text after the line break never reaches the next field.
	for (const key of keysOf('\x1b[200~db pw 1\nleaked\x1b[201~')) form = formKey(form, key, optional);
	assert.equal(form.values.dbPassword, 'db pw 1');
	assert.equal(fields[form.index], 'testUser');
	assert.equal(form.line.value, 'test@example.test');
	// Without bracketed paste (tmux paste-buffer): "pw\r" in one read is typed, then submitted.
	for (const key of keysOf('\rTest-pw-2\r')) form = formKey(form, key, optional);
	assert.equal(form.values.testPassword, 'Test-pw-2');
	assert.equal(form.done, true);
	assert.equal(formKey(form, char('x'), optional), form, 'keys after the last field are not the form’s');
});

test('form: Enter on a bad value stays put; the FQDN carries the defaults that follow it', () => {
	let form = startForm(withDefaults({fqdn: 'mail.example.test'}));
	for (const key of keysOf('\x15mx.other.test\r')) form = formKey(form, key, new Set());
	assert.equal(form.values.domain, 'other.test');
	assert.equal(form.values.testUser, 'test@other.test');
	assert.equal(form.line.value, 'other.test', 'the next field starts with its default, cursor at the end');
	for (const key of keysOf('\x15\r')) form = formKey(form, key, new Set());
	assert.equal(fields[form.index], 'domain', 'an empty domain is refused');
	for (const key of keysOf('\x1b[A')) form = formKey(form, key, new Set());
	assert.equal(fields[form.index], 'fqdn');
});
