// Runs one stage: plan → preview (diffs) → apply (atomic, journalled) → validate → restore on rejection.
import {unifiedDiff} from './diff.js';
import {maskDiff, scrub} from './secrets.js';
import {notInstalled} from './stages/service.js';
import type {Stage, StageContext, Validation} from './stages/stage.js';
import type {ChangeReport, Command, FileChange, Plan, StageResult} from './types.js';
import {plural} from './words.js';

export interface PlannedFile {
	change: FileChange;
	content: string | undefined; // undefined: only owner/mode change
	mode: number;
	uid: number;
	gid: number;
	report: ChangeReport;
}

export interface Preview {
	stage: Stage;
	plan: Plan;
	files: PlannedFile[];
}

const octal = (mode: number) => '0' + mode.toString(8).padStart(3, '0');

export function secretsOf(ctx: StageContext): string[] {
	return [ctx.answers.dbPassword, ctx.answers.testPassword].filter(Boolean);
}

export function commandText(command: Command): string {
	return command.argv.join(' ');
}

/** Plan the stage and compare with what the host holds now: only real differences remain. */
export async function preview(stage: Stage, ctx: StageContext): Promise<Preview> {
	// A machine without the service (a laptop): a dry run still shows every line; applying stops here.
	const missing = stage.service && !(await ctx.host.info(stage.service.config)) ? notInstalled(stage.service, ctx.host.dryRun) : undefined;
	if (missing && !ctx.host.dryRun) throw new Error(missing);
	const plan = await stage.plan(ctx);
	if (missing) plan.notes.unshift(missing);
	const files: PlannedFile[] = [];
	for (const change of plan.files) {
		const planned = await compare(change, ctx);
		if (planned) files.push(planned);
	}
	return {stage, plan, files};
}

async function compare(change: FileChange, ctx: StageContext): Promise<PlannedFile | undefined> {
	const {host} = ctx;
	const before = await host.info(change.path);
	const old = change.content === undefined || before?.isDirectory ? undefined : await host.read(change.path);
	const content = change.content !== undefined && change.content !== old ? change.content : undefined;
	const mode = change.mode ?? before?.mode ?? (change.secret ? 0o600 : 0o644);
	// A name the target does not know (a bare --root tree) keeps the present owner.
	const uid = (change.owner ? await host.id('user', change.owner) : undefined) ?? before?.uid ?? 0;
	const gid = (change.group ? await host.id('group', change.group) : undefined) ?? before?.gid ?? 0;
	const metaChanged = !before || before.mode !== mode || before.uid !== uid || before.gid !== gid;
	if (content === undefined && !metaChanged) return undefined;
	const lines: string[] = [];
	const ownerOf = async (u: number, g: number) => `${await host.nameOf('user', u)}:${await host.nameOf('group', g)}`;
	const owner = await ownerOf(uid, gid);
	if (before && metaChanged) {
		// Only what changes, owners by name on both sides.
		const was = await ownerOf(before.uid, before.gid);
		const what = [before.mode !== mode ? `mode ${octal(before.mode)} → ${octal(mode)}` : '', was !== owner ? `owner ${was} → ${owner}` : ''];
		if (what.some(Boolean)) lines.push(`# ${change.path}: ${what.filter(Boolean).join(', ')}`);
	}
	if (!before && change.directory) lines.push(`# ${change.path}/: new directory, mode ${octal(mode)}, owner ${owner}`);
	if (content !== undefined) {
		const diff = unifiedDiff(old ?? '', content, change.path, old !== undefined);
		// Only a file the stage says holds a secret is masked, and only where the secret stands.
		lines.push((change.secret ? maskDiff(diff, old, content) : diff).trimEnd());
	}
	const diff = lines.join('\n') + '\n';
	return {
		change,
		content: change.directory ? undefined : (content ?? (before ? undefined : (change.content ?? ''))),
		mode,
		uid,
		gid,
		report: {path: change.path, action: before ? 'modify' : 'create', diff},
	};
}

const problemsOf = (runs: Validation[]) => new Set(runs.flatMap(run => (run.ok ? run.problems : [...run.problems, `${run.command} failed`])));
const strictProblems = (runs: Validation[]) => runs.filter(run => run.strict && !run.ok).flatMap(run => run.problems);

/** Apply a preview; on any failure put back what this stage wrote. A dry run only records what would happen. */
export async function apply(p: Preview, ctx: StageContext): Promise<StageResult> {
	const {host} = ctx;
	const {stage, plan, files} = p;
	const secrets = secretsOf(ctx);
	const result: StageResult = {
		id: stage.id,
		status: host.dryRun ? 'planned' : 'pass',
		changes: files.map(file => file.report),
		// A stage with run() reports what it ran; its planned commands are only the preview of that.
		commands: stage.run && !host.dryRun ? [] : plan.commands.map(commandText),
		message: '',
	};
	// Nothing to judge: the stage cannot run here, and says why (a dry run too).
	if (plan.skip) return {...result, status: 'skipped', message: plan.skip};
	const notes = [...plan.notes];
	const mark = host.journal.size;
	const validating = stage.validate && !host.dryRun;
	try {
		// Validate before too: complaints the stock config already had are not this stage's fault.
		const baseline = validating ? problemsOf(await stage.validate!(ctx)) : new Set<string>();
		// In a dry run the host keeps these writes in memory, so later stages plan on top of them.
		for (const file of files) {
			if (file.change.directory && file.report.action === 'create') await host.mkdir(file.change.path, file.mode, file.uid, file.gid);
			else if (file.content === undefined) await host.chmod(file.change.path, file.mode, file.uid, file.gid);
			else await host.write(file.change.path, file.content, file.mode, file.uid, file.gid);
		}
		for (const command of stage.run ? [] : plan.commands) {
			const run = await host.run(command.argv, {input: command.input, timeoutMs: command.timeoutMs});
			if (run.exitCode !== 0) {
				throw new Error((await stage.explain?.(ctx, command, run)) ?? `${commandText(command)} failed (exit ${run.exitCode}): ${lastLines(run.stderr || run.stdout)}`);
			}
		}
		if (validating) {
			const runs = await stage.validate!(ctx);
			const fresh = [...new Set([...strictProblems(runs), ...[...problemsOf(runs)].filter(problem => !baseline.has(problem))])];
			if (fresh.length > 0) throw new RejectedError(fresh);
			notes.push(...runs.map(run => `${run.command}: ${run.ok ? 'accepted' : 'same complaints as before this stage'}`));
		}
		if (stage.run && !host.dryRun) {
			const outcome = await stage.run(ctx);
			result.commands = outcome.commands;
			if (outcome.checks) result.checks = outcome.checks;
			if (outcome.records) result.records = outcome.records;
			if (!outcome.ok) throw new Error(outcome.message);
			notes.unshift(outcome.message);
		}
	} catch (error) {
		const restored = await host.journal.restoreSince(mark).catch(restoreError => {
			notes.push(`restoring the backups failed too: ${(restoreError as Error).message}`);
			return [] as string[];
		});
		result.status = 'fail';
		const why = error instanceof RejectedError ? `rejected by the validator:\n${error.problems.join('\n')}` : (error as Error).message;
		result.message = scrub([why, restored.length ? `restored from backup: ${restored.join(', ')}` : '', ...notes].filter(Boolean).join('\n'), secrets);
		return result;
	}
	const summary = host.dryRun
		? wouldHappen(p)
		: stage.run
			? '' // run() said what happened
			: files.length || plan.commands.length
				? `${files.length} file(s) changed${files.length <= 5 ? `: ${files.map(file => file.change.path).join(', ')}` : ''}`
				: 'already done: nothing to change';
	result.message = scrub([summary, ...notes].filter(Boolean).join('\n'), secrets);
	return result;
}

/** A dry run's word on a stage: what would happen, never that it passed. */
export function wouldHappen({plan, files}: Preview): string {
	const paths = files.map(file => file.change.path);
	const shown = paths.length <= 5 ? paths.join(', ') : `${paths.slice(0, 4).join(', ')} and ${paths.length - 4} more`;
	const parts = [
		plan.would,
		files.length ? `would change ${plural(files.length, 'file')} (${shown})` : '',
		plan.commands.length ? `would run ${plural(plan.commands.length, 'command')}` : '',
	].filter(Boolean);
	return parts.length ? parts.join(', ') : 'already done: nothing would change';
}

export class RejectedError extends Error {
	constructor(readonly problems: string[]) {
		super(problems.join('\n'));
	}
}

export function lastLines(text: string, count = 5): string {
	return text.trim().split('\n').slice(-count).join('\n');
}
