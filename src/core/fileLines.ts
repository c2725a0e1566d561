import { open } from 'node:fs/promises';

/** How many bytes fileLines reads at a time. */
export const FILE_LINES_CHUNK_BYTES = 1 << 20;

/** Where fileLines stopped. */
export interface FileLinesEnd {
  /** Bytes from the start of the file to the end of the last line handed over (past its newline, when it has one). */
  handedBytes: number;
  /** Bytes after that, not handed over: a last line without its newline (unless `unterminatedLast`), or the rest after an early stop. */
  trailingBytes: number;
}

export interface FileLinesOptions {
  /** Hand over a last line that has no newline as well (a file whose writer ends it so); by default it is only counted (trailingBytes). */
  unterminatedLast?: boolean;
  chunkBytes?: number;
}

/**
 * Hands each line of a file (its text, UTF-8, without the newline, and the file offset just past
 * it) to `onLine`, in order, until the end or until `onLine` returns false. The file is read a chunk
 * at a time and no more than one line's text is held at once: a file of any size is read so, where
 * reading it whole as one string fails past V8's longest string (~512 MiB; a scan state grows ~9 MB
 * per GB of rollouts), and a Buffer read whole fails past 2 GiB. Lines are split on "\n" bytes, which
 * UTF-8 never uses inside a character. A failure to open or read the file is thrown as it is (ENOENT
 * included), and so is one of `onLine`.
 */
export async function fileLines(path: string, onLine: (text: string, endOffset: number) => boolean | void, options: FileLinesOptions = {}): Promise<FileLinesEnd> {
  const handle = await open(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(options.chunkBytes ?? FILE_LINES_CHUNK_BYTES);
    // Bytes of buffer[0, held) are read and not yet handed over; `consumed` is the file offset of buffer[0].
    let held = 0;
    let consumed = 0;
    for (;;) {
      if (held === buffer.length) {
        // A line longer than the buffer: it grows to hold it.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, held);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, held, buffer.length - held, consumed + held);
      if (bytesRead === 0) {
        if (held === 0 || !options.unterminatedLast) return { handedBytes: consumed, trailingBytes: held };
        onLine(buffer.toString('utf8', 0, held), consumed + held);
        return { handedBytes: consumed + held, trailingBytes: 0 };
      }
      const searchFrom = held;
      held += bytesRead;
      let start = 0;
      for (let end = buffer.indexOf(10, searchFrom); end !== -1 && end < held; end = buffer.indexOf(10, start)) {
        const endOffset = consumed + end + 1;
        if (onLine(buffer.toString('utf8', start, end), endOffset) === false) {
          const size = (await handle.stat()).size;
          return { handedBytes: endOffset, trailingBytes: Math.max(0, size - endOffset) };
        }
        start = end + 1;
      }
      // What follows the last newline moves to the front.
      if (start > 0) {
        buffer.copy(buffer, 0, start, held);
        held -= start;
        consumed += start;
      }
    }
  } finally {
    await handle.close();
  }
}
