// The mailbox screen's logic (`mail-setup mailbox` in a terminal), pure: the rows it lists, and what each key
// does — move, start a question, edit its line, or hand back an effect (a change to carry out, or quit).
import {validPassword} from '../answers.js';
import type {Key} from '../ui/keys.js';
import {edit, type Line, lineOf} from '../ui/line.js';
import {domainOf, listAliases, listDomains, listMailboxes, type ChangeRequest, type Snapshot} from './plan.js';
import {address, domain} from './request.js';

export type Row =
	| {kind: 'domain'; name: string; mailboxes: number; aliases: number}
	| {kind: 'mailbox'; address: string; maildir: string}
	| {kind: 'alias'; source: string; destination: string};

/** Each domain, then its mailboxes, then its aliases. */
export function rowsOf(s: Snapshot): Row[] {
	const mailboxes = listMailboxes(s);
	const aliases = listAliases(s);
	return listDomains(s).flatMap((d): Row[] => [
		{kind: 'domain', ...d},
		...mailboxes.filter(m => m.domain === d.name).map((m): Row => ({kind: 'mailbox', address: m.address, maildir: m.maildir})),
		...aliases.filter(a => domainOf(a.source) === d.name).map((a): Row => ({kind: 'alias', ...a})),
	]);
}

/** What a one-line question asks for. */
export type Asking = 'mailbox' | 'alias' | 'destination' | 'domain';

export type Mode =
	| {kind: 'browse'}
	| {kind: 'field'; asking: Asking; line: Line; source?: string; error?: string}
	| {kind: 'password'; address: string; verb: 'add' | 'passwd'; entry: PasswordEntry}
	| {kind: 'confirm'; request: ChangeRequest; question: string}
	| {kind: 'busy'};

export interface Message {
	ok: boolean;
	lines: string[];
}

export interface ScreenState {
	rows: Row[];
	cursor: number;
	mode: Mode;
	message?: Message;
}

export type RunEffect = {kind: 'run'; request: ChangeRequest; password?: string};
export type Effect = RunEffect | {kind: 'quit'};

/** A new password, typed twice (masked): the screen's and the `mailbox add|passwd` prompt's one rule. */
export interface PasswordEntry {
	line: Line;
	first?: string; // the first typing, accepted
	error?: string;
}

export const newPassword = (): PasswordEntry => ({line: lineOf('')});

const gaveUp = (key: Key) => key.name === 'escape' || (key.name === 'ctrl' && key.char === 'c');

/** The entry after one key; `password` once typed the same twice, `cancel` on Esc or Ctrl-C. */
export function passwordKey(entry: PasswordEntry, key: Key): {entry: PasswordEntry; password?: string; cancel?: boolean} {
	if (gaveUp(key)) return {entry, cancel: true};
	const {line, submit} = edit(entry.line, key);
	if (!submit) return {entry: {...entry, line, error: undefined}};
	const problem = validPassword(line.value);
	if (problem) return {entry: {...entry, line, error: `the password ${problem}`}};
	if (entry.first === undefined) return {entry: {first: line.value, line: lineOf('')}};
	if (entry.first !== line.value) return {entry: {line: lineOf(''), error: 'the two did not match: type it again'}};
	return {entry, password: line.value};
}

/** y is yes; n, Enter, Esc and Ctrl-C are no (the safe side is the default); any other key: no answer yet. */
export function confirmKey(key: Key): boolean | undefined {
	if (key.name === 'char' && key.char.toLowerCase() === 'y') return true;
	if ((key.name === 'char' && key.char.toLowerCase() === 'n') || key.name === 'enter' || gaveUp(key)) return false;
	return undefined;
}

export interface Step {
	state: ScreenState;
	effect?: Effect;
}

export const startScreen = (snapshot: Snapshot): ScreenState => ({rows: rowsOf(snapshot), cursor: 0, mode: {kind: 'browse'}});

const labels: Record<Asking, string> = {mailbox: 'New mailbox', alias: 'New alias', destination: 'Its destination', domain: 'New domain'};
export const labelOf = (mode: Extract<Mode, {kind: 'field'}>) => (mode.asking === 'destination' ? `${labels.destination} (mail to ${mode.source} goes to)` : labels[mode.asking]);

/** The domain the cursor is in: a new mailbox or alias starts as "@<it>". */
function domainAt(state: ScreenState): string | undefined {
	for (let i = state.cursor; i >= 0; i--) {
		const row = state.rows[i];
		if (row?.kind === 'domain') return row.name;
	}
	return undefined;
}

/** A field starting as "@domain" with the cursor before the @, to type the local part. */
const atDomain = (name: string | undefined): Line => (name ? {value: `@${name}`, cursor: 0} : lineOf(''));

const browse = (state: ScreenState, message?: Message): Step => ({state: {...state, mode: {kind: 'browse'}, message}});
const nothing = (state: ScreenState) => browse(state, {ok: true, lines: ['nothing was changed']});

function browseKey(state: ScreenState, key: Key): Step {
	const row = state.rows[state.cursor];
	const go = (mode: Mode): Step => ({state: {...state, mode, message: undefined}});
	const confirm = (request: ChangeRequest, question: string) => go({kind: 'confirm', request, question});
	if (key.name === 'up') return {state: {...state, cursor: Math.max(0, state.cursor - 1)}};
	if (key.name === 'down') return {state: {...state, cursor: Math.min(state.rows.length - 1, state.cursor + 1)}};
	if (key.name === 'pageUp' || key.name === 'home') return {state: {...state, cursor: 0}};
	if (key.name === 'pageDown' || key.name === 'end') return {state: {...state, cursor: Math.max(0, state.rows.length - 1)}};
	if (gaveUp(key)) return {state, effect: {kind: 'quit'}};
	const char = key.name === 'char' ? key.char : key.name === 'delete' ? 'r' : undefined;
	switch (char) {
		case 'q':
			return {state, effect: {kind: 'quit'}};
		case 'a':
			return go({kind: 'field', asking: 'mailbox', line: atDomain(domainAt(state))});
		case 'l':
			return go({kind: 'field', asking: 'alias', line: atDomain(domainAt(state))});
		case 'd':
			return go({kind: 'field', asking: 'domain', line: lineOf('')});
		case 'p':
			if (row?.kind === 'mailbox') return go({kind: 'password', address: row.address, verb: 'passwd', entry: newPassword()});
			return {state: {...state, message: {ok: false, lines: ['p changes the password of the mailbox under the cursor']}}};
		case 'r':
			if (row?.kind === 'mailbox') return confirm({noun: 'mailbox', verb: 'remove', address: row.address}, `Remove mailbox ${row.address}? Its mail stays in ${row.maildir}.`);
			if (row?.kind === 'alias') return confirm({noun: 'alias', verb: 'remove', source: row.source, destination: row.destination}, `Remove alias ${row.source} → ${row.destination}?`);
			if (row?.kind === 'domain') return confirm({noun: 'domain', verb: 'remove', domain: row.name}, `Remove domain ${row.name}?`);
			return {state};
		default:
			return {state};
	}
}

function fieldKey(state: ScreenState, mode: Extract<Mode, {kind: 'field'}>, key: Key): Step {
	if (gaveUp(key)) return nothing(state);
	const {line, submit} = edit(mode.line, key);
	if (!submit) return {state: {...state, mode: {...mode, line, error: undefined}}};
	let value: string;
	try {
		// The command's own checks (and its lower-casing): the screen refuses what the command would.
		value = mode.asking === 'domain' ? domain(line.value.trim()) : address(line.value.trim(), mode.asking === 'mailbox' ? 'address' : mode.asking);
	} catch (error) {
		return {state: {...state, mode: {...mode, line, error: (error as Error).message}}};
	}
	const run = (request: ChangeRequest): Step => ({state: {...state, mode: {kind: 'busy'}}, effect: {kind: 'run', request}});
	switch (mode.asking) {
		case 'domain':
			return run({noun: 'domain', verb: 'add', domain: value});
		case 'mailbox':
			return {state: {...state, mode: {kind: 'password', address: value, verb: 'add', entry: newPassword()}}};
		case 'alias':
			return {state: {...state, mode: {kind: 'field', asking: 'destination', source: value, line: lineOf('')}}};
		case 'destination':
			return run({noun: 'alias', verb: 'add', source: mode.source!, destination: value});
	}
}

/** The screen after one key, and what to do about it (the caller carries it out, then calls done()). */
export function screenKey(state: ScreenState, key: Key): Step {
	const {mode} = state;
	switch (mode.kind) {
		case 'browse':
			return browseKey(state, key);
		case 'field':
			return fieldKey(state, mode, key);
		case 'password': {
			const {entry, password, cancel} = passwordKey(mode.entry, key);
			if (cancel) return nothing(state);
			if (password === undefined) return {state: {...state, mode: {...mode, entry}}};
			return {state: {...state, mode: {kind: 'busy'}}, effect: {kind: 'run', request: {noun: 'mailbox', verb: mode.verb, address: mode.address}, password}};
		}
		case 'confirm': {
			const yes = confirmKey(key);
			if (yes === undefined) return {state};
			return yes ? {state: {...state, mode: {kind: 'busy'}}, effect: {kind: 'run', request: mode.request}} : nothing(state);
		}
		case 'busy':
			return {state};
	}
}

/** After an effect: the rows as the database holds them now (the cursor where it was, or on the row just added) and what happened. */
export function done(state: ScreenState, snapshot: Snapshot, message: Message, focus?: string): ScreenState {
	const rows = rowsOf(snapshot);
	const found = focus === undefined ? -1 : rows.findIndex(row => (row.kind === 'domain' ? row.name : row.kind === 'mailbox' ? row.address : row.source) === focus);
	return {rows, cursor: found >= 0 ? found : Math.min(state.cursor, Math.max(0, rows.length - 1)), mode: {kind: 'browse'}, message};
}
