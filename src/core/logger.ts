/** The core's only way to talk about what it did. The extension maps it onto a LogOutputChannel,
 * the CLI onto stderr, tests onto an array. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that keeps every message, for tests and for the CLI's --verbose. */
export class MemoryLogger implements Logger {
  readonly messages: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string }[] = [];
  trace(message: string): void { this.messages.push({ level: 'trace', message }); }
  debug(message: string): void { this.messages.push({ level: 'debug', message }); }
  info(message: string): void { this.messages.push({ level: 'info', message }); }
  warn(message: string): void { this.messages.push({ level: 'warn', message }); }
  error(message: string): void { this.messages.push({ level: 'error', message }); }
}
