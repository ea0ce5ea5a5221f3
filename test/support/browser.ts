/** Debian's chromium under playwright-core, with the flags of the shared TESTING.md. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { publicKeyPin } from '../../src/tls/fingerprint.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `trust`: a region's self-signed certificate (PEM) the browser accepts by its public key
 * (Chromium's SPKI list), as a person does who checked the fingerprint; nothing else is waived.
 */
export async function launchChromium(
  trust?: string | null,
): Promise<{ browser: Browser; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No --user-data-dir: playwright refuses it in launch() and already gives every launch a
    // fresh temporary profile, which it deletes on close.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(trust
        ? [`--ignore-certificate-errors-spki-list=${publicKeyPin(trust).slice('sha256//'.length)}`]
        : []),
    ],
  });
  return { browser, close: () => browser.close().catch(() => undefined) };
}

/** Builds ui/dist unless it is already there (`npm install` builds it; CI runs `npm test` right after). */
export async function ensureUiBuilt(root: string): Promise<void> {
  if (existsSync(join(root, 'ui/dist/index.html'))) return;
  const { build } = await import('vite');
  await build({ root: join(root, 'ui'), logLevel: 'warn' });
}
