// The top line of every screen: name, version, where we are, and whether anything will change.
import {Text} from 'ink';
import {tint} from './theme.js';

export function Header({version, dryRun, step}: {version: string; dryRun: boolean; step?: string}) {
	return (
		<Text>
			<Text bold>mail-setup {version}</Text>
			{step ? ` · ${step}` : ''} ·{' '}
			{dryRun ? (
				<Text bold color={tint('yellow')}>
					dry run: nothing will be changed
				</Text>
			) : (
				<Text bold color={tint('red')}>
					live: changes are written (with backups)
				</Text>
			)}
		</Text>
	);
}
