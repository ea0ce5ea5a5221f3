/** The slice of a pino logger the rack services use (pino's `Logger` satisfies it). */
export interface BootLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: BootLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
