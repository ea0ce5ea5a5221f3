import type { Command } from 'commander';
import { ctx } from '../context.ts';
import { ago, printData, table } from '../output.ts';

interface Token {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens (admin)');
  token
    .command('create <name>')
    .description('create a token; its secret is printed once')
    .requiredOption('--role <role>', 'admin, operator or viewer')
    .option('--expires-days <n>', 'days until it expires', (v) => Number(v))
    .action(async (name, o, cmd) => {
      const { client, format } = ctx(cmd);
      const r = await client.post<{ token: Token; secret: string }>('/api/v1/tokens', {
        name,
        role: o.role,
        expiresInDays: o.expiresDays,
      });
      if (!printData(r, format)) process.stdout.write(`${r.secret}\n`);
      process.stderr.write(
        `token ${r.token.name} (${r.token.role}) created; the secret above is shown only once\n`,
      );
    });
  token
    .command('ls')
    .description('list tokens')
    .action(async (_o, cmd) => {
      const { client, format } = ctx(cmd);
      const list = await client.get<Token[]>('/api/v1/tokens');
      if (!printData(list, format)) {
        process.stdout.write(
          table(
            ['NAME', 'ROLE', 'CREATED', 'LAST USED', 'EXPIRES', 'REVOKED'],
            list.map((t) => [
              t.name,
              t.role,
              ago(t.createdAt),
              ago(t.lastUsedAt),
              t.expiresAt ?? 'never',
              t.revoked ? 'yes' : 'no',
            ]),
          ),
        );
      }
    });
  token
    .command('revoke <idOrName>')
    .description('revoke a token')
    .action(async (id, _o, cmd) => {
      await ctx(cmd).client.delete(`/api/v1/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`token ${id} revoked\n`);
    });
}
