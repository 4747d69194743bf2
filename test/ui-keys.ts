// Keys as a terminal sends them, and a pause long enough for Ink to re-render between them.
export const keys = {
	enter: '\r',
	up: '\u001B[A',
	down: '\u001B[B',
	pageUp: '\u001B[5~',
	pageDown: '\u001B[6~',
	home: '\u001B[H',
	end: '\u001B[F',
	backspace: '\u007F',
	ctrlC: '\u0003',
};

export const tick = (ms = 20) => new Promise(resolve => setTimeout(resolve, ms));

/** Wait until the frame shows what we expect (Ink renders at most every ~33 ms), or a value is there. */
export async function until<T = string>(frame: () => T | undefined, test: (value: T) => boolean, ms = 2000): Promise<T> {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		const text = frame();
		if (text !== undefined && test(text)) {
			// Ink prints a screen before its key handlers subscribe (React runs effects after the commit).
			await tick(15);
			return text;
		}
		await tick(10);
	}
	throw new Error(`frame never matched; last frame:\n${frame()}`);
}

/** Write a key and wait for the screen to answer it, as a person would before the next key. */
export async function press(stdin: {write(data: string): void}, frame: () => string | undefined, key: string): Promise<string> {
	const before = frame();
	stdin.write(key);
	return until(frame, text => text !== before);
}
