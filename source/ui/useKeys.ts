// The one keyboard hook every screen uses (instead of ink's useInput): keys from ./keys.ts, one at a time.
//
// ink's useInput hands a handler each chunk its parser emits as one `input` string ("xx\x7f\x7f" is one call)
// and strips what the key was ("\x15" arrives as `u` with ctrl). So we listen where useInput itself listens,
// to the chunks Ink's App emits on useStdin().internal_eventEmitter ('input'), before any of that, and split
// them with one tokenizer per app (a paste or an escape sequence may span reads).
import type {EventEmitter} from 'node:events';
import {useStdin} from 'ink';
import {useEffect, useLayoutEffect, useRef, useState} from 'react';
import {createTokenizer, type Key} from './keys.js';

type Handler = (key: Key) => void;

// How long a held-back start of an escape sequence waits for its end before a lone ESC counts as the Escape
// key; a paste waits longer for its end marker (a slow link may split it).
const ESCAPE_WAIT_MS = 50;
const PASTE_WAIT_MS = 500;

/** One per Ink app: reads its input chunks, hands every key to every listening screen, in order. */
class Keyboard {
	private readonly handlers = new Set<{current: Handler}>();
	private readonly tokenizer = createTokenizer();
	private timer?: NodeJS.Timeout;

	constructor(private readonly emitter: EventEmitter) {}

	private readonly onInput = (chunk: string) => {
		clearTimeout(this.timer);
		this.deliver(this.tokenizer.push(chunk));
		const pending = this.tokenizer.pending;
		if (pending) this.timer = setTimeout(() => this.deliver(this.tokenizer.flush()), pending === 'paste' ? PASTE_WAIT_MS : ESCAPE_WAIT_MS);
	};

	private deliver(keys: Key[]): void {
		// Each key on its own: a handler keeps what it needs in a ref, so the next key of the same chunk sees it.
		for (const key of keys) for (const handler of [...this.handlers]) handler.current(key);
	}

	listen(handler: {current: Handler}): () => void {
		if (this.handlers.size === 0) this.emitter.on('input', this.onInput);
		this.handlers.add(handler);
		return () => {
			this.handlers.delete(handler);
			if (this.handlers.size > 0) return;
			this.emitter.off('input', this.onInput);
			clearTimeout(this.timer);
		};
	}
}

const keyboards = new WeakMap<EventEmitter, Keyboard>();

/** Call handler with every key while active. Raw mode is on while any screen listens, as with useInput. */
export function useKeys(handler: Handler, {active = true}: {active?: boolean} = {}): void {
	const {setRawMode, internal_eventEmitter: emitter} = useStdin();
	// The latest handler, in place before the next key arrives (layout effects run with the commit).
	const ref = useRef(handler);
	useLayoutEffect(() => {
		ref.current = handler;
	});
	useEffect(() => {
		if (!active) return;
		setRawMode(true);
		let keyboard = keyboards.get(emitter);
		if (!keyboard) keyboards.set(emitter, (keyboard = new Keyboard(emitter)));
		const stop = keyboard.listen(ref);
		return () => {
			stop();
			setRawMode(false);
		};
	}, [active, emitter, setRawMode]);
}

/**
 * State that keys change. Kept in a ref, so every key of one read sees what the key before it did (React
 * state would give each the value of the last render); set() also re-renders with it.
 */
export function useKeyState<T>(initial: T): [current: {current: T}, shown: T, set: (next: T) => void] {
	const current = useRef(initial);
	const [shown, setShown] = useState(initial);
	const set = (next: T) => {
		current.current = next;
		setShown(next);
	};
	return [current, shown, set];
}
