import { type Logger } from '../core/logger.js';
import { type WorkerMessage } from './workerProtocol.js';

/** A logger whose lines go to the host as messages (the host writes them to its log channel). */
export function workerLogger(post: (message: WorkerMessage) => void): Logger {
  return {
    trace: (message) => post({ type: 'log', level: 'trace', message }),
    debug: (message) => post({ type: 'log', level: 'debug', message }),
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
    error: (message) => post({ type: 'log', level: 'error', message }),
  };
}
