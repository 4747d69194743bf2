// The questions as a form: which field has the keyboard, its line editor, and what every key does. Pure, so a
// whole read of keys ("mail.example.org\r\r\r") goes through the fields in order, as typed ahead in a shell.
// Defaults that follow from the FQDN (domain, postmaster, test mailbox, certificate paths, check host) keep
// following it until edited.
import {fieldNames, validators, withDefaults} from '../answers.js';
import type {Answers} from '../types.js';
import type {Key} from './keys.js';
import {edit, type Line, lineOf} from './line.js';

export type Field = 'fqdn' | 'domain' | 'postmaster' | 'dbHost' | 'dbName' | 'dbUser' | 'dbPassword' | 'testUser' | 'testPassword';
export const fields: Field[] = ['fqdn', 'domain', 'postmaster', 'dbHost', 'dbName', 'dbUser', 'dbPassword', 'testUser', 'testPassword'];
export const secretFields: ReadonlySet<Field> = new Set(['dbPassword', 'testPassword']);

const derived = ['domain', 'postmaster', 'testUser', 'checkHost', 'cert', 'key'] as const;
type Derived = (typeof derived)[number];
const isDerived = (field: keyof Answers): field is Derived => (derived as readonly string[]).includes(field);

/** Derived fields not pinned take the value the FQDN (and a pinned domain) give them. */
export function follow(values: Answers, pinned: ReadonlySet<Derived>): Answers {
	const fresh = withDefaults({fqdn: values.fqdn, domain: pinned.has('domain') ? values.domain : undefined});
	const out = {...values};
	for (const field of derived) if (!pinned.has(field)) out[field] = fresh[field];
	return out;
}

/** Derived fields whose present value was chosen (a flag, the existing config), not derived. */
export function pinnedOf(answers: Answers): Set<Derived> {
	const pinned = new Set<Derived>();
	if (answers.domain !== follow(answers, pinned).domain) pinned.add('domain');
	const expected = follow(answers, pinned);
	for (const field of derived) if (answers[field] !== expected[field]) pinned.add(field);
	return pinned;
}

export function problemOf(field: Field, value: string, optional: ReadonlySet<Field>): string | undefined {
	if (value === '' && optional.has(field)) return undefined;
	const problem = validators[field]?.(value);
	return problem ? `${fieldNames[field]} ${problem}` : undefined;
}

export interface Form {
	values: Answers;
	pinned: ReadonlySet<Derived>;
	index: number;
	/** The editor of fields[index]. */
	line: Line;
	/** Every field accepted: the keys after that are not the form's. */
	done: boolean;
}

export const startForm = (initial: Answers): Form => ({values: initial, pinned: pinnedOf(initial), index: 0, line: lineOf(initial.fqdn), done: false});

const at = (form: Form, index: number): Form => ({...form, index, line: lineOf(form.values[fields[index]!])});

/** The form after one key. optional: fields that may stay empty (passwords a dry run does not need). */
export function formKey(form: Form, key: Key, optional: ReadonlySet<Field>): Form {
	if (form.done) return form;
	const field = fields[form.index]!;
	const valid = !problemOf(field, form.values[field], optional);
	if (key.name === 'up') return form.index > 0 ? at(form, form.index - 1) : form;
	if (key.name === 'down' || key.name === 'tab') return valid && form.index + 1 < fields.length ? at(form, form.index + 1) : form;
	const {line, submit} = edit(form.line, key);
	let next = form;
	if (line.value !== form.values[field]) {
		const pinned = isDerived(field) ? new Set([...form.pinned, field]) : form.pinned;
		let values = {...form.values, [field]: line.value};
		if (field === 'fqdn' || field === 'domain') values = follow(values, pinned);
		next = {...form, values, pinned, line};
	} else if (line !== form.line) next = {...form, line};
	if (!submit || problemOf(field, next.values[field], optional)) return next;
	return next.index + 1 < fields.length ? at(next, next.index + 1) : {...next, done: true};
}
