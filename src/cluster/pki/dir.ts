import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { expiryOf } from './generate.ts';
import { type ClusterTokens, keyFileOf, PKI_FILES, type PkiMaterial } from './types.ts';

const TOKENS = 'tokens.yaml';
const EXPIRY = 'expiry.json';

function required(): string[] {
  const crts = [
    PKI_FILES.ca,
    PKI_FILES.etcdCa,
    PKI_FILES.frontProxyCa,
    PKI_FILES.apiserverEtcdClient,
    PKI_FILES.admin,
  ];
  return [...crts, ...crts.map(keyFileOf), PKI_FILES.saKey, PKI_FILES.saPub].sort();
}

/** Reads a PKI directory written by writePkiDir; null when none exists. Half a directory is an error. */
export function readPkiDir(dir: string): PkiMaterial | null {
  if (!existsSync(join(dir, TOKENS))) return null;
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const f of required()) {
    const p = join(dir, f);
    if (existsSync(p)) files[f] = readFileSync(p, 'utf8');
    else missing.push(f);
  }
  if (missing.length > 0) {
    throw new IngotError(
      ErrorCode.Config,
      `${dir} is missing ${missing.join(', ')}; restore them from backup, or move the directory away to generate a new PKI (nodes already deployed will then distrust the cluster)`,
    );
  }
  const tokens = parse(readFileSync(join(dir, TOKENS), 'utf8')) as ClusterTokens;
  return { files, tokens, expiry: expiryOf(files) };
}

/** Writes the PKI with every key and token file mode 0600, plus expiry.json. */
export function writePkiDir(dir: string, pki: PkiMaterial): void {
  for (const [f, text] of Object.entries(pki.files)) {
    const p = join(dir, f);
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
    writeFileSync(p, text, { mode: f.endsWith('.crt') || f.endsWith('.pub') ? 0o644 : 0o600 });
  }
  writeFileSync(join(dir, TOKENS), stringify(pki.tokens, { sortMapEntries: true }), { mode: 0o600 });
  writeFileSync(join(dir, EXPIRY), JSON.stringify(pki.expiry, null, 2) + '\n', { mode: 0o644 });
}
