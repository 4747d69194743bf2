// Colours only when wanted: NO_COLOR (https://no-color.org) or FORCE_COLOR=0 turn them off.
import type {Status} from '../types.js';

export function colorsOn(env = process.env): boolean {
	return !('NO_COLOR' in env && env.NO_COLOR !== '') && env.FORCE_COLOR !== '0';
}

/** A colour for ink's <Text color>, or undefined when colours are off. */
export function tint(color: string): string | undefined {
	return colorsOn() ? color : undefined;
}

export const verdicts: Record<Status, string> = {pass: 'PASS', fail: 'FAIL', skipped: 'SKIPPED', planned: 'PLANNED (dry run)'};

export const marks: Record<Status | 'current' | 'pending', string> = {
	pass: '✔',
	fail: '✘',
	skipped: '–',
	planned: '○',
	current: '▸',
	pending: '·',
};

export const markColor: Record<Status, string> = {pass: 'green', fail: 'red', skipped: 'yellow', planned: 'cyan'};
