/** `--wait`: follow a job until it ends, printing each step as it starts and finishes. */
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Client } from '../client.ts';

interface JobView {
  id: string;
  kind: string;
  status: string;
  error: string | null;
  steps: {
    name: string;
    startedAt: string | null;
    endedAt: string | null;
    attempts: number;
    error: string | null;
  }[];
}

export async function waitForJob(
  client: Client,
  jobId: string,
  opts: { timeoutMs: number; quiet: boolean; label: string },
): Promise<JobView> {
  const deadline = Date.now() + opts.timeoutMs;
  const seen = new Map<string, string>();
  const say = (s: string) => {
    if (!opts.quiet) process.stderr.write(`${opts.label}: ${s}\n`);
  };
  for (;;) {
    const job = await client.get<JobView>(`/api/v1/jobs/${jobId}`);
    for (const st of job.steps) {
      const phase = st.endedAt ? (st.error ? 'failed' : 'done') : st.startedAt ? 'running' : 'pending';
      const key = `${phase}:${st.attempts}`;
      if (phase !== 'pending' && seen.get(st.name) !== key) {
        seen.set(st.name, key);
        say(
          `${st.name} ${phase}${st.attempts > 1 ? ` (attempt ${st.attempts})` : ''}${st.error ? `: ${st.error}` : ''}`,
        );
      }
    }
    if (job.status === 'done') return job;
    if (job.status === 'failed' || job.status === 'cancelled') {
      throw new IngotError(
        ErrorCode.StepFailed,
        `${job.kind} ${job.status}${job.error ? `: ${job.error}` : ''}`,
        {
          details: { job: job.id },
        },
      );
    }
    if (Date.now() > deadline) {
      throw new IngotError(
        ErrorCode.Timeout,
        `gave up waiting after ${Math.round(opts.timeoutMs / 1000)} s; the job goes on: \`ingot machine events\` shows its progress`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
