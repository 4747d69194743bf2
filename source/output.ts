// Plain-text rendering of results for the headless path (the TUI has its own components).
import {recordLabels, recordLabelWidth, recordText} from './dns/records.js';
import type {Report} from './run.js';
import type {CheckResult, StageResult, Status} from './types.js';
import {plural} from './words.js';

export interface Paint {
	green(text: string): string;
	red(text: string): string;
	yellow(text: string): string;
	dim(text: string): string;
	bold(text: string): string;
}

export function paint(enabled: boolean): Paint {
	const wrap = (code: number, reset: number) => (text: string) => (enabled ? `\u001B[${code}m${text}\u001B[${reset}m` : text);
	return {green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22)};
}

const mark = (status: string, p: Paint) =>
	({pass: p.green('PASS'), fail: p.red('FAIL'), inconclusive: p.yellow('????'), planned: p.yellow('PLAN')})[status] ?? p.dim('SKIP');

/** A dry-run stage that would write a file or run a command (the checks list none: they only connect). */
export const wouldChange = (stage: StageResult) => stage.status === 'planned' && (stage.changes.length > 0 || stage.commands.length > 0);

/** How a run ended, in counts (the summary's first line, TUI and text alike). Nothing ran in a dry run, so
 * nothing passed: it says what would change. */
export function tally(stages: {status: Status; wouldChange?: boolean}[], dryRun: boolean): string {
	const count = (status: Status) => stages.filter(stage => stage.status === status).length;
	if (!dryRun) return `${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`;
	const would = stages.filter(stage => stage.wouldChange).length;
	const counts = [`${plural(would, 'stage')} would change something`, `${count('planned') - would} would not`];
	if (count('fail')) counts.push(`${count('fail')} failed`);
	if (count('skipped')) counts.push(`${count('skipped')} skipped`);
	return `${counts.join(', ')}; nothing was changed`;
}

export function colorDiff(diff: string, p: Paint): string {
	return diff
		.split('\n')
		.map(line => (line.startsWith('+') && !line.startsWith('+++') ? p.green(line) : line.startsWith('-') && !line.startsWith('---') ? p.red(line) : line.startsWith('@@') ? p.dim(line) : line))
		.join('\n');
}

export function formatStage(result: StageResult, title: string, p: Paint): string {
	const out = [`[${mark(result.status, p)}] ${p.bold(result.id)}  ${title}`];
	for (const change of result.changes) out.push(colorDiff(change.diff.trimEnd(), p));
	for (const command of result.commands) out.push(p.dim(`$ ${command}`));
	if (result.message) out.push(...result.message.split('\n').map(line => `       ${line}`));
	return out.join('\n');
}

export function formatCheck(check: CheckResult, p: Paint, transcript: boolean): string {
	const out = [`  [${mark(check.status, p)}] ${check.id}: ${check.message}`];
	if (transcript && check.transcript) out.push(p.dim(check.transcript.trimEnd().replace(/^/gm, '         ')));
	return out.join('\n');
}

export function formatSummary(report: Report, p: Paint, backups?: string): string {
	const lines = [''];
	if (report.records.length) {
		lines.push(p.bold('DNS records (zone-file lines):'));
		const shade = {published: p.green, missing: p.yellow, wrong: p.red, unchecked: p.dim};
		for (const r of report.records) lines.push(`  ${shade[r.status](recordLabels[r.status].padEnd(recordLabelWidth))}  ${recordText(r)}`);
		lines.push('');
	}
	const head = !report.ok ? p.red('FAILED') : report.dryRun ? p.yellow('DRY RUN') : p.green('OK');
	lines.push(`${head}: ${tally(report.stages.map(stage => ({status: stage.status, wouldChange: wouldChange(stage)})), report.dryRun)}`);
	if (backups) lines.push(`Backups of every changed file: ${backups} (undo with: mail-setup undo)`);
	return lines.join('\n');
}
