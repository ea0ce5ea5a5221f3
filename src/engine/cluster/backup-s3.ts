/**
 * An S3-compatible backup target (docs/day2.md "Backups"): after the rack's upload lands in
 * the artifact store (as for ArtifactStoreTarget), `keep` checks it against what the node
 * measured, puts it in the bucket under `<folder>/<cluster>/<id>.db` with its SHA-256 in the
 * object's metadata, reads the object's size back, and removes the local copy; `read`
 * downloads it and checks the SHA-256; `remove` deletes it; `list` answers a cluster's objects.
 * Requests are signed with AWS Signature V4 (path-style URLs, so any S3-compatible server
 * works). The credentials are never put in an error, an event or a log line: a failed request
 * says the method, the key, the HTTP status and the server's error code only.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { backupArtifact } from '../../core/backup.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { ArtifactStoreTarget, type BackupTarget } from './backup-target.ts';

export interface S3TargetOptions {
  /** `http(s)://host[:port]` of the S3-compatible server. */
  readonly endpoint: string;
  readonly bucket: string;
  /** @default us-east-1 */
  readonly region?: string;
  /** Key prefix inside the bucket. @default "" */
  readonly folder?: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Where the rack's uploads land before they go to the bucket. */
  readonly artifactsDir: string;
}

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it (a path keeps its slashes). */
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The Authorization header and the signed headers of one request (AWS Signature V4). */
export function signV4(req: {
  method: string;
  host: string;
  path: string;
  query: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
  payloadSha256: string;
  region: string;
  accessKey: string;
  secretKey: string;
  now: Date;
}): Record<string, string> {
  const amzDate = req.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    host: req.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': req.payloadSha256,
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    req.method,
    req.path.split('/').map(enc).join('/'),
    Object.keys(req.query)
      .sort()
      .map((k) => `${enc(k)}=${enc(req.query[k])}`)
      .join('&'),
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    names.join(';'),
    req.payloadSha256,
  ].join('\n');
  const scope = `${day}/${req.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${req.secretKey}`, day), req.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${req.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

export interface S3Object {
  readonly key: string;
  readonly bytes: number;
}

export class S3Target implements BackupTarget {
  readonly #o: S3TargetOptions;
  readonly #local: ArtifactStoreTarget;
  readonly #url: URL;

  constructor(o: S3TargetOptions) {
    const url = URL.canParse(o.endpoint) ? new URL(o.endpoint) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw invalid('endpoint', `${o.endpoint} is not an http(s) URL`);
    this.#url = url;
    this.#o = o;
    this.#local = new ArtifactStoreTarget(o.artifactsDir);
  }

  /** The object key of backup `id` of `cluster`. */
  key(cluster: string, id: string): string {
    const folder = (this.#o.folder ?? '').replace(/^\/+|\/+$/g, '');
    return `${folder ? `${folder}/` : ''}${cluster}/${id}.db`;
  }

  /** `s3://bucket/key` of an object key. */
  location(key: string): string {
    return `s3://${this.#o.bucket}/${key}`;
  }

  #keyOf(location: string): string {
    const prefix = `s3://${this.#o.bucket}/`;
    if (!location.startsWith(prefix))
      throw new IngotError(
        ErrorCode.Conflict,
        `backup location ${location} is not in bucket ${this.#o.bucket}`,
      );
    return location.slice(prefix.length);
  }

  async #send(
    method: string,
    key: string,
    o: { query?: Record<string, string>; body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const path = `/${this.#o.bucket}${key ? `/${key}` : ''}`;
    const body = o.body ?? Buffer.alloc(0);
    const headers = signV4({
      method,
      host: this.#url.host,
      path,
      query: o.query ?? {},
      headers: o.headers ?? {},
      payloadSha256: sha256hex(body),
      region: this.#o.region ?? 'us-east-1',
      accessKey: this.#o.accessKey,
      secretKey: this.#o.secretKey,
      now: new Date(),
    });
    delete headers.host;
    const qs = new URLSearchParams(o.query ?? {}).toString();
    const url = `${this.#url.origin}${path.split('/').map(enc).join('/')}${qs ? `?${qs}` : ''}`;
    return fetch(url, {
      method,
      headers,
      ...(method === 'PUT' ? { body: new Uint8Array(body) } : {}),
    });
  }

  /** A failed request as an error naming what was asked and the server's code, never the credentials. */
  async #fail(r: Response, what: string): Promise<never> {
    const text = await r.text().catch(() => '');
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? 'no error code';
    throw new IngotError(
      r.status === 404 ? ErrorCode.Conflict : ErrorCode.StepFailed,
      `S3 ${what} in bucket ${this.#o.bucket} answered HTTP ${r.status} (${code})`,
      { retryable: r.status >= 500 },
    );
  }

  uploadPath(cluster: string, id: string): string {
    return backupArtifact(cluster, id);
  }

  async keep(upload: string, measured: { bytes: number; sha256: string }): Promise<string> {
    await this.#local.keep(upload, measured);
    const file = join(this.#o.artifactsDir, upload);
    const [cluster, name] = upload.split('/').slice(-2);
    const key = this.key(cluster, name.replace(/\.db$/, ''));
    const data = await readFile(file);
    const put = await this.#send('PUT', key, {
      body: data,
      headers: { 'content-type': 'application/octet-stream', 'x-amz-meta-sha256': measured.sha256 },
    });
    if (!put.ok) await this.#fail(put, `PUT ${key}`);
    const head = await this.#send('HEAD', key);
    if (!head.ok) await this.#fail(head, `HEAD ${key}`);
    const bytes = Number(head.headers.get('content-length'));
    if (bytes !== measured.bytes)
      throw new IngotError(
        ErrorCode.StepFailed,
        `S3 object ${key} has ${bytes} bytes after the upload; the node measured ${measured.bytes}`,
      );
    await rm(file, { force: true });
    return this.location(key);
  }

  async read(location: string, sha256: string): Promise<Buffer> {
    const key = this.#keyOf(location);
    const r = await this.#send('GET', key);
    if (!r.ok) await this.#fail(r, `GET ${key}`);
    const data = Buffer.from(await r.arrayBuffer());
    const sum = sha256hex(data);
    if (sum !== sha256)
      throw new IngotError(
        ErrorCode.Conflict,
        `the backup's object ${location} has sha256 ${sum}, not ${sha256} as recorded: it is damaged; restore another backup`,
      );
    return data;
  }

  async remove(location: string): Promise<void> {
    const key = this.#keyOf(location);
    const r = await this.#send('DELETE', key);
    if (!r.ok && r.status !== 404) await this.#fail(r, `DELETE ${key}`);
  }

  /** A cluster's backup objects (ListObjectsV2, every page). */
  async list(cluster: string): Promise<S3Object[]> {
    const prefix = this.key(cluster, '').replace(/\.db$/, '');
    const out: S3Object[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = {
        'list-type': '2',
        prefix,
        ...(token ? { 'continuation-token': token } : {}),
      };
      const r = await this.#send('GET', '', { query });
      if (!r.ok) await this.#fail(r, `LIST ${prefix}`);
      const xml = await r.text();
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(m[1])?.[1] ?? '';
        out.push({ key: unxml(key), bytes: Number(/<Size>(\d+)<\/Size>/.exec(m[1])?.[1] ?? 0) });
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
        ? unxml(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '')
        : undefined;
    } while (token);
    return out;
  }
}

const unxml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
