// Shared shapes: answers, plans, results. Pure data, no behaviour.

export type DovecotSyntax = '2.3' | '2.4';

/** self-signed: made here with node-forge; letsencrypt: asked of an ACME CA through Debian's certbot. */
export type CertificateKind = 'self-signed' | 'letsencrypt';

export const STAGE_IDS = [
	'database',
	'dovecot-sql',
	'permissions',
	'dovecot-master',
	'lda',
	'certificate',
	'dovecot-ssl',
	'postfix',
	'submission',
	'dkim',
	'reload',
	'check',
] as const;
export type StageId = (typeof STAGE_IDS)[number];

export interface Answers {
	fqdn: string;
	domain: string;
	postmaster: string;
	dbHost: string;
	dbName: string;
	dbUser: string;
	dbPassword: string;
	testUser: string;
	testPassword: string;
	checkHost: string;
	dovecot: DovecotSyntax;
	cert: string;
	key: string;
	renew: boolean;
	dbCreate: boolean;
	certificate: CertificateKind;
	email: string; // the ACME account's e-mail; '' = none given
	noEmail: boolean; // --register-unsafely-without-email
	acmeServer: string; // the ACME directory URL
	webroot: string; // the directory a web server on port 80 serves; '' = certbot's own (standalone)
	dkimSelector: string; // key /etc/dkimkeys/<selector>.private, record <selector>._domainkey.<domain>
	dnsServer: string; // resolver for the DNS checks; '' = the system's
}

/** The wanted state of one file. Content undefined = only owner/mode change. */
export interface FileChange {
	path: string; // as on the target system, e.g. /etc/dovecot/conf.d/10-master.conf
	content?: string;
	mode?: number; // e.g. 0o640; undefined = keep the present mode (0644 for a new file)
	owner?: string; // user name; undefined = keep
	group?: string; // group name; undefined = keep
	secret?: boolean; // holds a password or key: diffs are masked, never world-readable
	directory?: boolean; // a directory: created with this mode and owner (or given them), never written
}

export interface Command {
	argv: string[]; // never holds a secret
	input?: string; // stdin, may hold a secret
	why?: string;
	done?: string; // what has happened once it ran, for the result ('Dovecot restarted')
	timeoutMs?: number; // default 30 s
}

/** The stage could do more if the operator agrees: the wizard asks; headless, a flag says yes (e.g. --db-create). */
export interface Offer {
	question: string; // 'Create what is missing, as MariaDB root over the Unix socket?'
	yes: Partial<Answers>; // the answers that mean yes, e.g. {dbCreate: true}: the stage is planned again with them
	default: boolean; // what Enter means
}

export interface Plan {
	files: FileChange[];
	commands: Command[]; // run after the files are written, in order
	notes: string[];
	offer?: Offer;
	/** What a dry run says in place of running the stage's effects, e.g. 'would connect to … and check …'. */
	would?: string;
	/** The stage cannot run here (e.g. OpenDKIM is not installed): why, and the command that fixes it. */
	skip?: string;
}

/** planned: a dry run looked at the stage and changed nothing; its message says what would happen. */
export type Status = 'pass' | 'fail' | 'skipped' | 'planned';

export interface ChangeReport {
	path: string;
	action: 'create' | 'modify';
	diff: string;
}

export interface StageResult {
	id: StageId;
	status: Status;
	changes: ChangeReport[];
	commands: string[];
	message: string;
	checks?: CheckResult[];
	records?: DnsRecord[];
}

export type CheckStatus = 'pass' | 'fail' | 'inconclusive';

export interface CheckResult {
	id: string;
	status: CheckStatus;
	message: string;
	transcript: string;
}

/** A DNS record the operator publishes (or asks the hosting provider for: PTR). Names without the trailing dot. */
export interface DnsRecord {
	type: 'MX' | 'A' | 'AAAA' | 'TXT' | 'PTR';
	name: string; // '' for a PTR whose address is not known here
	value: string; // MX: "10 mail.example.com"; TXT: the whole text, not yet split into strings
	status: RecordStatus;
}

/** published: the DNS answer matches · missing: not published yet · wrong: published, but not this · unchecked: no answer (or no check ran). */
export type RecordStatus = 'published' | 'missing' | 'wrong' | 'unchecked';

export class UsageError extends Error {
	constructor(
		message: string,
		readonly field?: string,
	) {
		super(message);
	}
}
