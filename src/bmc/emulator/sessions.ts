/**
 * Redfish sessions (DSP0266 §13.3): POST to the Sessions collection with UserName/Password
 * returns an X-Auth-Token and the session's URI in Location; DELETE on that URI logs out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  readonly id: string;
  readonly token: string;
  readonly userName: string;
}

/** Sessions above this count evict the oldest, so a client that never logs out cannot grow memory. */
const MAX_SESSIONS = 10_000;

export class SessionStore {
  private readonly byToken = new Map<string, Session>();
  private readonly byId = new Map<string, Session>();
  private seq = 0;
  private readonly username: Buffer;
  private readonly password: Buffer;

  constructor(username: string, password: string) {
    this.username = Buffer.from(username);
    this.password = Buffer.from(password);
  }

  checkCredentials(username: unknown, password: unknown): boolean {
    if (typeof username !== 'string' || typeof password !== 'string') return false;
    return same(Buffer.from(username), this.username) && same(Buffer.from(password), this.password);
  }

  /** Checks an `Authorization: Basic …` header. */
  checkBasic(header: string): boolean {
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (!m) return false;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i >= 0 && this.checkCredentials(text.slice(0, i), text.slice(i + 1));
  }

  create(userName: string): Session {
    const s: Session = { id: String(++this.seq), token: randomBytes(24).toString('hex'), userName };
    this.byToken.set(s.token, s);
    this.byId.set(s.id, s);
    if (this.byId.size > MAX_SESSIONS) this.delete(this.byId.keys().next().value!);
    return s;
  }

  byTokenOf(token: string): Session | undefined {
    return this.byToken.get(token);
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  delete(id: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    this.byId.delete(id);
    this.byToken.delete(s.token);
    return true;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  get size(): number {
    return this.byId.size;
  }
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
