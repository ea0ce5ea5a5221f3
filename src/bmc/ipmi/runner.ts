/**
 * Runs ipmitool (IPMI 2.0 lanplus). The password goes through the environment (`-E` reads
 * IPMI_PASSWORD), never argv, where any local user could read it from /proc. Failures are
 * sorted into bad credentials, an unreachable BMC, a refused cipher suite and other errors.
 */
import { execFile } from 'node:child_process';
import { bmcAuth, bmcError, bmcUnreachable, bmcUnsupported, type BmcErrorContext } from '../errors.ts';

export interface IpmitoolOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly cipherSuite: number;
  /** `-L`; ipmitool's default is ADMINISTRATOR. */
  readonly privilege?: string | null;
  /** Whole-command budget; ipmitool's own retries (-N/-R) fit inside it. @default 10 s */
  readonly timeoutMs?: number;
  /** For messages. */
  readonly target: string;
  /** @default ipmitool (from PATH) */
  readonly binary?: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly missing: boolean;
}

const CIPHER_REFUSED =
  /invalid (authentication|integrity|confidentiality) algorithm|no matching cipher suite|cipher suite .*not supported|unsupported cipher suite/i;
const AUTH_FAILED =
  /RAKP 2 HMAC is invalid|unauthorized name|RAKP \d message indicates an error|invalid user ?name|password is invalid|insufficient privilege|Unable to set privilege level/i;
const NO_ANSWER =
  /Get Auth Capabilities error|No response from remote controller|Error issuing Get Channel Authentication|Address lookup for .* failed|Connection refused/i;
const NO_SESSION = /Unable to establish IPMI v2 \/ RMCP\+ session/i;
const UNSUPPORTED =
  /Invalid command|Command not supported|Invalid completion code received: (Invalid command|Node busy)|not supported in present state/i;

export class IpmitoolRunner {
  private readonly opts: IpmitoolOptions;

  constructor(opts: IpmitoolOptions) {
    this.opts = opts;
  }

  /** The argv of one call (without the binary). Exported for the test that no secret is in it. */
  argv(args: readonly string[], quick = false): string[] {
    // ipmitool waits -N seconds per try, lengthening the wait on each of its -R retries, and a
    // session needs several messages: -N 1 -R 1 gives up on a silent BMC after ~2 s, -R 2 after
    // ~6 s. (-R 0 does not mean "no retry": it falls back to the default and takes ~20 s.)
    const retries = quick || (this.opts.timeoutMs ?? 10_000) < 8000 ? 1 : 2;
    const perTry = 1;
    const a = ['-I', 'lanplus', '-H', this.opts.host, '-p', String(this.opts.port)];
    if (this.opts.username !== '') a.push('-U', this.opts.username);
    a.push('-E', '-C', String(this.opts.cipherSuite), '-N', String(perTry), '-R', String(retries));
    if (this.opts.privilege) a.push('-L', this.opts.privilege);
    return [...a, ...args];
  }

  exec(argv: readonly string[]): Promise<RunResult> {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', IPMI_PASSWORD: this.opts.password };
    return new Promise((resolve) => {
      execFile(
        this.opts.binary ?? 'ipmitool',
        argv,
        { env, timeout: (this.opts.timeoutMs ?? 10_000) + 5000, killSignal: 'SIGKILL', maxBuffer: 8 << 20 },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
          resolve({
            stdout,
            stderr,
            code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
            timedOut: e?.killed === true,
            missing: e?.code === 'ENOENT',
          });
        },
      );
    });
  }

  /** Runs one ipmitool command and returns stdout, or throws a classified IngotError. */
  async run(args: readonly string[], operation: string): Promise<string> {
    const ctx: BmcErrorContext = { operation, target: this.opts.target };
    const res = await this.exec(this.argv(args));
    if (res.code === 0 && !res.timedOut) return res.stdout;
    if (res.missing) throw bmcError(ctx, 'ipmitool is not installed; install the Debian package ipmitool');
    if (res.timedOut)
      throw bmcUnreachable(
        ctx,
        `ipmitool did not finish within ${(this.opts.timeoutMs ?? 10_000) + 5000} ms`,
      );
    let text = `${res.stderr}\n${res.stdout}`;
    if (
      NO_SESSION.test(text) &&
      !CIPHER_REFUSED.test(text) &&
      !AUTH_FAILED.test(text) &&
      !NO_ANSWER.test(text)
    ) {
      // Without -v ipmitool does not say why the session failed; one quick verbose probe does.
      const probe = await this.exec(['-v', ...this.argv(['raw', '0x06', '0x01'], true)]);
      text += `\n${probe.stderr}`;
    }
    throw classify(text, ctx, this.opts.cipherSuite);
  }
}

/** Sorts an ipmitool failure into the error a user can act on. */
export function classify(text: string, ctx: BmcErrorContext, cipherSuite: number) {
  const detail = firstError(text);
  if (CIPHER_REFUSED.test(text)) {
    const other = cipherSuite === 3 ? 17 : 3;
    return bmcUnsupported(
      ctx,
      `the BMC refused IPMI cipher suite ${cipherSuite} (${detail}); choose a suite it supports with ?cipher=${other} in the address (ipmi://HOST?cipher=${other}) or the cipherSuite driver option`,
      { cipherSuite },
    );
  }
  if (AUTH_FAILED.test(text)) return bmcAuth(ctx, detail);
  if (NO_ANSWER.test(text) || NO_SESSION.test(text)) return bmcUnreachable(ctx, detail);
  if (UNSUPPORTED.test(text)) return bmcUnsupported(ctx, `the BMC answered "${detail}"`);
  return bmcError(ctx, detail);
}

/** The most telling line of ipmitool's output, without its chatter. */
function firstError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/^>\s*/, '').trim())
    .filter(
      (l) =>
        l &&
        !/^Loading IANA PEN Registry|^Running Get|^Discovered IPMB|^Using best available cipher/i.test(l),
    );
  const pick =
    lines.find((l) => CIPHER_REFUSED.test(l) || AUTH_FAILED.test(l) || NO_ANSWER.test(l)) ??
    lines.find((l) => /error|invalid|unable|fail/i.test(l)) ??
    lines[0];
  return (pick ?? 'ipmitool failed without output').slice(0, 300);
}
