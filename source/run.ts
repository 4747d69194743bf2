// The headless path: every selected stage in order, stopping at the first failure.
import {apply, preview} from './engine.js';
import {recordsToPublish} from './stages/check.js';
import type {Stage, StageContext} from './stages/stage.js';
import type {CheckResult, DnsRecord, StageResult} from './types.js';

export interface Report {
	ok: boolean;
	dryRun: boolean;
	stages: StageResult[];
	checks: CheckResult[];
	/** Every DNS record to publish, with what the DNS checks found (when they ran). */
	records: DnsRecord[];
}

export interface RunOptions {
	/** Stages that talk to services are left out (a --root tree with no stage named). */
	skipLive?: boolean;
	onResult?: (result: StageResult) => void;
}

export async function runStages(list: Stage[], ctx: StageContext, {skipLive, onResult}: RunOptions = {}): Promise<Report> {
	const report: Report = {ok: true, dryRun: ctx.host.dryRun, stages: [], checks: [], records: []};
	let records: DnsRecord[] | undefined;
	for (const stage of list) {
		let result: StageResult;
		if (!report.ok) {
			result = {id: stage.id, status: 'skipped', changes: [], commands: [], message: 'not run: an earlier stage failed'};
		} else if (skipLive && stage.live) {
			result = {id: stage.id, status: 'skipped', changes: [], commands: [], message: 'not run under --root: name it to run it against this machine'};
		} else {
			try {
				result = await apply(await preview(stage, ctx), ctx);
			} catch (error) {
				// Planning failed (a file it cannot parse, say): nothing was written.
				result = {id: stage.id, status: 'fail', changes: [], commands: [], message: (error as Error).message};
			}
		}
		if (result.status === 'fail') report.ok = false;
		onResult?.(result);
		// The JSON contract keeps checks beside the stages, not inside them.
		if (result.checks) report.checks.push(...result.checks);
		records = result.records ?? records;
		delete result.checks;
		delete result.records;
		report.stages.push(result);
	}
	report.records = records ?? (await recordsToPublish(ctx));
	return report;
}
