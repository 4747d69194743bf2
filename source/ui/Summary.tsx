// The last screen: every stage's verdict, where the backups are, how to undo, what is left to do.
// The program exits on it, so it is printed whole (the terminal keeps what scrolls off the top) and wrapped.
import {Box, Text} from 'ink';
import {recordLabels, recordLabelWidth as labelWidth, recordText} from '../dns/records.js';
import {tally} from '../output.js';
import type {DnsRecord, StageId, Status} from '../types.js';
import {markColor, marks, tint} from './theme.js';
import {wrap} from './wrap.js';

export interface SummaryItem {
	id: StageId;
	status: Status;
	message: string;
	/** Nothing to change: it was already done before this run. */
	done?: boolean;
	/** A dry run: it would write a file or run a command (output.ts's wouldChange). */
	wouldChange?: boolean;
}

export interface SummaryProps {
	items: SummaryItem[];
	dryRun: boolean;
	/** Directory with this run's backups, when a file was changed. */
	backups?: string;
	/** The --root tree, when not the real root: undo needs it too. */
	root?: string;
	fqdn: string;
	/** The operator quit or pressed Ctrl-C. */
	interrupted?: boolean;
	columns: number;
	/** The DNS records to publish, with what the DNS checks found. */
	records?: DnsRecord[];
}

const recordColor: Record<DnsRecord['status'], string | undefined> = {published: 'green', missing: 'yellow', wrong: 'red', unchecked: undefined};

/** The first line of the summary: how the run ended, in counts. A dry run never says passed. */
export function verdictOf(items: SummaryItem[], dryRun: boolean, interrupted = false): string {
	const failed = items.some(item => item.status === 'fail');
	if (!dryRun) return `${interrupted ? 'Stopped' : failed ? 'Failed' : 'Done'}: ${tally(items, false)}`;
	return `Dry run${interrupted ? ' stopped' : failed ? ' failed' : ''}: ${tally(items, true)}`;
}

export function Summary({items, dryRun, backups, root = '/', fqdn, interrupted, columns, records = []}: SummaryProps) {
	const failed = items.some(item => item.status === 'fail');
	const width = Math.max(...items.map(item => item.id.length)) + 2;
	const row = (text: string) => wrap(text, columns).join('\n');
	return (
		<Box flexDirection="column">
			<Text> </Text>
			<Text bold color={tint(interrupted ? 'yellow' : failed ? 'red' : 'green')}>
				{row(verdictOf(items, dryRun, interrupted))}
			</Text>
			{items.map(item => {
				const text = `${item.id.padEnd(width)}${item.done ? 'already done' : (item.message.split('\n')[0] ?? '')}`;
				const [first, ...rest] = wrap(text, columns - 2, width);
				return (
					<Text key={item.id}>
						<Text color={tint(markColor[item.status])}>{marks[item.status]}</Text> {first!.slice(0, width)}
						<Text dimColor>{[first!.slice(width), ...rest.map(line => `  ${line}`)].join('\n')}</Text>
					</Text>
				);
			})}
			<Text> </Text>
			{dryRun ? (
				<Text color={tint('yellow')}>{row('This was a dry run: nothing was changed. Run again without --dry-run to apply.')}</Text>
			) : backups ? (
				<Text>
					{row(`Backups of every changed file: ${backups}`)}
					{'\n'}Undo this run: <Text bold>mail-setup undo{root === '/' ? '' : ` --root ${root}`}</Text>
				</Text>
			) : (
				<Text>No file was changed, so there is nothing to undo.</Text>
			)}
			<Text> </Text>
			<Text bold>Still to do by you:</Text>
			<Text>{row(' DNS records to publish (zone-file lines):')}</Text>
			{records.map(r => {
				// A long record (the DKIM key) goes on under itself, not under its label.
				const [first, ...rest] = wrap(`   ${recordLabels[r.status].padEnd(labelWidth)} ${recordText(r)}`, columns, labelWidth + 4);
				return (
					<Text key={`${r.type} ${r.name} ${r.value}`}>
						{'   '}
						<Text color={recordColor[r.status] && tint(recordColor[r.status]!)} dimColor={r.status === 'unchecked'}>
							{first!.slice(3, 3 + labelWidth)}
						</Text>
						{[first!.slice(3 + labelWidth), ...rest].join('\n')}
					</Text>
				);
			})}
			<Text>{row(' From another machine, see the server as the world does (relay, ports, TLS, certificate):')}</Text>
			<Text>{row(`   npx mail-setup check --check-host ${fqdn}`)}</Text>
		</Box>
	);
}
