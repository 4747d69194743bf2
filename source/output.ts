// Plain-text rendering of results for the headless path (the TUI has its own components).
import {recordLabels, recordText} from './dns/records.js';
import type {Report} from './run.js';
import type {CheckResult, StageResult} from './types.js';

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
		const width = Math.max(...Object.values(recordLabels).map(label => label.length));
		for (const r of report.records) lines.push(`  ${shade[r.status](recordLabels[r.status].padEnd(width))}  ${recordText(r)}`);
		lines.push('');
	}
	const counts = (status: string) => report.stages.filter(stage => stage.status === status).length;
	if (report.dryRun) {
		// Nothing ran, so nothing passed: say what would happen.
		const changing = report.stages.filter(wouldChange).length;
		const more = [`${counts('planned') - changing} would not`, counts('fail') ? `${counts('fail')} failed` : '', counts('skipped') ? `${counts('skipped')} skipped` : ''];
		const head = report.ok ? p.yellow('DRY RUN') : p.red('FAILED');
		lines.push(`${head}: ${changing} stage${changing === 1 ? '' : 's'} would change something, ${more.filter(Boolean).join(', ')}; nothing was changed`);
	} else {
		lines.push(`${report.ok ? p.green('OK') : p.red('FAILED')}: ${counts('pass')} passed, ${counts('fail')} failed, ${counts('skipped')} skipped`);
	}
	if (backups) lines.push(`Backups of every changed file: ${backups} (undo with: mail-setup undo)`);
	return lines.join('\n');
}
