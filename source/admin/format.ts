// Day two's reports as plain text for the headless path (--json prints the report itself).
import type {Paint} from '../output.js';
import {plural} from '../words.js';
import {domainOf} from './plan.js';
import type {ChangeReport, Report} from './run.js';

/** What a change did (or would do), its notes, and how to take it back. */
export function changeLines(report: ChangeReport): string[] {
	return [report.message, ...report.notes, ...(report.reverse && report.status === 'pass' ? [`to reverse: ${report.reverse}`] : [])];
}

/** Rows grouped under their domain, in the order given (already sorted). */
function grouped<T>(rows: T[], domainOf: (row: T) => string, line: (row: T) => string, p: Paint): string[] {
	const out: string[] = [];
	let current: string | undefined;
	for (const row of rows) {
		if (domainOf(row) !== current) out.push(p.bold((current = domainOf(row))));
		out.push(`  ${line(row)}`);
	}
	return out;
}

const width = (values: string[]) => Math.max(0, ...values.map(value => value.length));

export function formatReport(report: Report, p: Paint): string {
	if ('mailboxes' in report) {
		const w = width(report.mailboxes.map(m => m.address));
		return [...grouped(report.mailboxes, m => m.domain, m => `${m.address.padEnd(w)}  ${p.dim(m.maildir)}`, p), plural(report.mailboxes.length, 'mailbox')].join('\n');
	}
	if ('aliases' in report) {
		const w = width(report.aliases.map(a => a.source));
		return [...grouped(report.aliases, a => domainOf(a.source), a => `${a.source.padEnd(w)} → ${a.destination}`, p), plural(report.aliases.length, 'alias')].join('\n');
	}
	if ('domains' in report) {
		const w = width(report.domains.map(d => d.name));
		return [...report.domains.map(d => `${d.name.padEnd(w)}  ${plural(d.mailboxes, 'mailbox')}, ${plural(d.aliases, 'alias')}`), plural(report.domains.length, 'domain')].join('\n');
	}
	const mark = report.status === 'pass' ? p.green('PASS') : report.status === 'fail' ? p.red('FAIL') : p.yellow('PLAN');
	const [message, ...rest] = changeLines(report);
	return [`[${mark}] ${p.bold(report.command)}: ${message}`, ...report.sql.map(sql => p.dim(`       SQL> ${sql}`)), ...rest.map(line => `       ${line}`)].join('\n');
}
