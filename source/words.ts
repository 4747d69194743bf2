// Counts in words, for every message: "1 file", "2 files", "3 mailboxes".

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : /[sx]$/.test(word) ? 'es' : 's'}`;
