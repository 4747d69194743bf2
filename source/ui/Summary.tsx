// The last screen: every stage's verdict, where the backups are, how to undo, what is left to do.
import {Box, Text} from 'ink';
import {recordLabels, recordText} from '../dns/records.js';
import type {DnsRecord, StageId, Status} from '../types.js';
import {markColor, marks, tint} from './theme.js';

export interface SummaryItem {
	id: StageId;
	status: Status;
	message: string;
	/** Nothing to change: it was already done before this run. */
	done?: boolean;
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
	/** The DNS records to publish, with what the DNS checks found. */
	records?: DnsRecord[];
}

const recordColor: Record<DnsRecord['status'], string | undefined> = {published: 'green', missing: 'yellow', wrong: 'red', unchecked: undefined};

export function Summary({items, dryRun, backups, root = '/', fqdn, interrupted, records = []}: SummaryProps) {
	const count = (status: Status) => items.filter(item => item.status === status).length;
	const failed = count('fail') > 0;
	const width = Math.max(...items.map(item => item.id.length)) + 2;
	return (
		<Box flexDirection="column">
			<Text> </Text>
			<Text bold color={tint(interrupted ? 'yellow' : failed ? 'red' : 'green')}>
				{interrupted ? 'Stopped' : failed ? 'Failed' : 'Done'}: {count('pass')} passed, {count('fail')} failed, {count('skipped')} skipped
			</Text>
			{items.map(item => (
				<Text key={item.id} wrap="truncate-end">
					<Text color={tint(markColor[item.status])}>{marks[item.status]}</Text> {item.id.padEnd(width)}
					<Text dimColor>{item.done ? 'already done' : (item.message.split('\n')[0] ?? '')}</Text>
				</Text>
			))}
			<Text> </Text>
			{dryRun ? (
				<Text color={tint('yellow')}>This was a dry run: nothing was changed. Run again without --dry-run to apply.</Text>
			) : backups ? (
				<Text wrap="wrap">
					Backups of every changed file: {backups}
					{'\n'}Undo this run: <Text bold>mail-setup undo{root === '/' ? '' : ` --root ${root}`}</Text>
				</Text>
			) : (
				<Text>No file was changed, so there is nothing to undo.</Text>
			)}
			<Text> </Text>
			<Text bold>Still to do by you:</Text>
			<Text> DNS records to publish (zone-file lines):</Text>
			{records.map(r => (
				<Text key={`${r.type} ${r.name} ${r.value}`} wrap="wrap">
					{'   '}
					<Text color={recordColor[r.status] && tint(recordColor[r.status]!)} dimColor={r.status === 'unchecked'}>
						{recordLabels[r.status].padEnd(11)}
					</Text>{' '}
					{recordText(r)}
				</Text>
			))}
			<Text> From another machine, prove that the server refuses to relay:</Text>
			<Text>
				{'   '}npx mail-setup check --check-host {fqdn}
			</Text>
		</Box>
	);
}
