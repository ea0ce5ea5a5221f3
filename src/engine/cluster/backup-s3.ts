/**
 * An S3-compatible backup target (docs/day2.md "Backups"): after the rack's upload lands in
 * the artifact store (as for ArtifactStoreTarget), `keep` checks it against what the node
 * measured, puts it in the bucket under `<prefix>/<cluster>/<id>.db` with its SHA-256 in the
 * object's metadata, reads the object's size back, and removes the local copy; `read`
 * downloads it and checks the SHA-256; `remove` deletes it; `list` answers a cluster's objects.
 * Requests go through the AWS SDK v3 S3 client (SigV4, path-style URLs so any S3-compatible
 * server works, the configured endpoint only: no credential chain, no instance metadata
 * lookups). The credentials are never put in an error, an event or a log line: a failed
 * request says the operation, the key, the HTTP status and the server's error code only.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { backupArtifact } from '../../core/backup.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { ArtifactStoreTarget, type BackupTarget, checkedBackup } from './backup-target.ts';

export interface S3TargetOptions {
  /** `http(s)://host[:port]` of the S3-compatible server. */
  readonly endpoint: string;
  readonly bucket: string;
  /** @default us-east-1 */
  readonly region?: string;
  /** Key prefix inside the bucket. @default "" */
  readonly prefix?: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Where the rack's uploads land before they go to the bucket. */
  readonly artifactsDir: string;
}

export interface S3Object {
  readonly key: string;
  readonly bytes: number;
}

export class S3Target implements BackupTarget {
  readonly #o: S3TargetOptions;
  readonly #local: ArtifactStoreTarget;
  readonly #url: URL;
  readonly #s3: S3Client;

  constructor(o: S3TargetOptions) {
    const url = URL.canParse(o.endpoint) ? new URL(o.endpoint) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw invalid('endpoint', `${o.endpoint} is not an http(s) URL`);
    this.#url = url;
    this.#o = o;
    this.#local = new ArtifactStoreTarget(o.artifactsDir);
    this.#s3 = new S3Client({
      endpoint: url.origin,
      forcePathStyle: true,
      region: o.region || 'us-east-1',
      credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
      // One retry of a throttled or 5xx answer, then the backup fails and says why.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      // Checksums only where the operation requires one (s3rver and older servers refuse the
      // SDK's default CRC32 trailers); the object's SHA-256 is checked by Ingot on read.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** The object key of backup `id` of `cluster`. */
  key(cluster: string, id: string): string {
    const folder = (this.#o.prefix ?? '').replace(/^\/+|\/+$/g, '');
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

  /** A failed request as an error naming what was asked and the server's code, never the credentials. */
  #fail(e: unknown, what: string): never {
    const x = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    const status = x.$metadata?.httpStatusCode;
    if (status === undefined)
      // No answer from the server (refused, reset, timed out): say so without the SDK's text.
      throw new IngotError(
        ErrorCode.StepFailed,
        `S3 ${what} in bucket ${this.#o.bucket} got no answer from ${this.#url.origin} (${x.name ?? 'error'})`,
        { retryable: true },
      );
    const code =
      x.Code ?? (x.name && x.name !== 'UnknownError' && x.name !== 'Unknown' ? x.name : 'no error code');
    throw new IngotError(
      status === 404 ? ErrorCode.Conflict : ErrorCode.StepFailed,
      `S3 ${what} in bucket ${this.#o.bucket} answered HTTP ${status} (${code})`,
      { retryable: status >= 500 },
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
    const Bucket = this.#o.bucket;
    await this.#s3
      .send(
        new PutObjectCommand({
          Bucket,
          Key: key,
          Body: data,
          ContentType: 'application/octet-stream',
          Metadata: { sha256: measured.sha256 },
        }),
      )
      .catch((e) => this.#fail(e, `PUT ${key}`));
    const head = await this.#s3
      .send(new HeadObjectCommand({ Bucket, Key: key }))
      .catch((e) => this.#fail(e, `HEAD ${key}`));
    const bytes = Number(head.ContentLength);
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
    const r = await this.#s3
      .send(new GetObjectCommand({ Bucket: this.#o.bucket, Key: key }))
      .catch((e) => this.#fail(e, `GET ${key}`));
    const data = Buffer.from(await r.Body!.transformToByteArray().catch((e) => this.#fail(e, `GET ${key}`)));
    return checkedBackup(data, sha256, `object ${location}`);
  }

  async remove(location: string): Promise<void> {
    const key = this.#keyOf(location);
    // S3 answers 204 for a key that is gone already.
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#o.bucket, Key: key })).catch((e) => {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
        this.#fail(e, `DELETE ${key}`);
    });
  }

  /** A cluster's backup objects (ListObjectsV2, every page). */
  async list(cluster: string): Promise<S3Object[]> {
    const prefix = this.key(cluster, '').replace(/\.db$/, '');
    const out: S3Object[] = [];
    let token: string | undefined;
    do {
      const r = await this.#s3
        .send(new ListObjectsV2Command({ Bucket: this.#o.bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((e) => this.#fail(e, `LIST ${prefix}`));
      for (const o of r.Contents ?? []) out.push({ key: o.Key ?? '', bytes: Number(o.Size ?? 0) });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.#s3.destroy();
  }
}
