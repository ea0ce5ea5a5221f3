/**
 * An image upload cut short by kill -9 of the region: after the restart the image is `failed`
 * with the reason (not `importing` forever), its partial file is gone from
 * artifacts/images/.incoming/, and the name can be imported again.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from './support/region.ts';
import { type ServeProcess, startServe } from './support/serve-process.ts';

interface Image {
  name: string;
  status: string;
  statusReason: string;
}

describe('an interrupted image import', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-import-kill-'));
  const incoming = join(dataDir, 'artifacts', 'images', '.incoming');
  let serve: ServeProcess | null = null;
  after(async () => {
    await serve?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is failed with the reason after a restart, and its partial file removed', async () => {
    serve = await startServe(dataDir);
    const url = new URL(`${serve.url}/api/v1/images/half?format=raw`);
    // An upload that sends 8 MiB and then nothing more, as a client killed mid-way would.
    const upload = request(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/octet-stream' },
      // The region's self-signed certificate is its own CA: trusted for this request alone.
      ca: serve.certPem!,
    });
    upload.on('error', () => undefined);
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 8; i++) upload.write(chunk);
    await eventually(
      async () =>
        existsSync(incoming) && readdirSync(incoming).some((f) => statSync(join(incoming, f)).size > 0),
      20_000,
      'the partial file',
    );
    assert.equal((await serve.api<Image>('GET', '/api/v1/images/half')).status, 'importing');
    await serve.kill('SIGKILL');
    upload.destroy();

    serve = await startServe(dataDir);
    const img = await serve.api<Image>('GET', '/api/v1/images/half');
    assert.equal(img.status, 'failed');
    assert.match(img.statusReason, /^interrupted: the region stopped during the import/);
    assert.deepEqual(readdirSync(incoming), [], 'no partial file is left');
    // The name is free for a new import at once.
    const again = await serve.fetch(`${serve.url}/api/v1/images/half?format=raw`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1 << 20, 1),
    });
    assert.equal(again.status, 201, await again.text());
  });
});
