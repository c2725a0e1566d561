/**
 * The words of a stored state's increment numbers (StoredIncrements.numbers: base64 of
 * little-endian 32-bit words, 15 per increment), read and written as the tests damage them.
 */
export function wordsOf(numbers: string): number[] {
  const bytes = Buffer.from(numbers, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32LE(i * 4));
}

export function numbersOf(words: readonly number[]): string {
  const bytes = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => bytes.writeUInt32LE(w, i * 4));
  return bytes.toString('base64');
}

/** The numbers with word `index` set to `value`. */
export function withWord(numbers: string, index: number, value: number): string {
  const words = wordsOf(numbers);
  words[index] = value;
  return numbersOf(words);
}

/** A state file's text with its increments' numbers (on its first line of them) changed by `change`. */
export function withStoredNumbers(text: string, change: (numbers: string) => string): string {
  return text.replace(/\["numbers","([^"]*)"\]/, (_, numbers: string) => `["numbers","${change(numbers)}"]`);
}
