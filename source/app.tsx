// The wizard: start screen → questions → for every stage: preview, confirm, apply, verdict → summary.
// The screens only render state and report keys; `wizard()` below drives the engine, in order.
// `a` (start screen, any stage screen) applies every following stage without asking: each verdict is shown
// as it comes, and the run stops only at a failure or a stage's question (the database offer).
import {Box, render, Static, Text, useStdout} from 'ink';
import {useEffect, useState, useSyncExternalStore} from 'react';
import {apply, preview, type Preview} from './engine.js';
import {wouldChange} from './output.js';
import type {Host} from './host/host.js';
import type {Stage, StageContext} from './stages/stage.js';
import {recordsToPublish} from './stages/check.js';
import type {Answers, DnsRecord, StageId, StageResult} from './types.js';
import {STAGE_IDS} from './types.js';
import {Header} from './ui/Header.js';
import {type Field, fields, problemOf} from './ui/form.js';
import {Questions} from './ui/Questions.js';
import {type Choice, StageResultView, StageRunning, StageScreen, type TrailItem} from './ui/StageScreen.js';
import {type EarlyState, StartScreen, type Versions} from './ui/StartScreen.js';
import {Summary} from './ui/Summary.js';
import {useKeys} from './ui/useKeys.js';

export interface AppProps {
	host: Host;
	answers: Answers;
	stages: Stage[];
	version: string;
	/** Leave out the stages that talk to services (a --root tree with no stage named), as the headless run does. */
	skipLive?: boolean;
	/** Ask the questions; default: when every stage runs, or an answer the stages need is missing. */
	ask?: boolean;
}

type Screen =
	| {kind: 'start'}
	| {kind: 'questions'; optional: Set<Field>}
	| {kind: 'planning'; index: number}
	| {kind: 'confirm'; index: number; preview: Preview; again: boolean}
	| {kind: 'applying'; index: number}
	| {kind: 'result'; index: number; result: StageResult; next: 'next stage' | 'summary'}
	| {kind: 'summary'}
	| {kind: 'stopped'};

interface Outcome {
	result: StageResult;
	done: boolean; // nothing to change: already done before this run
}

interface State {
	screen: Screen;
	versions: Versions;
	early: Partial<Record<StageId, EarlyState>>;
	skips: Partial<Record<StageId, string>>; // why a stage cannot run here (OpenDKIM not installed, say)
	rerun: StageId[]; // marked done, but the operator asked (Space on the start screen) to run them again
	answers: Answers;
	outcomes: Outcome[];
	lines: string[]; // live output of the step in progress
	stopping: boolean; // Ctrl-C or q: stop after the step in progress
	records: DnsRecord[]; // for the summary: the DNS records to publish
	auto: boolean; // `a` was pressed: apply every following stage without asking
}

/** The wizard's state, shared by the driver (writes) and the screens (read, answer). */
export class WizardStore {
	private listeners = new Set<() => void>();
	private waiting?: (value: unknown) => void;

	constructor(public state: State) {}

	subscribe = (listener: () => void) => {
		this.listeners.add(listener);
		return () => void this.listeners.delete(listener);
	};

	get = () => this.state;

	set(patch: Partial<State> | ((state: State) => Partial<State>)): void {
		this.state = {...this.state, ...(typeof patch === 'function' ? patch(this.state) : patch)};
		for (const listener of this.listeners) listener();
	}

	/** Show a screen and wait for the operator's answer ('quit' once stopping). */
	ask<T>(screen: Screen): Promise<T | 'quit'> {
		this.set({screen});
		if (this.state.stopping) return Promise.resolve('quit');
		return new Promise(resolve => (this.waiting = resolve as (value: unknown) => void));
	}

	/** The operator's answer to screen (default: the one shown); an answer to a screen no longer shown is dropped. */
	answer(value: unknown, screen: Screen = this.state.screen): void {
		if (screen !== this.state.screen) return;
		const waiting = this.waiting;
		this.waiting = undefined;
		waiting?.(value);
	}

	stop(): void {
		this.set({stopping: true});
		this.answer('quit');
	}
}

async function probeVersions(host: Host, store: WizardStore): Promise<void> {
	const probe = async (name: keyof Versions, argv: string[], pick: (out: string) => string | undefined) => {
		// It runs while the operator reads the screen: a busy machine may take its time.
		const run = await host.probe(argv, {timeoutMs: 15_000});
		const out = run.stdout.trim();
		// Only "not found" is missing: a program that answered oddly, or slowly, is there.
		const found = run.exitCode === 127 ? null : run.exitCode === 0 && out ? (pick(out) ?? out.split('\n')[0]!) : '?';
		store.set(state => ({versions: {...state.versions, [name]: found}}));
	};
	await Promise.all([
		probe('Dovecot', ['dovecot', '--version'], out => out.split(/\s/)[0]),
		probe('Postfix', ['postconf', '-h', 'mail_version'], out => out.split('\n')[0]),
		probe('MariaDB', ['mariadb', '--version'], out => out.match(/(\d+\.\d+\.\d+)-MariaDB/)?.[1]),
		probe('OpenSSL', ['openssl', 'version'], out => out.split(/\s+/)[1]),
		probe('certbot', ['certbot', '--version'], out => out.split(/\s+/)[1]),
	]);
}

/** The start screen's marks: which stages have nothing to change with the answers known so far. */
async function planAhead(props: AppProps, store: WizardStore, skip: (stage: Stage) => boolean): Promise<void> {
	const ctx: StageContext = {answers: props.answers, host: props.host};
	for (const stage of props.stages) {
		if (!['start', 'questions'].includes(store.state.screen.kind)) return;
		let state: EarlyState = 'skipped';
		if (!skip(stage)) {
			try {
				const p = await preview(stage, ctx);
				state = p.plan.skip ? 'skipped' : isDone(p) ? 'done' : 'todo';
				if (p.plan.skip) store.set(s => ({skips: {...s.skips, [stage.id]: p.plan.skip}}));
			} catch {
				state = 'error';
			}
		}
		store.set(s => ({early: {...s.early, [stage.id]: state}}));
	}
}

/** Passwords this run can do without: a dry run needs none; only some stages need them. */
function optionalFields(ids: Set<StageId>, dryRun: boolean, answers: Answers): Set<Field> {
	const optional = new Set<Field>();
	if (dryRun || !['database', 'dovecot-sql', 'postfix'].some(id => ids.has(id as StageId))) optional.add('dbPassword');
	if (dryRun || !(ids.has('check') || (answers.dbCreate && ids.has('database')))) optional.add('testPassword');
	return optional;
}

/** Nothing to write, nothing to run: already done. A stage with effects of its own (run()) always asks. */
const isDone = (p: Preview) => p.files.length === 0 && p.plan.commands.length === 0 && !p.stage.run;

const skippedResult = (id: StageId, message: string): StageResult => ({id, status: 'skipped', changes: [], commands: [], message});

/** Drive the engine through the screens; resolves with the exit code. */
export async function wizard(props: AppProps, store: WizardStore): Promise<number> {
	const {host, stages} = props;
	// A dry run runs nothing live anyway, so it previews those stages too.
	const skip = (stage: Stage) => Boolean(props.skipLive && stage.live && !host.dryRun);
	void probeVersions(host, store);
	void planAhead(props, store, skip);

	const begin = await store.ask<'start' | 'all'>({kind: 'start'});
	if (begin === 'quit') return stopEarly(store);
	if (begin === 'all') store.set({auto: true});
	const running = new Set(stages.filter(stage => !skip(stage)).map(stage => stage.id));
	const optional = optionalFields(running, host.dryRun, props.answers);
	// Named stages with every answer known already go straight to work.
	const complete = fields.every(field => !problemOf(field, props.answers[field], optional));
	if (props.ask ?? (stages.length === STAGE_IDS.length || !complete)) {
		const given = await store.ask<Answers>({kind: 'questions', optional});
		if (given === 'quit') return stopEarly(store);
		store.set({answers: given});
	}

	// Toggled on the start screen: only a stage marked done could be, and only those marks still hold.
	const rerun = new Set(store.state.rerun.filter(id => store.state.early[id] === 'done'));
	let failed = false;
	for (const [index, stage] of stages.entries()) {
		const again = rerun.has(stage.id);
		// The answers as they are now: a stage's question (the database offer) may have added to them.
		const answers = store.state.answers;
		const ctx: StageContext = {
			// Running the certificate again means a new pair, as --renew does.
			answers: again && stage.id === 'certificate' ? {...answers, renew: true} : answers,
			host,
			onLine: line => store.set(state => ({lines: [...state.lines, line].slice(-200)})),
		};
		const why = failed ? 'not run: an earlier stage failed' : skip(stage) ? 'not run under --root: name it to run it against this machine' : undefined;
		const last = stages.slice(index + 1).every(later => skip(later));
		const outcome = await runStage(stage, index, ctx, store, {skipWhy: why, again, last});
		store.set(state => ({outcomes: [...state.outcomes, outcome]}));
		if (outcome.result.status === 'fail') failed = true;
	}
	const checked = store.state.outcomes.find(outcome => outcome.result.records)?.result.records;
	store.set({records: checked ?? (await recordsToPublish({answers: store.state.answers, host})), screen: {kind: 'summary'}});
	return store.state.stopping ? 130 : failed ? 1 : 0;
}

interface StageRun {
	/** Why the stage is not run, if it is not. */
	skipWhy?: string;
	/** Asked to run again: a done stage is not passed through; it asks, and applies even with nothing to change. */
	again: boolean;
	/** No stage runs after this one: its result screen leads to the summary. */
	last: boolean;
}

async function runStage(stage: Stage, index: number, ctx: StageContext, store: WizardStore, {skipWhy, again, last}: StageRun): Promise<Outcome> {
	const stopped = (): Outcome => ({result: skippedResult(stage.id, 'not run: stopped by the operator'), done: false});
	if (store.state.stopping) return stopped();
	if (skipWhy) return {result: skippedResult(stage.id, skipWhy), done: false};
	const failure = async (error: unknown): Promise<Outcome> => {
		// Planning failed (a file it cannot parse, say): nothing was written.
		const result: StageResult = {id: stage.id, status: 'fail', changes: [], commands: [], message: (error as Error).message};
		await store.ask({kind: 'result', index, result, next: 'summary'});
		return {result, done: false};
	};
	const plan = async (context: StageContext) => {
		store.set({screen: {kind: 'planning', index}, lines: []});
		return preview(stage, context);
	};
	let p: Preview;
	try {
		p = await plan(ctx);
	} catch (error) {
		return failure(error);
	}
	const done = !again && isDone(p);
	const {offer} = p.plan;
	if (offer) {
		// A question stops even a run of `a`: the operator answers it, then the run goes on as it was.
		const choice = await store.ask<Choice>({kind: 'confirm', index, preview: p, again});
		if (choice === 'quit') {
			store.stop();
			return stopped();
		}
		if (choice === 'yes') {
			// Yes counts for the rest of the run too (the offer's answers are what its flag would have said).
			store.set(state => ({answers: {...state.answers, ...offer.yes}}));
			ctx = {...ctx, answers: {...ctx.answers, ...offer.yes}};
			try {
				p = await plan(ctx);
			} catch (error) {
				return failure(error);
			}
		}
	} else if (!done && !store.state.auto) {
		const choice = await store.ask<Choice>({kind: 'confirm', index, preview: p, again});
		if (choice === 'quit') {
			store.stop();
			return stopped();
		}
		if (choice === 'skip') return {result: skippedResult(stage.id, 'skipped by the operator'), done: false};
		if (choice === 'all') store.set({auto: true});
	}
	// A done stage still runs its validators, without asking.
	store.set({screen: {kind: 'applying', index}});
	const result = await apply(p, ctx);
	// A failure always waits for the operator; otherwise only the step-by-step path does.
	if (result.status === 'fail' || (!done && !store.state.auto)) {
		const next = await store.ask<'next' | 'all'>({kind: 'result', index, result, next: last || result.status === 'fail' ? 'summary' : 'next stage'});
		if (next === 'quit') store.stop();
		if (next === 'all') store.set({auto: true});
	}
	return {result, done: done && result.status === 'pass'};
}

function stopEarly(store: WizardStore): number {
	store.set({screen: {kind: 'stopped'}, stopping: true});
	return 130;
}

function useSize(): {rows: number; columns: number} {
	const {stdout} = useStdout();
	const read = () => ({rows: stdout.rows || 24, columns: Math.min(stdout.columns || 80, 120)});
	const [size, setSize] = useState(read);
	useEffect(() => {
		const onResize = () => setSize(read());
		stdout.on('resize', onResize);
		return () => void stdout.off('resize', onResize);
	}, [stdout]);
	return size;
}

export function App({store, host, stages, version}: AppProps & {store: WizardStore}) {
	const state = useSyncExternalStore(store.subscribe, store.get);
	const {rows: allRows, columns} = useSize();
	useKeys(key => {
		if (key.name === 'ctrl' && key.char === 'c') {
			// Stop at the next effect: the stage in progress puts back its own writes, then we exit 130.
			host.interrupt();
			store.stop();
		}
	});
	const {screen} = state;
	// One line for the header, one spare so Ink never has to clear the whole screen.
	const rows = Math.max(12, allRows - 2);
	const total = stages.length;
	const info = (index: number) => ({index, total, id: stages[index]!.id, title: stages[index]!.title});
	const trail = (index: number): TrailItem[] =>
		stages.map((stage, i) => ({
			id: stage.id,
			state: i < state.outcomes.length ? state.outcomes[i]!.result.status : i === index ? 'current' : 'pending',
		}));
	// Bound to the screen shown: a key that reaches a screen already answered answers nothing.
	const answer = (value: unknown) => store.answer(value, screen);
	const step = 'index' in screen ? `stage ${screen.index + 1}/${total}` : screen.kind === 'questions' ? 'questions' : screen.kind === 'summary' ? 'summary' : undefined;

	let body;
	switch (screen.kind) {
		case 'start':
			body = (
				<StartScreen
					dryRun={host.dryRun}
					root={host.root}
					isRoot={process.getuid?.() === 0}
					versions={state.versions}
					stages={stages.map(stage => ({id: stage.id, title: stage.title, state: state.early[stage.id] ?? 'checking', again: state.rerun.includes(stage.id), note: state.skips[stage.id]}))}
					onChoice={answer}
					onToggle={id => store.set(s => ({rerun: s.rerun.includes(id) ? s.rerun.filter(other => other !== id) : [...s.rerun, id]}))}
					rows={rows}
					columns={columns}
				/>
			);
			break;
		case 'questions':
			body = <Questions initial={state.answers} optional={screen.optional} onDone={answer} />;
			break;
		case 'planning':
		case 'applying': {
			const title = stages[screen.index]!.title;
			const label = state.stopping
				? 'Stopping: the step in progress finishes first'
				: screen.kind === 'planning'
					? `Planning: ${title}`
					: host.dryRun
						? `Checking: ${title} (dry run)`
						: `Applying: ${title}`;
			const finished = state.auto ? state.outcomes.map(({result}) => result) : undefined;
			body = (
				<StageRunning stage={info(screen.index)} trail={trail(screen.index)} label={label} lines={state.lines} finished={finished} rows={rows} columns={columns} />
			);
			break;
		}
		case 'confirm':
			body = (
				<StageScreen
					key={screen.index}
					stage={info(screen.index)}
					trail={trail(screen.index)}
					changes={screen.preview.files.map(file => file.report)}
					commands={screen.preview.plan.commands}
					notes={[
						...(screen.again ? ['↻ run again, as asked on the start screen'] : []),
						...screen.preview.plan.notes,
						...(screen.preview.plan.would ? [screen.preview.plan.would] : []),
					]}
					offer={screen.preview.plan.offer}
					dryRun={host.dryRun}
					rows={rows}
					columns={columns}
					onChoice={answer}
				/>
			);
			break;
		case 'result':
			body = (
				<StageResultView
					key={screen.index}
					stage={info(screen.index)}
					trail={trail(screen.index)}
					result={screen.result}
					dryRun={host.dryRun}
					next={screen.next}
					rows={rows}
					columns={columns}
					onNext={answer}
				/>
			);
			break;
		case 'summary':
			body = (
				<Summary
					items={state.outcomes.map(({result, done}) => ({
						id: result.id,
						status: result.status,
						message: result.message,
						done,
						wouldChange: wouldChange(result),
					}))}
					dryRun={host.dryRun}
					backups={host.journal.size > 0 ? host.journal.dir : undefined}
					root={host.root}
					fqdn={state.answers.fqdn}
					interrupted={state.stopping}
					records={state.records}
					columns={columns}
				/>
			);
			break;
		case 'stopped':
			body = <Text>Stopped before any stage ran: nothing was changed.</Text>;
			break;
	}
	const page = (
		<Box key={screen.kind} flexDirection="column" width={columns}>
			<Header version={version} dryRun={host.dryRun} step={step} />
			{body}
		</Box>
	);
	// The summary is the last screen and may be taller than the terminal: printed once as ordinary output, it
	// scrolls up into the terminal's own history whole, as a command's output does (a live frame that tall
	// would be redrawn from the top of a cleared screen).
	return screen.kind === 'summary' ? <Static items={[page]}>{item => item}</Static> : page;
}

export function createStore(answers: Answers): WizardStore {
	return new WizardStore({
		screen: {kind: 'start'},
		versions: {Dovecot: undefined, Postfix: undefined, MariaDB: undefined, OpenSSL: undefined, certbot: undefined},
		early: {},
		skips: {},
		rerun: [],
		answers,
		outcomes: [],
		lines: [],
		stopping: false,
		records: [],
		auto: false,
	});
}

// Bracketed paste: the terminal marks where a paste begins and ends, so a pasted password's line break submits
// it and nothing after it is typed into the next field (ui/line.ts). Off again however the wizard ends.
const PASTE_ON = '\u001B[?2004h';
const PASTE_OFF = '\u001B[?2004l';

export async function runApp(props: AppProps): Promise<number> {
	const store = createStore(props.answers);
	const pasteOff = () => void process.stdout.write(PASTE_OFF);
	process.stdout.write(PASTE_ON);
	// cli.tsx's interrupt timeout exits without unwinding to the finally below.
	process.once('exit', pasteOff);
	const instance = render(<App store={store} {...props} />, {exitOnCtrlC: false});
	try {
		return await wizard(props, store);
	} finally {
		// Let the last screen (the summary) reach the terminal before Ink lets go of it.
		await new Promise(resolve => setTimeout(resolve, 50));
		instance.unmount();
		await instance.waitUntilExit();
		process.off('exit', pasteOff);
		pasteOff();
	}
}
