// Entry point: flags → the Ink wizard (a person at a terminal) or the headless runner. The one place that exits.
import fs from 'node:fs/promises';
import {formatReport} from './admin/format.js';
import {runAdmin} from './admin/run.js';
import {help, parse, type Options} from './args.js';
import {Host} from './host/host.js';
import {undoLastRun} from './host/journal.js';
import {acquire, LockError} from './lock.js';
import {formatCheck, formatStage, formatSummary, paint} from './output.js';
import {checkAnswers, resolveAnswers} from './resolve.js';
import {runStages} from './run.js';
import {stagesFor} from './stages/index.js';
import {UsageError} from './types.js';

declare const VERSION: string | undefined; // set by the bundler
const version = typeof VERSION === 'string' ? VERSION : '0.0.0-dev';

const print = (text: string) => process.stdout.write(text + '\n');

/** Colours for text output: a terminal, no --json, no NO_COLOR. */
const painter = (options: Options) => paint(!options.json && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);

/** As ink decides it: a CI variable of any value but 0/false means "no live frames". */
const inCI = () => 'CI' in process.env && process.env.CI !== '0' && process.env.CI !== 'false';

async function checkRoot(root: string | undefined): Promise<void> {
	if (root === undefined) return;
	const s = await fs.stat(root).catch(() => undefined);
	if (!s?.isDirectory()) throw new UsageError(`--root ${root} is not a directory`, 'root');
}

/** SIGINT/SIGTERM: stop at the next effect (the stage restores its writes); give up waiting after a few seconds. */
function onInterrupt(host: Host, release: () => Promise<void>): void {
	const stop = () => {
		if (host.interrupted) return; // a second signal must not kill us half-way through restoring
		host.interrupt();
		setTimeout(async () => {
			for (const temp of host.inFlight) await fs.rm(temp, {force: true});
			await release();
			process.exit(130);
		}, 3000).unref();
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

async function undo(host: Host, options: Options): Promise<number> {
	const restored = await undoLastRun(host.real('/var/backups/mail-setup'));
	if (options.json) print(JSON.stringify({ok: true, restored: restored ?? []}, null, 2));
	else print(restored ? `Restored ${restored.length} file(s):\n${restored.map(file => `  ${file}`).join('\n')}` : 'Nothing to undo.');
	return 0;
}

/** Day two: mailbox, alias and domain commands (and the mailbox screen). */
async function admin(host: Host, options: Options, terminal: boolean): Promise<number> {
	const request = options.admin!;
	if (request.verb === 'screen' && !terminal) {
		throw new UsageError('"mail-setup mailbox" alone opens a screen, which needs a terminal: use mailbox add|passwd|remove|list');
	}
	const lock = host.dryRun || request.verb === 'list' ? undefined : host.real('/var/backups/mail-setup/.lock');
	const release = lock ? await acquire(lock) : async () => {};
	onInterrupt(host, release);
	try {
		if (request.verb === 'screen') {
			await (await import('./ui/MailboxScreen.js')).runMailboxScreen(host, version);
			return host.interrupted ? 130 : 0;
		}
		const asker = terminal ? (await import('./ui/Ask.js')).terminalAsker() : undefined;
		const {code, report} = await runAdmin(request, host, options, asker);
		print(options.json ? JSON.stringify(report, null, 2) : formatReport(report, painter(options)));
		return host.interrupted ? 130 : code;
	} finally {
		await release();
	}
}

export async function main(argv: string[]): Promise<number> {
	const options = parse(argv);
	if (options.help) return print(help), 0;
	if (options.version) return print(version), 0;
	await checkRoot(options.root);
	const host = new Host({root: options.root, dryRun: options.dryRun && !options.undo});
	if (options.undo && options.dryRun) throw new UsageError('undo has no dry run: it only puts back the backups of the last run');
	const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !options.yes && !options.json && !inCI();
	if (options.admin) return await admin(host, options, terminal);
	const answers = await resolveAnswers(options, host);
	const interactive = terminal && !options.undo;
	// The wizard asks for the passwords it needs; only the headless path must have them up front.
	// undo only puts back backups: it needs no password.
	if (!options.undo) checkAnswers(answers, interactive ? {...options, dryRun: true} : options, interactive);
	const list = stagesFor(options.stages);
	const skipLive = options.root !== undefined && options.stages.length === 0;
	// `check` alone writes nothing: it runs on an operator's laptop, as any user, with no /var/backups to lock.
	const readOnly = !options.undo && list.every(stage => stage.id === 'check');
	const release = host.dryRun || readOnly ? async () => {} : await acquire(host.real('/var/backups/mail-setup/.lock'));
	onInterrupt(host, release);
	try {
		if (options.undo) return await undo(host, options);
		if (interactive) {
			const {runApp} = await import('./app.js');
			return await runApp({host, answers, stages: list, version, skipLive});
		}
		const p = painter(options);
		if (!options.json) print(p.bold(`mail-setup ${version}`) + (host.dryRun ? p.yellow(' — DRY RUN: nothing will be changed') : ''));
		const report = await runStages(list, {answers, host}, {
			skipLive,
			onResult(result) {
				if (options.json) return;
				print(formatStage(result, list.find(stage => stage.id === result.id)!.title, p));
				for (const check of result.checks ?? []) print(formatCheck(check, p, true));
			},
		});
		if (options.json) print(JSON.stringify(report, null, 2));
		else print(formatSummary(report, p, host.journal.size ? host.journal.dir : undefined));
		return host.interrupted ? 130 : report.ok ? 0 : 1;
	} finally {
		await release();
	}
}

main(process.argv.slice(2)).then(
	code => process.exit(code),
	(error: unknown) => {
		if (error instanceof UsageError) {
			process.stderr.write(`mail-setup: ${error.message}\nRun "mail-setup --help" for usage.\n`);
			process.exit(2);
		}
		if (error instanceof LockError) {
			process.stderr.write(`mail-setup: ${error.message}\n`);
			process.exit(1);
		}
		process.stderr.write(`mail-setup: ${(error as Error).message}\n`);
		process.exit(1);
	},
);
