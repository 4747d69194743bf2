// What a stage is: data about one step of the tutorial.
import type {Host} from '../host/host.js';
import type {Answers, CheckResult, DnsRecord, Plan, StageId} from '../types.js';
import type {Service} from './service.js';

export interface StageContext {
	answers: Answers;
	host: Host;
	/** Live output of slow steps (check transcripts, reload), already redacted. */
	onLine?: (line: string) => void;
}

/** One validator run: the command shown to the operator and what it complained about. */
export interface Validation {
	command: string;
	ok: boolean;
	problems: string[];
	/** Judge on its own: complaints already there before the stage count too. */
	strict?: boolean;
}

export interface RunOutcome {
	ok: boolean;
	message: string;
	commands: string[];
	checks?: CheckResult[];
	records?: DnsRecord[];
}

export interface Stage {
	id: StageId;
	title: string;
	/** Talks to services or the network: skipped under --root unless named. */
	live?: boolean;
	/** The service whose config it edits: where that is not installed, a dry run previews and applying fails. */
	service?: Service;
	/** What must change: reads through the host only, writes nothing. */
	plan(ctx: StageContext): Promise<Plan>;
	/** Real validators (doveconf, postfix check, openssl): run before and after applying. */
	validate?(ctx: StageContext): Promise<Validation[]>;
	/** Effects that are not files (database, services, live checks); the plan's commands then only describe it. */
	run?(ctx: StageContext): Promise<RunOutcome>;
}

export const emptyPlan = (): Plan => ({files: [], commands: [], notes: []});
